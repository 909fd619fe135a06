/**
 * `dsc respond`: power the card on, type the PIN and the challenge, and print just the response.
 * Exactly the keys a user presses (PRESS:2000, PIN, OK, challenge, OK), so the card's counters, battery
 * and clock move as they would.
 */
import { resolve } from 'node:path';
import { openDeviceForCli, readDeviceForCli } from './open-card.ts';
import { runKeyScript, parseKeyScript } from '../emulator/key-script.ts';
import { cardSuite } from '../firmware/card-suite.ts';
import { luhnCheckDigit } from '../firmware/luhn.ts';
import { lcdWidthChars, powerHoldMs, turnMs } from '../firmware/types.ts';
import { exitFailure, exitOk, parseOptions, pinOption, required, UsageError, write, type Io } from './io.ts';
import { SecretReader, visibleNote } from './secrets.ts';

const help = `usage: dsc respond --device DEVICE.json --pin - --challenge 123456
(--pin - reads the PIN from stdin; left out, it is asked for at a terminal. ${visibleNote})

Runs the whole key sequence on the card in DEVICE.json (hold PRESS, PIN, OK, challenge, OK) and prints
only the response. On a card set up with --check-digit, give the challenge with its Luhn digit, or
without it and the digit is added. The card's clock runs on while the card is off, as a real card's
does: it resumes at the current time (or at the time saved in DEVICE.json, should that be later), so a
time-based suite (T) answers for the step the server expects. --now is accepted and changes nothing.

Exit codes: 0 the response is printed; 1 the card showed something else (wrong PIN on a digipass
card, locked, empty battery): the screen is named on stderr; 2 bad arguments or device file.

example:
  $ dsc respond --device card.json --pin 4826 --challenge 123456
  39842573`;

const expectedTexts = { pin: 'PIN>', challenge: 'CHALLNG>', response: 'a response' } as const;

/** What the card shows instead, said so that the user knows the next step (a lock code is what the server needs). */
function unexpectedScreen(screenId: string, text: string, serial: string): string {
  if (screenId === 'lockCode') {
    return `the card is locked and shows its lock code ${text} (lockCode): an administrator turns it into an unlock code with \`dsc host unlock-code --device ${serial} --lock-code ${text}\``;
  }
  return `the card shows ${JSON.stringify(text)} (${screenId})`;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, { device: { type: 'string' }, pin: { type: 'string' }, challenge: { type: 'string' }, now: { type: 'boolean' } });
  if (values.help) {
    write(io.stdout, help);
    return exitOk;
  }
  const devicePath = resolve(io.cwd, required('device', values.device));
  const pin = await new SecretReader(io).read(values, 'pin', ['pin'], 'PIN');
  let challenge = required('challenge', values.challenge);
  pinOption('pin', pin);
  if (!/^[0-9]+$/.test(challenge)) throw new UsageError(`--challenge expected decimal digits, got ${JSON.stringify(challenge)}`);
  const record = readDeviceForCli(devicePath);
  const suite = cardSuite(record.suite, record.profile);
  const length = suite.question.lengthMax;
  if (record.checkDigit && challenge.length === length) challenge += luhnCheckDigit(challenge);
  const expected = length + (record.checkDigit ? 1 : 0);
  if (challenge.length !== expected) {
    throw new UsageError(`--challenge expected ${length} digits${record.checkDigit ? ` (or ${expected} with the check digit)` : ''} for ${suite.text}, got ${challenge.length}`);
  }
  const card = openDeviceForCli(devicePath, true, 'dsc respond');
  try {
    // Stop at the first screen that is not the expected one: typing on would spend the challenge's digits
    // as another PIN try on a digipass card, and a locked card's lock code would scroll away.
    const steps = [[[`PRESS:${powerHoldMs}`], 'pin'], [[pin, 'OK'], 'challenge'], [[challenge, 'OK'], 'response']] as const;
    for (const [keys, expected] of steps) {
      runKeyScript(card, parseKeyScript(keys));
      if (card.screenId === expected) continue;
      write(io.stderr, `dsc respond: ${unexpectedScreen(card.screenId, card.frame.text, card.info.serial)}, not ${expectedTexts[expected]}`);
      return exitFailure;
    }
    // A response longer than the display shows in turns; read every turn.
    const turns = Math.ceil(suite.digits / lcdWidthChars);
    let response = card.frame.text;
    for (let i = 1; i < turns; i++) response += card.advance(turnMs).text;
    write(io.stdout, response);
    return exitOk;
  } finally {
    card.close();
  }
}
