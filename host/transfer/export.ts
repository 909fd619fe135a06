/**
 * Exporting enrolled keys for another OATH server: what each key says about itself (suite, serial, counter,
 * check digit, PIN and how the card uses it, owner, dates, time step) as PSKC keys or OATH CSV lines.
 */
import { profileOfSuite } from '../../firmware/card-suite.ts';
import { parseSuite } from '../../firmware/ocra/index.ts';
import { pinDigits, wrongPinsMax } from '../../firmware/types.ts';
import type { OathCsvKey } from '../oath-csv.ts';
import { ocraFragment, ocraUrn, type PinPolicy, type PskcKey } from '../pskc-model.ts';
import type { ExportedKey } from '../types.ts';

export type PskcAlgorithmChoice = 'ocra' | 'ocra-1';
/** `ocra`: the URN privacyIDEA, NagraID, multiOTP and LinOTP read; `ocra-1`: libpskc's `#OCRA-1` fragment. */
export const pskcAlgorithms: Readonly<Record<PskcAlgorithmChoice, string>> = { ocra: ocraUrn, 'ocra-1': ocraFragment };

export interface PskcExportOptions {
  readonly algorithm?: PskcAlgorithmChoice;
  readonly issuer?: string;
}

export const defaultIssuer = 'dscplus';

/**
 * How the card uses its PIN: a soft-PIN suite (P) mixes it into the response (`Algorithmic`); a digipass
 * card checks it on the keypad (`Local`) and locks after `wrongPinsMax` wrong PINs.
 */
export function pinPolicyOf(suite: string): PinPolicy {
  const lengths = { minLength: pinDigits, maxLength: pinDigits, encoding: 'DECIMAL' };
  return profileOfSuite(suite) === 'dscplus' ? { usage: 'Algorithmic', ...lengths } : { usage: 'Local', ...lengths, maxFailedAttempts: wrongPinsMax };
}

/**
 * The PSKC form of an exported key. The secret is shared, not copied: the caller wipes `ExportedKey.secret`.
 * @example
 * writePskc(host.exportKeys().map((k) => pskcKeyOf(k)), { type: 'none' }, random);
 */
export function pskcKeyOf(key: ExportedKey, options: PskcExportOptions = {}): PskcKey {
  const suite = parseSuite(key.suite);
  return {
    id: key.serial, algorithm: pskcAlgorithms[options.algorithm ?? 'ocra'], suite: key.suite,
    serial: key.serial, manufacturer: 'dscplus', model: key.model, issuer: options.issuer ?? defaultIssuer,
    ...(key.users[0] !== undefined && { userId: key.users[0] }),
    keyUsage: ['CR'], startDate: new Date(key.enrolledMs).toISOString(),
    ...(key.expiresMs !== null && { expiryDate: new Date(key.expiresMs).toISOString() }),
    secret: key.secret,
    ...((suite.counter || key.counter !== 0) && { counter: key.counter }),
    ...(suite.timeStepSeconds !== undefined && { timeInterval: suite.timeStepSeconds }),
    ...(suite.digits !== 0 && { responseLength: suite.digits }),
    // The card takes exactly the suite's question length (the Luhn digit, when asked for, comes on top).
    checkDigits: key.checkDigit, challengeMin: suite.question.lengthMax, challengeMax: suite.question.lengthMax,
    pinPolicy: pinPolicyOf(key.suite), ...(key.pin !== undefined && { pin: key.pin }),
  };
}

/** The OATH CSV form of an exported key (privacyIDEA's columns, then this host's name=value columns). */
export function oathCsvKeyOf(key: ExportedKey): OathCsvKey {
  return {
    serial: key.serial, suite: key.suite, secret: key.secret, counter: key.counter, checkDigits: key.checkDigit,
    ...(key.pin !== undefined && { pin: key.pin }), ...(key.users[0] !== undefined && { userId: key.users[0] }),
  };
}
