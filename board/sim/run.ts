/**
 * `npm run board:sim -- --device DEV.json KEY…` (its entry: board/sim/main.ts): the reference board on a
 * simulated ATmega328P, with `dsc serial` running the card in DEV.json against its UART. The keys (the `dsc press` syntax)
 * are pressed on the simulated keypad in real time, and every text the simulated LCD shows is
 * printed, one per line: after `PRESS:2000 1234 OK 123456 OK` the last line is the response.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KeyScriptError, keyScriptHelp, parseKeyScript, type ScriptAction } from '../../emulator/key-script.ts';
import { boardToolsMissing, buildBoard, SimBoard, sleep, startSerialCard, viewOf, waitConnected, type BoardKey, type LcdView } from './sim-board.ts';

/**
 * Every hold lasts this much longer than the script asks: the card times a hold from the KD line to
 * the KU line, and both reach it a debounce and a line later than the finger moved, give or take a
 * scan and the PC's scheduling. Without it, PRESS:2000 would race the card's own 2000 ms timer.
 */
export const holdMarginMs = 50;
/** A finger lifts between two presses for this long (real time), as a person typing. */
export const keyGapMs = 60;
/** After the last key: the LCD counts as final once `dsc serial` sent no frame for this long. */
export const quietMs = 400;
/** Failure guard for the last frame to reach the LCD after the last key. */
export const finalFrameTimeoutMs = 10_000;

const usage = `usage: npm run board:sim -- --device DEVICE.json [--trace] KEY…

Builds the reference board (board/, avr-gcc) and its simulator harness (simavr) if needed, runs the
board on a simulated ATmega328P with dsc serial serving the card in DEVICE.json on its UART, presses
KEY… on its keypad in real time (each hold ${holdMarginMs} ms longer than asked, for the debounce
and the line) and prints every text its LCD shows, one per line ((blank) for an empty display;
[LOW BATTERY] and [LOCKED] when the indicators are lit).
  ${keyScriptHelp} (BATTERY:… is not a key: the board cannot change the card's battery)
  --trace   dsc serial's trace of every line on the wire, on stderr

example:
  $ npm run board:sim -- --device card.json PRESS:2000 1234 OK 123456 OK`;

function line(view: LcdView): string {
  return `${view.text === '' ? '(blank)' : view.text}${view.lowBattery ? '  [LOW BATTERY]' : ''}${view.locked ? '  [LOCKED]' : ''}`;
}

/** What the tool gets from its process (board/sim/main.ts hands in the real ones; tests capture them). */
export interface SimIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/**
 * `npm run board:sim -- ARGV`; returns the exit code (2 for bad arguments or device file).
 * @example
 * process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
 */
export async function main(argv: string[], io: SimIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { device: { type: 'string' }, trace: { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true });
  } catch (error) {
    io.stderr.write(`board:sim: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(`${usage}\n`);
    return 0;
  }
  if (values.device === undefined) {
    io.stderr.write(`board:sim: --device is required\n${usage}\n`);
    return 2;
  }
  let actions: ScriptAction[];
  try {
    actions = parseKeyScript(positionals);
  } catch (error) {
    if (!(error instanceof KeyScriptError)) throw error;
    io.stderr.write(`board:sim: ${error.message}\n`);
    return 2;
  }
  const battery = actions.find((action) => action.type === 'battery');
  if (battery !== undefined) {
    io.stderr.write('board:sim: BATTERY:… is not a key: the board has no way to change the card\'s battery\n');
    return 2;
  }
  const missing = boardToolsMissing();
  if (missing !== null) {
    io.stderr.write(`board:sim: ${missing}; install gcc-avr, avr-libc, simavr, libsimavr-dev and libelf-dev\n`);
    return 1;
  }
  buildBoard();

  const board = await SimBoard.start();
  let printed = '';
  board.onReport((report) => {
    if (!report.startsWith('lcd ')) return;
    const text = line(viewOf(board.lcd.at(-1)!));
    if (text === printed) return;
    printed = text;
    io.stdout.write(`${text}\n`);
  });
  // npm runs scripts from the package root; a relative --device means the caller's directory.
  const device = resolve(io.env.INIT_CWD ?? io.cwd, values.device);
  const card = startSerialCard(board.pty, device, values.trace ? ['--trace'] : []);
  if (values.trace) card.child.stderr!.on('data', (chunk: Buffer) => io.stderr.write(chunk));
  try {
    await waitConnected(board, card);
    for (const action of actions) {
      if (action.type === 'wait') {
        await sleep(action.ms);
      } else if (action.type === 'press') {
        await board.press(action.key as BoardKey, action.holdMs + holdMarginMs);
        await sleep(keyGapMs);
      }
    }
    await settle(board, card);
    return 0;
  } catch (error) {
    io.stderr.write(`board:sim: ${(error as Error).message}\n`);
    return card.child.exitCode === 2 ? 2 : 1;
  } finally {
    await card.stop();
    await board.stop();
  }
}

/** Wait until dsc serial has sent no frame for quietMs and the LCD shows the last one it sent. */
async function settle(board: SimBoard, card: { stdout: string }): Promise<void> {
  const deadline = Date.now() + finalFrameTimeoutMs;
  for (;;) {
    const before = card.stdout;
    await sleep(quietMs);
    const frames = [...card.stdout.matchAll(/^frame \d+ {2}"([^"]*)"/gm)];
    const last = frames.at(-1)?.[1];
    if (card.stdout === before && (last === undefined || board.view?.text === last)) return;
    if (Date.now() > deadline) throw new Error(`the LCD never showed the card's last frame ${JSON.stringify(last)} (it shows ${JSON.stringify(board.view?.text)})`);
  }
}

