/**
 * OCRA suite parsing, RFC 6287 §6.
 *
 *   OCRASuite      = Algorithm ":" CryptoFunction ":" DataInput
 *   Algorithm      = "OCRA-1"
 *   CryptoFunction = "HOTP-SHA1-t" | "HOTP-SHA256-t" | "HOTP-SHA512-t", t = 0 or 4..10
 *   DataInput      = [C "-"] QFxx ["-" PH] ["-" Snnn] ["-" TG]
 *
 * The suite string is itself hashed into the DataInput (§5.1), so only upper-case spellings are accepted: a
 * lower-case suite would silently produce a different response. The RFC's own shorter spellings are accepted
 * and keep their text (both sides hash the same string): a one-digit question length (`QH8`, §6.4's example
 * `OCRA-1:HOTP-SHA1-4:QH8-S512`) and the §6.3 defaults `-P` (PSHA1), `-S` (S064) and `-T` (T1M).
 */
import { assertString, describe } from '../assert.ts';

export type HashName = 'SHA1' | 'SHA256' | 'SHA512';
export type QuestionFormat = 'N' | 'A' | 'H';

export interface OcraSuite {
  /** The suite exactly as given; it is part of the HMAC input. */
  readonly text: string;
  readonly hash: HashName;
  /** Response length in digits; 0 means the full HMAC in hex (§5.2). */
  readonly digits: number;
  /** Whether an 8-byte counter C is part of the input. */
  readonly counter: boolean;
  readonly question: { readonly format: QuestionFormat; readonly lengthMax: number };
  /** Hash of the PIN, when the suite has a P field. */
  readonly pin: HashName | undefined;
  /** Session information length in bytes, when the suite has an S field. */
  readonly sessionBytes: number | undefined;
  /** Time step in seconds, when the suite has a T field. */
  readonly timeStepSeconds: number | undefined;
}

export const responseDigitsMin = 4;
export const responseDigitsMax = 10;
export const questionLengthMin = 4;
export const questionLengthMax = 64;
export const sessionBytesMax = 999;
export const hashBytes: Readonly<Record<HashName, number>> = { SHA1: 20, SHA256: 32, SHA512: 64 };

/** RFC 6287 §6.3's defaults for a bare `P`, `S` or `T` field. */
export const defaultPinHash: HashName = 'SHA1';
export const defaultSessionBytes = 64;
export const defaultTimeStepSeconds = 60;

const timeUnitSeconds = { S: 1, M: 60, H: 3600 } as const;
/** §6.3: seconds 1-59, minutes 1-59, hours 0-48; a zero step is meaningless, so hours start at 1. */
const timeUnitCountMax = { S: 59, M: 59, H: 48 } as const;

function fail(suite: string, why: string): never {
  throw new RangeError(`"suite" ${why}, got ${describe(suite)}`);
}

function parseHashName(suite: string, text: string, where: string): HashName {
  if (text === 'SHA1' || text === 'SHA256' || text === 'SHA512') return text;
  return fail(suite, `${where} expected SHA1, SHA256 or SHA512 (not ${JSON.stringify(text)})`);
}

/**
 * Parse and validate an OCRA suite.
 * @example
 * parseSuite('OCRA-1:HOTP-SHA1-8:QN06-PSHA1').digits // 8
 */
export function parseSuite(value: unknown): OcraSuite {
  const text = assertString('suite', value);
  const parts = text.split(':');
  if (parts.length !== 3) fail(text, 'expected "OCRA-1:HOTP-SHAx-t:DataInput"');
  const [algorithm, cryptoFunction, dataInput] = parts as [string, string, string];
  if (algorithm !== 'OCRA-1') fail(text, `expected algorithm "OCRA-1" (not ${JSON.stringify(algorithm)})`);

  // No leading zeros: "-08" and "-8" would hash differently yet mean the same, so only one spelling is valid.
  const crypto = /^HOTP-([A-Z0-9]+)-(0|[1-9]\d*)$/.exec(cryptoFunction);
  if (!crypto) fail(text, `expected crypto function "HOTP-SHAx-t" (not ${JSON.stringify(cryptoFunction)})`);
  const hash = parseHashName(text, crypto[1]!, 'crypto function hash');
  const digits = Number(crypto[2]);
  if (crypto[2]!.length > 2 || !(digits === 0 || (digits >= responseDigitsMin && digits <= responseDigitsMax))) {
    fail(text, `expected truncation 0 or ${responseDigitsMin}..${responseDigitsMax} digits (not ${crypto[2]})`);
  }

  const fields = dataInput.split('-');
  let index = 0;
  const counter = fields[index] === 'C';
  if (counter) index++;

  const q = /^Q([NAH])(\d{1,2})$/.exec(fields[index] ?? '');
  if (!q) fail(text, `expected a question field QN/QA/QH with one or two digits (not ${JSON.stringify(fields[index] ?? '')})`);
  const lengthMax = Number(q[2]);
  if (lengthMax < questionLengthMin || lengthMax > questionLengthMax) {
    fail(text, `expected question length ${questionLengthMin}..${questionLengthMax} (not ${q[2]})`);
  }
  index++;

  let pin: HashName | undefined;
  let sessionBytes: number | undefined;
  let timeStepSeconds: number | undefined;
  // Optional fields come in the DataInput order P, S, T, each at most once (§5.1, §6.3).
  const order = ['P', 'S', 'T'];
  let lastOrder = -1;
  for (; index < fields.length; index++) {
    const field = fields[index]!;
    const kind = order.indexOf(field.charAt(0));
    if (kind < 0 || kind <= lastOrder) fail(text, `unexpected or repeated data input field ${JSON.stringify(field)} (order is [C-]Q[-P][-S][-T])`);
    lastOrder = kind;
    if (field.startsWith('P')) {
      pin = field === 'P' ? defaultPinHash : parseHashName(text, field.slice(1), 'PIN hash');
    } else if (field === 'S') {
      sessionBytes = defaultSessionBytes;
    } else if (field === 'T') {
      timeStepSeconds = defaultTimeStepSeconds;
    } else if (field.startsWith('S')) {
      const s = /^S(\d{3})$/.exec(field);
      const bytes = s ? Number(s[1]) : 0;
      if (!s || bytes < 1) fail(text, `expected session field Snnn with nnn = 001..${sessionBytesMax} (not ${JSON.stringify(field)})`);
      sessionBytes = bytes;
    } else {
      const t = /^T([1-9]\d?)([SMH])$/.exec(field);
      if (!t) fail(text, `expected time field T<n>S, T<n>M or T<n>H (not ${JSON.stringify(field)})`);
      const unit = t[2] as keyof typeof timeUnitSeconds;
      const count = Number(t[1]);
      if (count < 1 || count > timeUnitCountMax[unit]) {
        fail(text, `expected time step 1..${timeUnitCountMax[unit]}${unit} (not ${JSON.stringify(field)})`);
      }
      timeStepSeconds = count * timeUnitSeconds[unit];
    }
  }

  return {
    text,
    hash,
    digits,
    counter,
    question: { format: q[1] as QuestionFormat, lengthMax },
    pin,
    sessionBytes,
    timeStepSeconds,
  };
}
