/**
 * What the tester knows about the card under test, and how it checks a response: from the device file
 * (the secret unsealed with the device key, as the host enrols it) or from a PSKC key container.
 */
import { readFileSync } from 'node:fs';
import { decodeImage } from '../firmware/memory.ts';
import { enrolmentData, recordImage } from '../firmware/device-record.ts';
import { matchResponse, prepareOcra, parseSuite, timeStepAt, type MatchWindow, type OcraInputs, type OcraSuite } from '../firmware/ocra/index.ts';
import { luhnCheckDigit } from '../firmware/luhn.ts';
import { profileOfSuite } from '../firmware/card-suite.ts';
import { checkPin, isPin } from '../firmware/pin.ts';
import type { Profile } from '../firmware/types.ts';
import { parsePskc, PskcError } from '../host/pskc.ts';
import { DeviceFileError, readDeviceFile } from '../emulator/card.ts';

/** How far ahead of the last known counter a counter-suite response is searched (a card may have been used meanwhile). */
export const counterLookAhead = 100;
/** Time steps either side of now tried for a time-based suite (clocks drift; a virtual clock starts at provisioning). */
export const timeStepWindow = 2;

export interface Target {
  readonly serial: string;
  readonly profile: Profile;
  readonly suite: OcraSuite;
  readonly checkDigit: boolean;
  /** The PIN the card accepts now (digipass) or the soft PIN to type (dscplus). */
  readonly pin: string;
  /** The OCRA counter the card will use next, when the suite has one (searched forward from here). */
  counter: number;
  /** The secret in the clear; `wipe()` zeroes it. */
  readonly secret: Uint8Array;
  wipe(): void;
}

/** The device file or PSKC container cannot be used; the CLI exits 2 with this message. */
export class TargetError extends Error {
  override name = 'TargetError';
}

/**
 * From a device file: serial, profile, suite, secret and PIN exactly as the host would enrol them.
 * @example
 * const target = targetFromDeviceFile('card.json'); // … target.wipe()
 */
export function targetFromDeviceFile(path: string, pinOverride?: string): Target {
  let record;
  try {
    record = readDeviceFile(path);
  } catch (error) {
    if (error instanceof DeviceFileError) throw new TargetError(error.message);
    throw error;
  }
  const data = enrolmentData(record);
  const pin = pinOverride ?? data.pin;
  if (pin === undefined) {
    data.secret.fill(0);
    throw new TargetError(`device file ${JSON.stringify(path)} holds no PIN (the card was ordered without one); give --pin`);
  }
  const counter = decodeImage(recordImage(record)).state.counter;
  return makeTarget({ serial: data.serial, profile: data.profile, suite: parseSuite(data.suite), checkDigit: data.checkDigit, pin, counter, secret: data.secret });
}

/**
 * From a PSKC container (RFC 6030): the OCRA key whose serial is `serial`. The profile follows the
 * suite: a suite that hashes the PIN (P) is a soft-PIN card (dscplus), one without checks the PIN itself (digipass).
 */
export function targetFromPskc(path: string, serial: string, pin: string | undefined, password?: string): Target {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TargetError(`PSKC file ${JSON.stringify(path)} cannot be read: ${(error as Error).message}`);
  }
  let keys;
  try {
    keys = parsePskc(text, password === undefined ? {} : { password });
  } catch (error) {
    if (error instanceof PskcError || error instanceof RangeError || error instanceof TypeError) throw new TargetError(`PSKC file ${JSON.stringify(path)}: ${(error as Error).message}`);
    throw error;
  }
  const key = keys.find((candidate) => candidate.serial === serial && candidate.suite !== undefined);
  for (const other of keys) if (other !== key) other.secret.fill(0);
  if (key === undefined) throw new TargetError(`PSKC file ${JSON.stringify(path)} holds no OCRA key for serial ${JSON.stringify(serial)}`);
  // The container's PIN key (dsc host export writes one when the host holds the PIN) unless --pin overrides it.
  const cardPin = pin ?? key.pin;
  if (cardPin === undefined) {
    key.secret.fill(0);
    throw new TargetError('--pin is required with --pskc when the container has no PIN key for this card');
  }
  const suite = parseSuite(key.suite);
  return makeTarget({ serial, profile: profileOfSuite(suite), suite, checkDigit: key.checkDigits ?? false, pin: cardPin, counter: key.counter ?? 0, secret: key.secret });
}

function makeTarget(fields: Omit<Target, 'wipe'>): Target {
  if (!isPin(fields.pin)) {
    fields.secret.fill(0);
    try {
      checkPin('--pin', fields.pin);
    } catch (error) {
      throw new TargetError((error as Error).message);
    }
  }
  return { ...fields, wipe: () => fields.secret.fill(0) };
}

/** A challenge the card takes: the suite's question length in digits, plus the Luhn digit when configured. */
export function challengeToType(target: Target, question: string): string {
  return target.checkDigit ? question + luhnCheckDigit(question) : question;
}

/** The tester's window: wider than a login server's, since a card may have been used between runs. */
export const conformanceWindow: MatchWindow = { counterLookAhead, timeStepWindow };

/**
 * Does `shown` answer `question` under the target's secret (and `pin`)? For counter suites the counter
 * is searched forward and remembered; time suites try the steps around now.
 */
export function responseConforms(target: Target, question: string, shown: string, pin: string | undefined, nowMs = Date.now()): boolean {
  const key = prepareOcra(target.suite, target.secret);
  try {
    const base: OcraInputs = { challenge: question, ...(target.suite.pin && { pin: pin ?? '' }) };
    const nowStep = target.suite.timeStepSeconds !== undefined ? timeStepAt(target.suite, nowMs) : undefined;
    const match = matchResponse(key, base, shown, { counter: target.counter, ...(nowStep !== undefined && { nowStep }) }, conformanceWindow);
    if (match === null) return false;
    if (match.counter !== undefined) target.counter = match.counter + 1;
    return true;
  } finally {
    key.destroy();
  }
}
