/**
 * The progress line of a long run (`dsc conformance` on a real clock takes minutes, with silences of
 * more than the 30 s auto power-off inside one check): checks done of the total, the time so far, and an estimate of the
 * time left from the average time per check so far. On a terminal it is one line rewritten in place
 * every second; otherwise one line after each check.
 */

/** How often the line is redrawn on a terminal, in milliseconds. */
export const progressRedrawMs = 1_000;

export interface Progress {
  /** One more check is done. */
  done(): void;
  /** Wipe the line (before printing a result line on the same terminal). */
  clear(): void;
  /** Stop redrawing and wipe the line. */
  stop(): void;
}

/** m:ss */
export function clockText(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * The text of the line.
 * @example
 * progressText(12, 66, 42_000); // '12/66 checks, 0:42 elapsed, about 3:09 left'
 */
export function progressText(done: number, total: number, elapsedMs: number): string {
  const left = done === 0 ? 'time left not known yet' : `about ${clockText((elapsedMs / done) * Math.max(0, total - done))} left`;
  return `${done}/${total} checks, ${clockText(elapsedMs)} elapsed, ${left}`;
}

/**
 * @example
 * const progress = progressLine(process.stderr, 66);
 * progress.done(); // "progress: 1/66 checks, 0:01 elapsed, about 1:05 left"
 */
export function progressLine(out: NodeJS.WritableStream, total: number, now: () => number = Date.now): Progress {
  const startMs = now();
  const terminal = (out as { isTTY?: boolean }).isTTY === true;
  let done = 0;
  let shown = false;
  const draw = () => {
    out.write(`\r\x1b[2K${progressText(done, total, now() - startMs)}`);
    shown = true;
  };
  const clear = () => {
    if (terminal && shown) out.write('\r\x1b[2K');
    shown = false;
  };
  const timer = terminal ? setInterval(draw, progressRedrawMs) : undefined;
  timer?.unref();
  if (terminal) draw();
  return {
    done() {
      done += 1;
      if (terminal) draw();
      else out.write(`progress: ${progressText(done, total, now() - startMs)}\n`);
    },
    clear,
    stop() {
      if (timer) clearInterval(timer);
      clear();
    },
  };
}
