/**
 * Real pseudo-terminal pairs for the integration tests: `socat -d -d pty,raw,echo=0 pty,raw,echo=0`
 * creates two /dev/pts devices joined back to back, so bytes pass through the kernel's tty layer.
 * Without socat the tests are skipped with a printed reason, except in CI (CI=true), where they fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface PtyPair {
  readonly a: string;
  readonly b: string;
  close(): Promise<void>;
}

/** How long socat may take to report its two ptys (a failure guard). */
const socatStartTimeoutMs = 10_000;

export const socatAvailable = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
export const inCi = process.env.CI === 'true';

/** The reason printed when the pty tests are skipped, or null when they run (socat present, or CI where absence must fail). */
export const ptySkipReason: string | null = socatAvailable || inCi ? null : 'socat is not installed: skipping the serial tests over real pseudo-terminals (apt-get install socat; CI=true makes this a failure)';
if (ptySkipReason !== null) console.warn(`tests/serial: ${ptySkipReason}`);

/**
 * Start socat and resolve with the two pty paths it reports on stderr (`… N PTY is /dev/pts/3`).
 * @example
 * const pair = await ptyPair(); // { a: '/dev/pts/3', b: '/dev/pts/4' }
 */
export async function ptyPair(links?: { a: string; b: string }): Promise<PtyPair> {
  if (!socatAvailable) throw new Error('socat is not installed; CI must install it (.ci/run does)');
  // With links, socat also makes symlinks at fixed paths to the two ptys (and removes them when it exits):
  // a cable that can be pulled out and put back at the same path.
  const end = (link: string | undefined) => `pty,raw,echo=0${link === undefined ? '' : `,link=${link}`}`;
  const child: ChildProcess = spawn('socat', ['-d', '-d', end(links?.a), end(links?.b)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const paths = await new Promise<string[]>((resolve, reject) => {
    let stderr = '';
    const found: string[] = [];
    const timer = setTimeout(() => reject(new Error(`socat did not report two ptys within ${socatStartTimeoutMs} ms: ${stderr}`)), socatStartTimeoutMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      stderr += text;
      for (const match of text.matchAll(/PTY is (\/dev\/\S+)/g)) found.push(match[1]!);
      // socat prints "starting data transfer loop" once both ends exist.
      if (found.length >= 2 && /starting data transfer loop/.test(stderr)) {
        clearTimeout(timer);
        resolve(found.slice(0, 2));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited with ${code} before reporting two ptys: ${stderr}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    a: links?.a ?? paths[0]!,
    b: links?.b ?? paths[1]!,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
