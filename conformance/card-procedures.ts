/**
 * What the checks do to a card again and again: power it on, read a response (turn by turn when it is
 * longer than the LCD), answer a challenge and verify it, set a PIN, and bring the card back to a known
 * state (off, its own PIN set, no wrong PINs counted, not locked) whatever it shows.
 */
import { randomInt } from 'node:crypto';
import { prompts } from '../firmware/screens.ts';
import { lcdWidthChars } from '../firmware/types.ts';
import { unlockCode } from '../firmware/unlock.ts';
import { ConformanceError } from './driver.ts';
import type { Conformance } from './harness.ts';
import { challengeToType, responseConforms } from './target.ts';

/** The new PIN the screen table's PIN-change scripts set; restored to the card's PIN afterwards. */
export const tableNewPin = '4827';
/** The PIN the screen table's scripts assume the card has (its "default" device). */
export const tablePin = '2580';
/** The wrong PIN the table's scripts type. */
export const tableWrongPin = '1111';

/** The PIN prompt with nothing typed (the table's example shows it full). */
export const emptyPinText = prompts.pin;

export async function powerOn(c: Conformance): Promise<void> {
  await c.driver.off(c.hold, c.table.display.idleTimeoutMs);
  await c.driver.press('PRESS', c.hold);
}

/** Read a response from the display, turn by turn when it is longer than the LCD. */
export async function readResponse(c: Conformance): Promise<string> {
  const frame = c.driver.frame;
  if (frame === null) throw new ConformanceError('no frame');
  let response = frame.text;
  for (let shown = lcdWidthChars; shown < c.target.suite.digits; shown += lcdWidthChars) {
    await c.driver.wait(c.table.display.turnMs);
    response += c.driver.text;
  }
  return response;
}

/** Type a challenge at CHALLNG>, press OK, and check the response shown. Returns false when it does not verify. */
export async function answer(c: Conformance, question: string, pin: string): Promise<boolean> {
  await c.driver.type(challengeToType(c.target, question));
  const before = c.driver.results.length;
  await c.driver.press('OK');
  const produced = c.driver.results.slice(before).at(-1);
  if (produced !== undefined && produced.frame === null) {
    throw new ConformanceError(`challenge ${question}: the frame the card acknowledged (#${produced.ackFrame}) never arrived intact (see the line check)`);
  }
  const response = await readResponse(c);
  if (!/^[0-9]+$/.test(response) || response.length !== c.target.suite.digits) {
    throw new ConformanceError(`challenge ${question}: expected a ${c.target.suite.digits}-digit response, the display shows ${JSON.stringify(c.driver.text)}`);
  }
  return responseConforms(c.target, question, response, pin);
}

export function randomQuestion(c: Conformance): string {
  const length = c.target.suite.question.lengthMax;
  let question = '';
  for (let i = 0; i < length; i++) question += String(randomInt(10));
  return question;
}

export async function setPin(c: Conformance, pin: string): Promise<void> {
  await c.driver.type(pin, 'OK');
  c.expectPrompt('confirmPin', 'setting the PIN: after the new PIN');
  await c.driver.type(pin, 'OK');
  c.expectPrompt('pinSet', 'setting the PIN: after confirming it');
}

/** The lock code of the last lock-code frame the card sent. */
export function lastLockCode(c: Conformance): string {
  const frame = [...c.panel.frames].reverse().find((candidate) => c.screenShows('lockCode', candidate.text));
  if (frame === undefined) throw new ConformanceError('no lock code was shown');
  return frame.text.slice(prompts.lockCodePrefix.length);
}

/** Back to a known state: off, with the card's own PIN set, no wrong PINs counted, not locked. */
export async function restore(c: Conformance): Promise<void> {
  const { driver, target } = c;
  await driver.off(c.hold, c.table.display.idleTimeoutMs);
  if (target.profile !== 'digipass') return;
  await driver.press('PRESS', c.hold);
  if (c.screenShows('lockCode', driver.text)) {
    const code = unlockCode(target.secret, driver.text.slice(prompts.lockCodePrefix.length));
    await driver.type('OK', code, 'OK');
    c.expectPrompt('newPin', 'restoring the card: after the unlock code');
    await setPin(c, target.pin);
  } else if (c.showsPrompt('newPin')) {
    await setPin(c, target.pin);
  } else if (c.screenShows('blocked', driver.text)) {
    throw new ConformanceError('the card is blocked for good; it cannot be tested further');
  } else {
    c.expectScreen('pin', 'restoring the card: at power-on', emptyPinText);
    let accepted: string | undefined;
    for (const candidate of [target.pin, tableNewPin]) {
      await driver.type(candidate, 'OK');
      if (c.showsPrompt('challenge')) {
        accepted = candidate;
        break;
      }
    }
    if (accepted === undefined) throw new ConformanceError(`restoring the card: neither its PIN nor ${tableNewPin} is accepted; the display shows ${JSON.stringify(driver.text)}`);
    if (accepted !== target.pin) {
      await driver.press('PRESS', c.hold);
      c.expectPrompt('newPin', 'restoring the PIN: holding PRESS at CHALLNG>');
      await setPin(c, target.pin);
    }
  }
  await driver.off(c.hold, c.table.display.idleTimeoutMs);
}
