/**
 * `dsc` for tests, two ways:
 * - `runDscInProcess`: `main(argv, io)` in this process with captured streams, the same code path as the
 *   binary after start-up. Bad-input and exit-code matrices use it: a process start costs more than the
 *   command itself.
 * - `runDsc`: the real binary as a user runs it, for the few tests about the process itself (start-up,
 *   native modules, argv, exit codes, several processes sharing files). It runs the TypeScript sources
 *   (DSC_FROM_SOURCES=1, also set for every test in vitest.config.ts), never the bundle in dist/.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../cli/main.ts';

export const dscPath = fileURLToPath(new URL('../../bin/dsc.js', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runDsc(args: string[], options: SpawnSyncOptions & { input?: string } = {}): CliResult {
  const env = { ...(options.env ?? process.env), DSC_FROM_SOURCES: '1' };
  const result = spawnSync(process.execPath, [dscPath, ...args], { encoding: 'utf8', timeout: 60_000, ...options, env });
  if (result.error) throw result.error;
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export interface InProcessOptions {
  readonly input?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** A stream that keeps what is written to it, for an `Io` in a test. */
export function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * `dsc ARGS` through `main(argv, io)`: the exit code `bin/dsc.js` would set and what it would print.
 * A bug (an exception other than a usage error) rejects, as the binary would crash.
 * @example
 * expect(await runDscInProcess(['ocra', '--help'])).toMatchObject({ status: 0 });
 */
export async function runDscInProcess(args: string[], options: InProcessOptions = {}): Promise<CliResult> {
  const stdout = capture();
  const stderr = capture();
  const stdin = new PassThrough();
  stdin.end(options.input ?? '');
  const status = await main(args, { stdin, stdout: stdout.stream, stderr: stderr.stream, env: options.env ?? process.env, cwd: options.cwd ?? process.cwd() });
  await new Promise((done) => setImmediate(done));
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * `dsc provision ARGS --out PATH` in this process, refused only by failing the test (with dsc's message).
 * @example
 * const device = await provisionCard(join(dir, 'card.json'), ['--pin', '2580']);
 */
export async function provisionCard(path: string, args: string[] = []): Promise<string> {
  const result = await runDscInProcess(['provision', ...args, '--out', path]);
  if (result.status !== 0) throw new Error(`dsc provision ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return path;
}
