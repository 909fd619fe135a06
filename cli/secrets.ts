/**
 * Secrets (passwords, PINs, keys, seeds, responses, temporary codes, session tokens) reach every `dsc` command
 * without touching the command line, where other users of the machine can read them (`ps`, /proc): an option given as `-` is read
 * from stdin, one line per such option in the order the command's help lists them; an option left out is
 * asked for at a prompt (not echoed) when stdin is a terminal. A value on the command line still works, for
 * scripts on a machine of their own, and the help says it is visible.
 */
import { UsageError, type Io } from './io.ts';

/** Stdin read for secrets is bounded: a few short lines. */
export const secretInputBytesMax = 64 * 1024;

export const visibleNote = 'An option value on the command line is visible to other users (ps): give - to read it from stdin, or leave it out to be asked.';

export class SecretReader {
  #lines: string[] | undefined;

  constructor(private readonly io: Io) {}

  async #stdinLines(): Promise<string[]> {
    if (this.#lines) return this.#lines;
    let text = '';
    for await (const chunk of this.io.stdin as AsyncIterable<Buffer | string>) {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (text.length > secretInputBytesMax) throw new UsageError(`stdin: more than ${secretInputBytesMax} bytes of secrets`);
    }
    this.#lines = text.split(/\r?\n/);
    return this.#lines;
  }

  async #prompt(label: string): Promise<string> {
    const stdin = this.io.stdin as NodeJS.ReadStream;
    this.io.stderr.write(`${label}: `);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    try {
      return await new Promise<string>((resolve, reject) => {
        let value = '';
        const onData = (chunk: string): void => {
          for (const c of chunk) {
            if (c === '\r' || c === '\n') {
              stdin.off('data', onData);
              resolve(value);
              return;
            }
            if (c === '\u0003') {
              stdin.off('data', onData);
              reject(new UsageError('interrupted'));
              return;
            }
            if (c === '\u007f' || c === '\b') value = value.slice(0, -1);
            else if (value.length < 1_024) value += c;
          }
        };
        stdin.on('data', onData);
      });
    } finally {
      stdin.setRawMode(false);
      stdin.pause();
      this.io.stderr.write('\n');
    }
  }

  /**
   * The secret option `name`: its `-` line from stdin, a prompt, or (visible) the argument.
   * `order` lists the command's secret options in stdin order.
   */
  async read(values: Readonly<Record<string, unknown>>, name: string, order: readonly string[], label: string): Promise<string> {
    const given = values[name] as string | undefined;
    if (given === '-') {
      const lines = await this.#stdinLines();
      const index = order.filter((n) => values[n] === '-').indexOf(name);
      const line = lines[index];
      if (line === undefined || line === '') throw new UsageError(`--${name} -: stdin has no line ${index + 1} for it (one line per option given as -, in the order ${order.map((n) => `--${n}`).join(', ')})`);
      return line;
    }
    if (given !== undefined) {
      if (given === '') throw new UsageError(`--${name} is empty`);
      return given;
    }
    if ((this.io.stdin as NodeJS.ReadStream).isTTY) return this.#prompt(label);
    throw new UsageError(`--${name} is required (give - to read it from stdin)`);
  }

  /** An optional secret option: its `-` line from stdin, the (visible) argument, or undefined when left out. */
  async optional(values: Readonly<Record<string, unknown>>, name: string, order: readonly string[]): Promise<string | undefined> {
    if (values[name] === undefined) return undefined;
    return this.read(values, name, order, name);
  }
}
