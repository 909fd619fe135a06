/**
 * The reference board (board/dscplus_board) running on simavr through the harness board/sim/board-sim,
 * driven from TypeScript: build it, start it, press its keys as a finger would, and watch its LCD.
 * Used by `npm run board:sim` (board/sim/main.ts), the tests in tests/board/ and `npm run bench`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const boardDir = fileURLToPath(new URL('..', import.meta.url));
export const buildDir = join(boardDir, 'build');
export const elfPath = join(buildDir, 'dscplus_board.elf');
export const harnessPath = join(buildDir, 'board-sim');
export const dscPath = fileURLToPath(new URL('../../bin/dsc.js', import.meta.url));

/** Failure guard: the harness reports its pty at once; this covers a loaded machine. */
export const harnessStartTimeoutMs = 10_000;
/** Failure guard for the board and `dsc serial` to greet each other (the board says HI every second). */
export const connectTimeoutMs = 20_000;
/** The keys the board has, by wire name. */
export const boardKeys = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'OK', 'BACK', 'PRESS'] as const;
export type BoardKey = (typeof boardKeys)[number];

/** One settled state of the simulated LCD: microseconds of simulated time and its two rows. */
export interface LcdReport {
  readonly atUs: number;
  readonly rows: readonly [string, string];
}

/** What a person reads on the LCD: row 1 is the frame text, row 2 the indicators. */
export interface LcdView {
  readonly text: string;
  readonly lowBattery: boolean;
  readonly locked: boolean;
  /** false while the board shows NO PC (the PC has not answered its hello). */
  readonly linked: boolean;
}

export function viewOf(report: LcdReport): LcdView {
  const [top, bottom] = report.rows;
  return { text: top.trimEnd(), lowBattery: bottom.slice(0, 4) === 'BATT', locked: bottom.slice(5, 9) === 'LOCK', linked: bottom.slice(11, 16) !== 'NO PC' };
}

/** Why the board cannot be built and simulated here (a missing tool), or null when it can. */
export function boardToolsMissing(): string | null {
  const probes: Array<[string, string[], string]> = [
    ['make', ['--version'], 'make'],
    ['avr-gcc', ['--version'], 'gcc-avr'],
    ['cc', ['--version'], 'a C compiler (gcc)'],
  ];
  for (const [command, args, what] of probes) {
    if (spawnSync(command, args, { stdio: 'ignore' }).status !== 0) return `${what} is not installed (${command} ${args.join(' ')} failed)`;
  }
  // Debian's libsimavr-dev: the headers and the static archives the Makefile links.
  const multiarch = spawnSync('cc', ['-print-multiarch'], { encoding: 'utf8' }).stdout.trim();
  for (const file of ['/usr/include/simavr/sim_avr.h', '/usr/include/simavr/parts/uart_pty.h', `/usr/lib/${multiarch}/libsimavr.a`, `/usr/lib/${multiarch}/libsimavrparts.a`]) {
    if (!existsSync(file)) return `libsimavr-dev is not installed (${file} is missing)`;
  }
  return null;
}

