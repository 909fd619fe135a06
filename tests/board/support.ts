/**
 * Shared set-up of the simulated-board tests: the real firmware ELF on simavr (board/sim), `dsc serial`
 * on its pty, and the checks every test makes of what the LCD showed. Without avr-gcc or simavr the
 * tests are skipped with a printed reason, except in CI (CI=true), where they run and fail.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { enrolmentData, parseDeviceRecord } from '../../firmware/device-record.ts';
import { ocra } from '../../firmware/ocra/index.ts';
import { boardToolsMissing, buildBoard, SimBoard, sleep, startSerialCard, viewOf, waitConnected, type BoardKey, type SerialCard } from '../../board/sim/sim-board.ts';
import { runDscInProcess } from '../support/cli.ts';
import { referenceOcra } from '../support/reference-ocra.ts';

const inCi = process.env.CI === 'true';
const missing = boardToolsMissing();
/** The reason printed when these tests are skipped, or null when they run. */
export const boardSkipReason: string | null = missing === null || inCi ? null : `${missing}: skipping the simulated-board tests (apt-get install gcc-avr avr-libc simavr libsimavr-dev libelf-dev; CI=true makes this a failure)`;
if (boardSkipReason !== null) console.warn(`tests/board: ${boardSkipReason}`);

/** A person's short press, and the pause between two presses (real time: the card keeps real time). */
export const holdMs = 100;
export const gapMs = 60;
/** Failure guard for a frame to reach the LCD (a line or two at 115200 baud, or a resend after 2 s). */
export const frameTimeoutMs = 8_000;

export interface Session {
  readonly dir: string;
  readonly device: string;
  readonly board: SimBoard;
  readonly card: SerialCard;
  close(): Promise<void>;
}

/** Provision a card, build and start the board, start dsc serial on it and wait until they are connected. */
export async function startSession(provision: readonly string[]): Promise<Session> {
  buildBoard();
  const dir = mkdtempSync(join(tmpdir(), 'dsc-board-'));
  const device = join(dir, 'card.json');
  const made = await runDscInProcess(['provision', ...provision, '--out', device]);
  if (made.status !== 0) throw new Error(`dsc provision failed: ${made.stderr}`);
  const board = await SimBoard.start();
  const card = startSerialCard(board.pty, device, ['--trace']);
  const session: Session = {
    dir,
    device,
    board,
    card,
    async close() {
      await card.stop();
      await board.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitConnected(board, card);
  } catch (error) {
    await session.close();
    throw error;
  }
  return session;
}

/** Press keys as `dsc press` names them (a run of digits is one press each), each until its frame shows. */
export async function type(board: SimBoard, keys: string): Promise<void> {
  for (const token of keys.split(' ')) {
    const presses: BoardKey[] = /^\d+$/.test(token) ? ([...token] as BoardKey[]) : [token as BoardKey];
    for (const key of presses) {
      await board.press(key, holdMs);
      await sleep(gapMs);
    }
  }
}

/** Hold PRESS until the card is on (its own 2 s timer) and release it. */
export async function powerOn(board: SimBoard): Promise<void> {
  board.down('PRESS');
  await board.waitForLcd((view) => view.text === 'PIN>', 2_000 + frameTimeoutMs, 'the card never showed PIN> while PRESS was held');
  board.up('PRESS');
  await sleep(gapMs);
}

/** The response the card must show, from the device file's secret, by the firmware's OCRA engine and by the independent reference. */
export function expectedResponse(device: string, pin: string, challenge: string): string {
  const data = enrolmentData(parseDeviceRecord(JSON.parse(readFileSync(device, 'utf8'))));
  try {
    // The PIN is part of the OCRA input only when the suite says so (dscplus: PSHA1); digipass checks it on the card.
    const engine = ocra(data.suite, data.secret, /-P/.test(data.suite) ? { challenge, pin } : { challenge });
    const reference = referenceOcra({ suite: data.suite, keyHex: Buffer.from(data.secret).toString('hex'), question: challenge, pin }).response;
    expect(engine).toBe(reference);
    return engine;
  } finally {
    data.secret.fill(0);
  }
}

/** The texts of the frames dsc serial sent to the board (its stdout: `frame N  "TEXT"`). */
export function framesSent(card: SerialCard): string[] {
  return [...card.stdout.matchAll(/^frame \d+ {2}"([^"]*)"/gm)].map((match) => match[1]!);
}

/**
 * The LCD never shows more than the frame: row 1 is a text the card sent (8 characters at most, the
 * rest blank) and row 2 holds nothing but the indicator words.
 */
export function expectOnlyFrames(session: Session): void {
  const sent = new Set(['', ...framesSent(session.card)]);
  expect(session.board.lcd.length).toBeGreaterThan(0);
  for (const report of session.board.lcd) {
    const [top, bottom] = report.rows;
    expect(top.slice(8), `row 1 past column 8 at ${report.atUs} us`).toBe(' '.repeat(8));
    expect(sent, `row 1 ${JSON.stringify(top)} was never sent by the card`).toContain(viewOf(report).text);
    expect(bottom).toMatch(/^(BATT| {4}) (LOCK| {4})  (NO PC| {5})$/);
  }
}
