/**
 * Which OCRA suites a card can run, and the defaults of each profile.
 *
 * The card has only digit keys and an 8-character display, so its suites ask numeric questions (QN)
 * and answer in decimal digits; it has no way to receive session information (S).
 */
import { describe } from './assert.ts';
import { parseSuite, type OcraSuite } from './ocra/index.ts';
import { suiteCharsMax } from './memory.ts';
import type { Profile } from './types.ts';

/** The longest challenge the keypad takes, check digit not counted (OneSpan cards take up to 17 with it). */
export const challengeDigitsMax = 16;

/**
 * The default suite of each profile.
 * - dscplus: the soft PIN is mixed into the response (P), as the DSC+ does: the card cannot tell a wrong PIN.
 * - digipass: the card checks the PIN itself, so the response must not depend on it: the user can change
 *   the PIN on the keypad, and the server, which never learns that new PIN, must still verify responses.
 *   No counter either: the server never reissues a challenge to a card, which already stops replays,
 *   and a counter would only add a resynchronisation problem.
 */
export const defaultSuites: Readonly<Record<Profile, string>> = {
  dscplus: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1',
  digipass: 'OCRA-1:HOTP-SHA1-8:QN06',
};

/** Secret length when none is given: the output length of the suite's hash (RFC 4226 §4 R6 asks for at least 128 bits). */
export const defaultSecretBytes = { SHA1: 20, SHA256: 32, SHA512: 64 } as const;

/**
 * Parse `suite` and check that a card of `profile` can run it; RangeError naming the suite otherwise.
 * @example
 * cardSuite('OCRA-1:HOTP-SHA1-8:QN06-PSHA1', 'dscplus').question.lengthMax // 6
 */
export function cardSuite(suite: string, profile: Profile): OcraSuite {
  const parsed = parseSuite(suite);
  const why = (reason: string): never => {
    throw new RangeError(`"suite" ${reason}, got ${describe(suite)}`);
  };
  if (parsed.text.length > suiteCharsMax) why(`expected at most ${suiteCharsMax} characters`);
  if (parsed.question.format !== 'N') why('expected a numeric question (QNxx): the card has only digit keys');
  if (parsed.question.lengthMax > challengeDigitsMax) why(`expected a question of at most ${challengeDigitsMax} digits (QN04..QN${challengeDigitsMax})`);
  if (parsed.digits === 0) why('expected a decimal response (HOTP-SHAx-4..10): the card cannot show a hex HMAC');
  if (parsed.sessionBytes !== undefined) why('expected no session information (Snnn): the card cannot receive it');
  if (profile === 'digipass' && parsed.pin !== undefined) {
    why('expected no PIN hash (P) for the digipass profile: it checks the PIN on the card, and a PIN changed on the keypad would break every response');
  }
  return parsed;
}

/**
 * The profile a card running `suite` must have: a suite with a PIN hash (P) is a dscplus card, whose soft
 * PIN is mixed into every response; one without is a digipass card, which checks the PIN itself (see
 * `defaultSuites`). Used where only a suite is known: a PSKC key, a conformance target.
 * @example
 * profileOfSuite('OCRA-1:HOTP-SHA1-8:QN06-PSHA1') // 'dscplus'
 */
export function profileOfSuite(suite: string | OcraSuite): Profile {
  const parsed = typeof suite === 'string' ? parseSuite(suite) : suite;
  return parsed.pin === undefined ? 'digipass' : 'dscplus';
}
