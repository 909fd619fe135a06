/**
 * Cables come and go: noticing that a port's device is gone (a USB adapter pulled out, a
 * pseudo-terminal whose other end closed), and waiting, bounded, for it to come back.
 *
 * The read side alone does not tell: a pseudo-terminal whose master closed reports nothing to a
 * reader, and a USB adapter may vanish between two reads. So the path itself is watched: it must keep
 * naming the device that was opened (the same device number), else the port is gone.
 */
import { statSync } from 'node:fs';

/** How often a port's path is looked at, in milliseconds (a gone cable is noticed within this). */
export const portPollMs = 250;
/** How long `dsc serial` and `dsc bridge` wait for a vanished port by default, in seconds. */
export const reconnectSecondsDefault = 30;
/** The longest wait `--reconnect-s` takes, in seconds. */
export const reconnectSecondsMax = 3_600;

/** The device number `path` names now (following a symlink), or null when it names nothing. */
export function deviceNumber(path: string): number | null {
  try {
    const stat = statSync(path);
    return stat.isCharacterDevice() ? stat.rdev : null;
  } catch {
    return null;
  }
}

/**
 * Call `onGone` once, within `portPollMs`, when `path` stops naming the device it names now.
 * Returns the function that stops watching.
 * @example
 * const stop = watchPortPath('/dev/ttyUSB0', () => console.log('unplugged'));
 */
export function watchPortPath(path: string, onGone: () => void): () => void {
  const opened = deviceNumber(path);
  const timer = setInterval(() => {
    // (Gone already when the path named nothing at the start: it vanished right after the open.)
    if (opened !== null && deviceNumber(path) === opened) return;
    clearInterval(timer);
    onGone();
  }, portPollMs);
  // Not unref'd: while a link is paused (its peer does not read) this timer is what keeps the process
  // serving; without it Node would find nothing left to wait for and exit under our feet.
  return () => clearInterval(timer);
}

/**
 * Wait up to `timeoutMs` for `path` to name a device again and open it with `open`; resolves with
 * the port, or null when the time ran out or `signal` was aborted.
 * @example
 * const port = await waitForPort('/dev/ttyUSB0', () => openPort('/dev/ttyUSB0', 115_200), 30_000, abort.signal);
 */
export async function waitForPort<P>(path: string, open: () => Promise<P>, timeoutMs: number, signal: AbortSignal): Promise<P | null> {
  const deadline = Date.now() + timeoutMs;
  while (!signal.aborted && Date.now() < deadline) {
    if (deviceNumber(path) !== null) {
      try {
        return await open();
      } catch {
        // Not ready yet (the device node appears before the driver lets it open): try again.
      }
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(portPollMs, Math.max(0, deadline - Date.now())));
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
  return null;
}
