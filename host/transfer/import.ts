/**
 * Importing keys read from a PSKC container or an OATH CSV file into the host: every key is checked before
 * anything is written, and then either all are enrolled in one transaction, or (with `skipUnsupported`) the
 * usable ones are, and every other key is listed with its reason. Each refusal names the key and the field.
 */
import { cardSuite, profileOfSuite } from '../../firmware/card-suite.ts';
import { parseSuite } from '../../firmware/ocra/index.ts';
import { isPin } from '../../firmware/pin.ts';
import { pinDigits } from '../../firmware/types.ts';
import { HostError } from '../errors.ts';
import type { Host } from '../host.ts';
import { isOcra, type PskcKey } from '../pskc-model.ts';
import type { PskcRead, PskcSkipped } from '../pskc-read.ts';
import type { DeviceKind } from '../store.ts';
import type { DeviceInfo, EnrolKeyInput } from '../types.ts';
import { checkName, serialCharsMax, userCharsMax } from '../validate.ts';

/** RFC 4226 §4 R6: a shared secret of at least 128 bits (160 recommended). */
export const secretBitsMin = 128;
/**
 * The highest counter an imported key may carry: 2^32 − 1 logins (one a second for 136 years) leaves every
 * later verification far below the engine's safe-integer bound, so no imported value can make it throw.
 */
export const importCounterMax = 2 ** 32 - 1;

export interface ImportOptions {
  /** Assign every key to this user; otherwise to the key's own UserId, if any. */
  readonly user?: string;
  /** The PIN for keys whose file carries none (a fallback: a PIN key in the file wins). */
  readonly pin?: string;
  readonly kind?: DeviceKind;
  /** Import what can be imported and list the rest, instead of refusing the whole file. */
  readonly skipUnsupported?: boolean;
  /** For ExpiryDate checks. */
  readonly nowMs: number;
}

export interface ImportResult {
  readonly imported: DeviceInfo[];
  readonly skipped: PskcSkipped[];
  readonly warnings: string[];
}

/** The whole file is refused: `first` is the first bad key (all-or-nothing); nothing was written. */
export class ImportRefused extends Error {
  override name = 'ImportRefused';
  constructor(readonly first: PskcSkipped, readonly skipped: readonly PskcSkipped[]) {
    super(`${first.reason}${skipped.length > 1 ? ` (and ${skipped.length - 1} more key(s) with problems; --skip-unsupported imports the others)` : ''}`);
  }
}

class Unusable extends Error {
  constructor(readonly field: string, reason: string) {
    super(reason);
  }
}

function enrolInput(key: PskcKey, options: ImportOptions): EnrolKeyInput {
  if (!isOcra(key)) throw new Unusable('Algorithm', `${JSON.stringify(key.algorithm)} is not an OCRA key`);
  const suite = key.suite!;
  let parsed;
  try {
    parsed = parseSuite(suite);
  } catch (error) {
    throw new Unusable('AlgorithmParameters/Suite', (error as Error).message);
  }
  // The profile follows the suite (one rule, firmware/card-suite.ts), except that a container whose PIN policy
  // says the PIN is mixed into the response (Algorithmic) describes a DSC+ card whatever its suite.
  const profile = key.pinPolicy?.usage === 'Algorithmic' ? 'dscplus' : profileOfSuite(parsed);
  try {
    cardSuite(suite, profile);
  } catch (error) {
    throw new Unusable('AlgorithmParameters/Suite', `${(error as Error).message.replace(/^"suite" /, '')}: a keypad card cannot run it`);
  }
  if (key.secret.length * 8 < secretBitsMin) throw new Unusable('Data/Secret', `${key.secret.length * 8} bits is below the ${secretBitsMin} RFC 4226 §4 R6 requires`);
  if (key.counter !== undefined && key.counter > importCounterMax) throw new Unusable('Data/Counter', `${key.counter} is above ${importCounterMax}`);
  if (key.timeInterval !== undefined && parsed.timeStepSeconds !== undefined && key.timeInterval !== parsed.timeStepSeconds) {
    throw new Unusable('Data/TimeInterval', `${key.timeInterval} s contradicts the suite's time step of ${parsed.timeStepSeconds} s`);
  }
  if (key.expiryDate !== undefined && Date.parse(key.expiryDate) <= options.nowMs) throw new Unusable('Policy/ExpiryDate', `the key expired on ${key.expiryDate}`);
  const serial = key.serial ?? key.id;
  try {
    checkName('serial', serial, serialCharsMax);
  } catch (error) {
    throw new Unusable(key.serial !== undefined ? 'DeviceInfo/SerialNo' : 'Id', (error as Error).message);
  }
  const user = options.user ?? key.userId;
  if (user !== undefined) {
    try {
      checkName('user', user, userCharsMax);
    } catch (error) {
      throw new Unusable('UserId', (error as Error).message);
    }
  }
  const pin = key.pin ?? options.pin;
  if (pin !== undefined && !isPin(pin)) throw new Unusable(key.pin !== undefined ? 'Policy/PINPolicy PIN key' : '--pin', `the PIN is not ${pinDigits} digits`);
  if (parsed.pin !== undefined && pin === undefined) throw new Unusable('Policy/PINPolicy', `the suite mixes the PIN into every response, and the file has no PIN key for it (give a fallback PIN)`);
  return {
    serial, profile, suite, secret: key.secret, ...(user !== undefined && { user }), ...(key.model !== undefined && { model: key.model }),
    ...(key.checkDigits !== undefined && { checkDigit: key.checkDigits }), ...(key.counter !== undefined && { counter: key.counter }),
    ...(pin !== undefined && { pin }), ...(options.kind && { kind: options.kind }),
  };
}

/**
 * Enrol the OCRA keys of `read` (from readPskc or readOathCsv). The caller wipes the keys' secrets afterwards.
 * @example
 * await importKeys(host, readPskc(text, { password }), { nowMs: Date.now(), skipUnsupported: true });
 */
export async function importKeys(host: Host, read: PskcRead, options: ImportOptions): Promise<ImportResult> {
  const skipped: PskcSkipped[] = [...read.skipped];
  const inputs: EnrolKeyInput[] = [];
  for (const key of read.keys) {
    try {
      inputs.push(enrolInput(key, options));
    } catch (error) {
      if (!(error instanceof Unusable)) throw error;
      skipped.push({ id: key.id, field: error.field, reason: `key ${JSON.stringify(key.id)} ${error.field}: ${error.message}` });
    }
  }
  if (!options.skipUnsupported) {
    if (skipped.length > 0) throw new ImportRefused(skipped[0]!, skipped);
    return { imported: await host.enrollKeys(inputs), skipped, warnings: read.warnings };
  }
  const imported: DeviceInfo[] = [];
  for (const input of inputs) {
    try {
      imported.push(await host.enrollKey(input));
    } catch (error) {
      // A serial already enrolled with another key, for example: that key is skipped, the others go on.
      if (!(error instanceof HostError) || !error.badInput) throw error;
      skipped.push({ id: input.serial, field: 'DeviceInfo/SerialNo', reason: `key ${JSON.stringify(input.serial)}: ${error.message}` });
    }
  }
  return { imported, skipped, warnings: read.warnings };
}