/** Build the firmware and the harness when their sources changed (make decides); throws with make's output. */
export function buildBoard(): void {
  const result = spawnSync('make', ['-C', boardDir, '--no-print-directory', 'all', 'sim'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building the board failed (make -C ${boardDir} all sim):\n${result.stdout}${result.stderr}`);
}

/**
 * The simulated board: its UART is the pty `pty`; its LCD's settled states arrive in `lcd`.
 * @example
 * const board = await SimBoard.start();
 * // … dsc serial --port board.pty …
 * await board.press('PRESS', 2000);
 */
export class SimBoard {
  readonly lcd: LcdReport[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #pending = '';
  #stderr = '';
  readonly #listeners = new Set<(line: string) => void>();

  private constructor(child: ChildProcess, readonly pty: string) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Start the harness on the built ELF (call buildBoard first); resolves once its pty exists. */
  static async start(): Promise<SimBoard> {
    const child = spawn(harnessPath, [elfPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buffered = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    const pty = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`board-sim reported no pty within ${harnessStartTimeoutMs} ms: ${stderr}`)), harnessStartTimeoutMs);
      child.once('exit', (code) => reject(new Error(`board-sim exited (${code}) before reporting its pty: ${stderr}`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        const match = /^pty (\S+)\n/.exec(buffered);
        if (match !== null) {
          clearTimeout(timer);
          lines.push(buffered.slice(match[0].length));
          resolve(match[1]!);
        }
      });
    });
    child.stdout!.removeAllListeners('data');
    child.removeAllListeners('exit');
    const board = new SimBoard(child, pty);
    child.stderr!.on('data', (chunk: Buffer) => {
      // simavr's HD44780 part logs every byte written to it; keep what else the harness says.
      const text = chunk.toString('utf8').replace(/^hd44780_write_(data|command) [0-9a-f]*\n?/gm, '');
      board.#stderr = (board.#stderr + text).slice(-4000);
    });
    child.stdout!.on('data', (chunk: Buffer) => board.#read(chunk.toString('latin1')));
    board.#read(lines.join(''));
    return board;
  }

  #read(text: string): void {
    this.#pending += text;
    let end: number;
    while ((end = this.#pending.indexOf('\n')) >= 0) {
      const line = this.#pending.slice(0, end);
      this.#pending = this.#pending.slice(end + 1);
      const lcd = /^lcd (\d+) "(.{16})" "(.{16})"$/.exec(line);
      if (lcd !== null) this.lcd.push({ atUs: Number(lcd[1]), rows: [lcd[2]!, lcd[3]!] });
      if (line.startsWith('error ')) this.#stderr += `board-sim: ${line}\n`;
      for (const listener of this.#listeners) listener(line);
    }
  }

  /** Every report line of the harness (lcd, key, reset, stack, error), as it arrives. */
  onReport(listener: (line: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #command(line: string): void {
    this.#child.stdin!.write(`${line}\n`);
  }

  /** A finger closes a key (the contact bounces, then stays closed). */
  down(key: BoardKey): void {
    this.#command(`down ${key}`);
  }

  up(key: BoardKey): void {
    this.#command(`up ${key}`);
  }

  /** Press a key for `holdMs` of real time (the simulation runs in step with the wall clock). */
  async press(key: BoardKey, holdMs: number): Promise<void> {
    this.down(key);
    await sleep(holdMs);
    this.up(key);
  }

  /** Reset the microcontroller, as the PC's DTR line does on an Arduino. */
  reset(): void {
    this.#command('reset');
  }

  /** Bytes mixed into the line: `in` towards the board's receiver, `out` towards the PC. */
  noise(direction: 'in' | 'out', bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#command(`noise-${direction} ${Buffer.from(bytes).toString('hex')}`);
  }

  /** The deepest the stack has gone so far, in bytes (stack painting). */
  async stackHighWater(): Promise<number> {
    const line = await this.#next(/^stack (\d+)$/, () => this.#command('stack'), 'no stack report');
    return Number(/^stack (\d+)$/.exec(line)![1]);
  }

  /** The simulated CPU's state (program counter, run state, time, I flag, UART status), for diagnosing a failure. */
  async cpuState(): Promise<string> {
    return this.#next(/^cpu /, () => this.#command('cpu'), 'no cpu report', 2_000).catch((error: Error) => error.message);
  }

  /** The last settled LCD state. */
  get view(): LcdView | null {
    const last = this.lcd.at(-1);
    return last === undefined ? null : viewOf(last);
  }

  /** Wait until the LCD settles in a state satisfying `predicate` (or is in one now). */
  async waitForLcd(predicate: (view: LcdView) => boolean, timeoutMs: number, what: string): Promise<LcdView> {
    const now = this.view;
    if (now !== null && predicate(now)) return now;
    const line = await this.#next(/^lcd /, () => {}, what, timeoutMs, (text) => {
      const report = this.lcd.at(-1);
      return text.startsWith('lcd ') && report !== undefined && predicate(viewOf(report));
    });
    void line;
    return this.view!;
  }

  #next(pattern: RegExp, start: () => void, what: string, timeoutMs = harnessStartTimeoutMs, accept: (line: string) => boolean = (line) => pattern.test(line)): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`${what} (waited ${timeoutMs} ms); board-sim stderr: ${this.#stderr.slice(-500)}`));
      }, timeoutMs);
      const unsubscribe = this.onReport((line) => {
        if (!accept(line)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(line);
      });
      start();
    });
  }

  /** Stop the harness (quit, then SIGTERM if it lingers) and wait for it to exit. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#command('quit');
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill('SIGTERM'), 2_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `dsc serial` on the board's pty, as a child process; its stdout lists every frame it sent. */
export interface SerialCard {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  stop(): Promise<number | null>;
}

/**
 * Wait until the board and `dsc serial` have greeted each other: dsc serial says so on stderr (with
 * --trace, its trace shows the board's hello), and
 * the board's LCD drops NO PC. Rejects when dsc serial exits first (a bad device file: exit 2).
 */
/** dsc serial's stderr once the board greeted it: its notice, or under --trace the board's HI or HA. */
const cardGreeted = /board \S+ \S+ \(serial \S+\) connected|^rx H[IA] \d+ \d+ DSCBOARD /m;

export async function waitConnected(board: SimBoard, card: SerialCard, timeoutMs = connectTimeoutMs): Promise<void> {
  let onExit = (_code: number | null) => {};
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onExit = (code) => reject(new Error(`dsc serial exited (${code}) before the board connected: ${card.stderr.trim()}`));
      card.child.once('exit', onExit);
      timer = setTimeout(() => reject(new Error(`the board and dsc serial did not connect within ${timeoutMs} ms: ${card.stderr.trim()}`)), timeoutMs);
      const check = () => {
        if (cardGreeted.test(card.stderr) && board.view?.linked === true) resolve();
        else poll = setTimeout(check, 20);
      };
      check();
    });
  } finally {
    card.child.off('exit', onExit);
    clearTimeout(timer);
    clearTimeout(poll);
  }
}

export function startSerialCard(pty: string, devicePath: string, extraArgs: readonly string[] = []): SerialCard {
  const child = spawn(process.execPath, [dscPath, 'serial', '--port', pty, '--device', devicePath, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const card: SerialCard = {
    child,
    stdout: '',
    stderr: '',
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  child.stdout!.on('data', (chunk: Buffer) => (card.stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (card.stderr += chunk.toString('utf8')));
  return card;
}
