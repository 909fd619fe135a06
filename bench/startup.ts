/**
 * Start-up, the cost every `dsc` command and every user pays before any work. Each row is a ratio taken
 * in alternating rounds against a reference measured in the same run (`alternateSamples`):
 *
 * - `dsc --help` against `node -e 0` (bare Node start-up);
 * - `dsc emulate`, spawn to the first drawn LCD in a pseudo-terminal, against a Node process that only
 *   loads Ink (and with it React), the least any Ink program pays, in the same pseudo-terminal;
 * - the CLI login cycle (`dsc host challenge` → `dsc respond` → `dsc host verify`, three processes, as
 *   the README's host section runs them) from the bundle against the same cycle with DSC_FROM_SOURCES=1,
 *   the tsx path every command took before the bundle.
 *
 * The pseudo-terminal is util-linux `script`, sized 120×40 with stty, so the emulator draws on the same
 * path as in a user's terminal. The section first builds the bundle, so it measures what `npm install`
 * leaves behind, never a stale bundle (which `bin/dsc.js` would refuse anyway, running tsx instead).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { alternateSamples, type Row } from './harness.ts';

const repo = resolve(import.meta.dirname, '..');
const dsc = join(repo, 'bin/dsc.js');
/** Rounds of each alternating comparison; a start-up takes 0.1 to 1 s, so these keep the section under a minute. */
const helpRounds = 15;
const emulatorRounds = 7;
const cycleRounds = 7;
/** A start that has not drawn after this long is a failure, not a slow sample. */
const startDeadlineMs = 30_000;
const firstFrameMarker = 'display:';
const fromSources = { ...process.env, DSC_FROM_SOURCES: '1' };

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

/** Run one process to its end; its stdout, trimmed, and the time it took. A failure is a broken bench, not a sample. */
function timed(args: string[], cwd: string, env: NodeJS.ProcessEnv): { ms: number; out: string } {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, out: result.stdout.trim() };
}

/** One login through three `dsc` processes; the time of the whole cycle. */
function loginCycle(cwd: string, env: NodeJS.ProcessEnv): number {
  const challenge = timed([dsc, 'host', 'challenge', '--user', 'bench'], cwd, env);
  const response = timed([dsc, 'respond', '--device', 'card.json', '--pin', '2580', '--challenge', challenge.out], cwd, env);
  const verify = timed([dsc, 'host', 'verify', '--user', 'bench', '--challenge', challenge.out, '--response', response.out], cwd, env);
  // exit 0 (checked by timed) is the login; its stdout is the session token.
  if (!/^[0-9a-f]{64}$/.test(verify.out)) throw new Error('login cycle: host verify printed no session token');
  return challenge.ms + response.ms + verify.ms;
}

const row = (name: string, value: number, ratio: number, reference: string, note: string): Row => ({ section: 'startup', name, value, unit: 'ms', ratio, reference, note });

/**
 * @example
 * printTable(await bench()); // start-up rows, each a ratio against its reference in the same run
 */
export async function bench(): Promise<Row[]> {
  const build = spawnSync(process.execPath, [join(repo, 'scripts/build.js')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`the bundle did not build: ${build.stderr}`);
  const rows: Row[] = [];
  const work = mkdtempSync(join(tmpdir(), 'dsc-bench-startup-'));
  try {
    const node = () => Promise.resolve(timed(['-e', '0'], work, process.env).ms);
    const help = await alternateSamples([node, () => Promise.resolve(timed([dsc, '--help'], work, process.env).ms)], helpRounds);
    rows.push(row('reference: node -e 0', help.medians[0]!, 1, 'itself', `median of ${helpRounds} rounds`));
    rows.push(row('dsc --help', help.medians[1]!, help.ratiosToFirst[1]!, 'node -e 0', 'target ≤ 1.6×'));

    timed([dsc, 'provision', '--pin', '2580', '--out', 'card.json'], work, process.env);
    timed([dsc, 'host', 'enroll', '--user', 'bench', '--device', 'card.json'], work, process.env);
    const cycle = await alternateSamples([() => Promise.resolve(loginCycle(work, fromSources)), () => Promise.resolve(loginCycle(work, process.env))], cycleRounds);
    rows.push(row('reference: login cycle from the sources (tsx)', cycle.medians[0]!, 1, 'itself', `challenge → respond → verify, 3 processes, median of ${cycleRounds} rounds`));
    rows.push(row('login cycle from the bundle', cycle.medians[1]!, cycle.ratiosToFirst[1]!, 'from the sources', 'target ≤ 0.5×'));

    if (spawnSync('script', ['--version']).status !== 0) {
      rows.push({ section: 'startup', name: 'dsc emulate: first drawn LCD', value: Number.NaN, unit: 'ms', note: 'skipped: util-linux `script` (a pseudo-terminal) is missing' });
      return rows;
    }
    const ink = new URL(import.meta.resolve('ink')).pathname;
    const loadInk = () => timeInPty(`node --input-type=module -e 'await import(${JSON.stringify(ink)})'`, work, undefined);
    const nodeInPty = () => timeInPty('node -e 0', work, undefined);
    const firstStart = async () => {
      const fresh = mkdtempSync(join(tmpdir(), 'dsc-bench-first-'));
      try {
        return await timeInPty(`node ${dsc} emulate`, fresh, firstFrameMarker);
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
    };
    await timeInPty(`node ${dsc} emulate`, work, firstFrameMarker); // make the demo once
    const frame = await alternateSamples([loadInk, nodeInPty, () => timeInPty(`node ${dsc} emulate`, work, firstFrameMarker), firstStart], emulatorRounds);
    const inkReference = 'node + loading Ink';
    rows.push(row('reference: node -e 0 in a pty', frame.medians[1]!, frame.ratiosToFirst[1]!, inkReference, `median of ${emulatorRounds} rounds`));
    rows.push(row('reference: node + loading Ink in a pty', frame.medians[0]!, 1, 'itself', ''));
    rows.push(row('dsc emulate: spawn to the first drawn LCD', frame.medians[2]!, frame.ratiosToFirst[2]!, inkReference, 'demo already made; target ≤ 3×'));
    rows.push(row('dsc emulate first start: provision + enrol + draw', frame.medians[3]!, frame.ratiosToFirst[3]!, inkReference, ''));
    return rows;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
