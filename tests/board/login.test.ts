/**
 * The whole login through the reference board on a simulated ATmega328P: the real firmware ELF on
 * simavr, its keypad pressed through the key-matrix model (bouncing contacts), its LCD read from
 * simavr's HD44780 model, and `dsc serial` (real clock) running the card on the board's pty.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { boardSkipReason, expectedResponse, expectOnlyFrames, frameTimeoutMs, powerOn, startSession, type, type Session } from './support.ts';

describe.skipIf(boardSkipReason !== null)('the reference board on simavr, driven by dsc serial', () => {
  let session: Session | undefined;
  afterEach(async () => {
    await session?.close();
    session = undefined;
  });

  it.each([
    ['dscplus', ['--pin', '4826'], '4826', '482916'],
    ['digipass', ['--profile', 'digipass', '--pin', '2580'], '2580', '307451'],
  ])('logs in on a %s card: the LCD shows every frame and ends on the response the OCRA engine computes', async (_profile, provision, pin, challenge) => {
    session = await startSession(provision);
    const { board } = session;
    await powerOn(board);
    await type(board, pin);
    await board.waitForLcd((view) => view.text === 'PIN>----', frameTimeoutMs, 'the PIN was not masked as typed');
    await type(board, 'OK');
    await board.waitForLcd((view) => view.text === 'CHALLNG>', frameTimeoutMs, 'no challenge prompt after the PIN');
    await type(board, challenge);
    await board.waitForLcd((view) => view.text === challenge, frameTimeoutMs, 'the challenge was not shown as typed');
    await type(board, 'OK');
    const response = expectedResponse(session.device, pin, challenge);
    await board.waitForLcd((view) => /^\d{8}$/.test(view.text) && view.text !== challenge, frameTimeoutMs, 'no response shown');
    expect(board.view?.text).toBe(response);
    // Every step the card took is on the LCD, in order, and nothing else: one frame per key.
    const texts = board.lcd.map((report) => report.rows[0].trimEnd()).filter((text, i, all) => i === 0 || text !== all[i - 1]);
    const digits = (run: string) => [...run].map((_, i) => run.slice(0, i + 1));
    expect(texts.slice(texts.indexOf('PIN>'))).toEqual(['PIN>', 'PIN>-', 'PIN>--', 'PIN>---', 'PIN>----', 'CHALLNG>', ...digits(challenge), response]);
    expectOnlyFrames(session);
    // No line from the board was refused: exactly one KD and one KU per press reached the card.
    expect(session.card.stderr).not.toMatch(/refused/);
    const downs = session.card.stderr.match(/^rx KD /gm) ?? [];
    const ups = session.card.stderr.match(/^rx KU /gm) ?? [];
    expect(downs.length).toBe(1 + pin.length + 1 + challenge.length + 1);
    expect(ups.length).toBe(downs.length);
  });
});
