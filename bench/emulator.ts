/**
 * Emulator start-up: time from spawning the real `dsc emulate` in a pseudo-terminal to the first
 * drawn LCD on that terminal (the `display:` small print under the LCD is drawn in the same frame
 * as the glyphs). The pseudo-terminal is util-linux `script`, sized 120×40 with stty, so this is the
 * same path as a user's terminal: tsx loading the sources, Ink, SQLite, the card, the first render.
 *
 * Reference, measured in the same run through the same pseudo-terminal: `dsc --help` (the CLI's
 * start-up without Ink or SQLite) and `node -e 0` (bare Node start-up).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { percentiles, type Row } from './harness.ts';

const repo = resolve(import.meta.dirname, '..');
const dsc = join(repo, 'bin/dsc.js');
/** Runs per measurement: start-up is tens to hundreds of ms, so a few runs give a steady median. */
const runs = 7;
const firstStartRuns = 3;
/** A start that has not drawn after this long is a failure, not a slow sample. */
const startDeadlineMs = 30_000;
const firstFrameMarker = 'display:';

/** Spawn `command` in a 120×40 pseudo-terminal; resolve with ms from spawn to `marker` on the terminal (or to exit). */
function timeInPty(command: string, cwd: string, marker: string | undefined): Promise<number> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn('script', ['-qfec', `stty cols 120 rows 40; exec ${command}`, '/dev/null'], { cwd, stdio: ['pipe', 'pipe', 'ignore'] });
    let output = '';
    let measured: number | undefined;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${command}: nothing drawn after ${startDeadlineMs} ms; output so far: ${JSON.stringify(output.slice(-400))}`));
    }, startDeadlineMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (measured !== undefined || marker === undefined) return;
      output += chunk;
      if (output.includes(marker)) {
        measured = performance.now() - started;
        child.stdin.write('q'); // quit as a user would, and let it restore the terminal
      }
    });
    child.on('exit', (code) => {
      clearTimeout(guard);
      if (marker === undefined) return done(performance.now() - started);
      if (measured === undefined) return fail(new Error(`${command} exited (${code}) before drawing; output: ${JSON.stringify(output.slice(-400))}`));
      done(measured);
    });
  });
}

async function median(times: () => Promise<number>, count: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push(await times());
  return percentiles(samples).median;
}

/**
 * @example
 * printTable(await bench()); // four rows: node -e 0, dsc --help, first frame, first start
 */
export async function bench(): Promise<Row[]> {
  if (spawnSync('script', ['--version']).status !== 0) {
    return [{ section: 'emulator', name: 'time to first frame', value: Number.NaN, unit: 'ms', note: 'skipped: util-linux `script` (a pseudo-terminal) is missing' }];
  }
  const work = mkdtempSync(join(tmpdir(), 'dsc-bench-emulator-'));
  try {
    const node = await median(() => timeInPty('node -e 0', work, undefined), runs);
    const help = await median(() => timeInPty(`node ${dsc} --help`, work, undefined), runs);
    // First start: provision the demo card, enrol it on a new SQLite database, then draw.
    const first = await median(async () => {
      const fresh = mkdtempSync(join(tmpdir(), 'dsc-bench-first-'));
      try {
        return await timeInPty(`node ${dsc} emulate`, fresh, firstFrameMarker);
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
    }, firstStartRuns);
    await timeInPty(`node ${dsc} emulate`, work, firstFrameMarker); // make the demo once
    const again = await median(() => timeInPty(`node ${dsc} emulate`, work, firstFrameMarker), runs);
    const reference = 'dsc --help start-up';
    return [
      { section: 'emulator', name: 'reference: node -e 0 start-up (pty)', value: node, unit: 'ms', note: `median of ${runs}` },
      { section: 'emulator', name: reference, value: help, unit: 'ms', ratio: help / node, reference: 'node -e 0', note: `median of ${runs}` },
      { section: 'emulator', name: 'dsc emulate: spawn to first drawn LCD', value: again, unit: 'ms', ratio: again / help, reference, note: `median of ${runs}, demo already made` },
      { section: 'emulator', name: 'dsc emulate first start: provision + enrol + draw', value: first, unit: 'ms', ratio: first / help, reference, note: `median of ${firstStartRuns}` },
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
