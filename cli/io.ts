/**
 * What every command gets from the process, handed in so tests can run commands in-process
 * with captured streams, and so no command reaches for globals.
 */
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { checkNewPin, checkPin } from '../firmware/pin.ts';

export interface Io {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export function processIo(): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Where the demo card, the demo user and the default host database live, under the working folder. */
export const dataFolderDefault = '.dsc';

/**
 * The folder for dsc's own state: `$DSC_HOME` when set (relative to the working folder), else `./.dsc/`.
 * `npm start` always runs in the package folder, so DSC_HOME is how a test or a user keeps state elsewhere.
 */
export function dataFolder(io: Io): string {
  const home = io.env.DSC_HOME;
  return resolve(io.cwd, home === undefined || home === '' ? dataFolderDefault : home);
}

/** Exit codes shared by every command. */
export const exitOk = 0;
/** An expected negative outcome (a rejected response, a failed conformance check). */
export const exitFailure = 1;
/** Bad arguments or bad input files: nothing was changed. */
export const exitUsage = 2;

/** A problem with what the user typed or supplied; reported as `dsc CMD: message` with exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command's entry point: returns its exit code; never calls process.exit itself. */
export type Command = (argv: string[], io: Io) => Promise<number>;

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `node:util` parseArgs with our error style: an unknown or malformed option is a UsageError that
 * names it, and `--help` is always accepted.
 */
export function parseOptions<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** An option the command cannot run without. */
export function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** A non-negative decimal integer option, as a number (or bigint when `big`). */
export function integerOption(name: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} expected a non-negative integer, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n > max) throw new UsageError(`--${name} expected at most ${max}, got ${value}`);
  return n;
}

/**
 * A PIN option (`--pin`), checked by the firmware's rule, never echoed. `chosen` when the user is choosing
 * the PIN (provisioning): a weak one is then refused, as the card's keypad refuses it.
 * @example
 * const pin = pinOption('pin', values.pin, { chosen: true });
 */
export function pinOption(name: string, value: string, options: { chosen: boolean } = { chosen: false }): string {
  try {
    return (options.chosen ? checkNewPin : checkPin)(`--${name}`, value);
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Read lines from a stream, refusing any longer than `lineCharsMax` (reported, not buffered without bound). */
export async function* readLines(stream: NodeJS.ReadableStream, lineCharsMax: number): AsyncGenerator<string | { tooLong: number }> {
  let pending = '';
  let discarding = 0;
  stream.setEncoding?.('utf8');
  for await (const chunk of stream as AsyncIterable<string>) {
    let text = pending + chunk;
    pending = '';
    let newline: number;
    while ((newline = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, newline).replace(/\r$/, '');
      text = text.slice(newline + 1);
      if (discarding > 0) {
        yield { tooLong: discarding + line.length };
        discarding = 0;
      } else if (line.length > lineCharsMax) {
        yield { tooLong: line.length };
      } else {
        yield line;
      }
    }
    if (discarding > 0 || text.length > lineCharsMax) discarding += text.length;
    else pending = text;
  }
  if (discarding > 0) yield { tooLong: discarding };
  else if (pending.length > 0) yield pending.replace(/\r$/, '');
}
