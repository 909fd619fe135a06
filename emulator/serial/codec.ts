/**
 * The wire form of the serial protocol: one printable-ASCII line per message,
 * `TYPE SEQ FIELD… *CRC\r\n`, e.g. `KD 12 OK*3DC6\r\n`. Pure functions; the grammar and the
 * byte-level examples are in docs/serial-protocol.md.
 *
 * The decoder is strict (single spaces, canonical numbers, upper-case type) so that a line has
 * exactly one spelling and noise that passes the CRC by chance still has to pass the grammar.
 */
import { assertNever } from '../../firmware/assert.ts';
import { crc16Hex } from './crc16.ts';
import {
  errorCodes,
  errorTextCharsMax,
  frameNumberMax,
  frameTextCharsMax,
  identityCharsMax,
  lineBytesMax,
  protocolVersion,
  sequenceModulo,
  timeAdvanceMsMax,
  wireKeys,
  type ClockKind,
  type Decoded,
  type ErrorCode,
  type Identity,
  type LineError,
  type Message,
  type WireKey,
} from './messages.ts';

/** Every line ends with CR LF on the way out; a receiver accepts CR, LF or both. */
export const lineEnd = '\r\n';

const typeCodes = {
  hello: 'HI',
  helloReply: 'HA',
  keyDown: 'KD',
  keyUp: 'KU',
  time: 'TM',
  ack: 'AK',
  frame: 'FR',
  error: 'ER',
} as const satisfies Record<Message['type'], string>;

const identityPattern = /^[A-Za-z0-9._+-]+$/;
const textPattern = /^[ !#-)+-~]*$/; // printable ASCII without '"' (0x22) and '*' (0x2A)
const bodyPattern = /^[ -)+-~]*$/; // printable ASCII without '*' (0x2A), which only ever starts the CRC
const decimalPattern = /^(0|[1-9][0-9]*)$/;

/**
 * Seal a line body: append `*`, the CRC-16/CCITT-FALSE of the body in four upper-case hex digits, and CR LF.
 * Does not validate the body (the fault injection of `dsc bridge` uses it to send malformed frames).
 * @example
 * sealLine('KD 12 OK'); // 'KD 12 OK*3DC6\r\n'
 */
export function sealLine(body: string): string {
  return `${body}*${crc16Hex(body)}${lineEnd}`;
}

/**
 * Make free text safe for a quoted field: unprintable, '"' and '*' become '?'; a text longer than
 * `charsMax` is cut at the last word boundary that fits (a person reads "got", not "OK B").
 * @example
 * wireText('key expected one of 0 1 2 OK BACK', 20); // 'key expected one of'
 */
export function wireText(text: string, charsMax: number): string {
  const safe = text.replace(/[^ !#-)+-~]/g, '?');
  if (safe.length <= charsMax) return safe;
  const space = safe.lastIndexOf(' ', charsMax);
  return (space > 0 ? safe.slice(0, space) : safe.slice(0, charsMax)).trimEnd();
}

function checkSeq(seq: number): number {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq >= sequenceModulo) throw new RangeError(`"seq" expected 0..${sequenceModulo - 1}, got ${seq}`);
  return seq;
}

function checkNumber(name: string, value: number, max: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw new RangeError(`"${name}" expected 0..${max}, got ${value}`);
  return String(value);
}

function identityFields(id: Identity): string {
  for (const name of ['model', 'firmware', 'serial'] as const) {
    const value = id[name];
    if (value.length > identityCharsMax || !identityPattern.test(value)) {
      throw new RangeError(`"${name}" expected 1..${identityCharsMax} of A-Z a-z 0-9 . _ + -, got ${JSON.stringify(value)}`);
    }
  }
  return `${checkNumber('version', id.version, 99)} ${id.model} ${id.firmware} ${id.serial} ${id.clock === 'virtual' ? 'V' : 'R'}`;
}

/** The fields after TYPE SEQ, space-separated (empty for none). Throws RangeError on a value the wire cannot carry. */
function fieldsOf(message: Message): string {
  switch (message.type) {
    case 'hello':
    case 'helloReply':
      return identityFields(message);
    case 'keyDown':
    case 'keyUp':
      if (!(wireKeys as readonly string[]).includes(message.key)) throw new RangeError(`"key" expected one of ${wireKeys.join(' ')}, got ${JSON.stringify(message.key)}`);
      return message.key;
    case 'time':
      if (message.ms < 1) throw new RangeError(`"ms" expected 1..${timeAdvanceMsMax}, got ${message.ms}`);
      return checkNumber('ms', message.ms, timeAdvanceMsMax);
    case 'ack':
      return `${checkSeq(message.ref)} ${checkNumber('frame', message.frame, frameNumberMax)}`;
    case 'frame': {
      if (message.text.length > frameTextCharsMax || !textPattern.test(message.text)) {
        throw new RangeError(`"text" expected at most ${frameTextCharsMax} printable characters without " and *, got ${JSON.stringify(message.text)}`);
      }
      const flags = `${message.lowBattery ? 'B' : '-'}${message.locked ? 'L' : '-'}`;
      return `${checkNumber('frame', message.number, frameNumberMax)} ${flags} "${message.text}"`;
    }
    case 'error':
      return `${message.ref === null ? '-' : checkSeq(message.ref)} ${message.code} "${wireText(message.text, errorTextCharsMax)}"`;
    default:
      return assertNever(message, 'message');
  }
}

/**
 * One message as its wire line, CR LF included.
 * @example
 * encodeLine(12, { type: 'keyDown', key: 'OK' }); // 'KD 12 OK*3DC6\r\n'
 * encodeLine(7, { type: 'frame', number: 3, text: 'PIN>', lowBattery: false, locked: false }); // 'FR 7 3 -- "PIN>"*….\r\n'
 */
export function encodeLine(seq: number, message: Message): string {
  const fields = fieldsOf(message);
  const line = sealLine(`${typeCodes[message.type]} ${checkSeq(seq)}${fields === '' ? '' : ` ${fields}`}`);
  if (line.length - lineEnd.length > lineBytesMax) throw new RangeError(`encoded line of ${line.length} bytes is longer than ${lineBytesMax}`);
  return line;
}

/** Split a body into fields: bare tokens, or one quoted field that may hold spaces. null when malformed. */
function tokenize(body: string): string[] | null {
  const tokens: string[] = [];
  let at = 0;
  while (at < body.length) {
    if (body[at] === '"') {
      const close = body.indexOf('"', at + 1);
      if (close < 0 || (close + 1 < body.length && body[close + 1] !== ' ')) return null;
      tokens.push(body.slice(at, close + 1));
      at = close + 2;
    } else {
      const space = body.indexOf(' ', at);
      const end = space < 0 ? body.length : space;
      if (end === at) return null; // two spaces, or a leading/trailing space
      tokens.push(body.slice(at, end));
      at = end + 1;
    }
    if (at === body.length && body.endsWith(' ')) return null;
  }
  return tokens;
}

class FieldError extends Error {}

function field(tokens: readonly string[], index: number, name: string): string {
  const token = tokens[index];
  if (token === undefined) throw new FieldError(`missing field ${name}`);
  return token;
}

function numberField(tokens: readonly string[], index: number, name: string, max: number): number {
  const token = field(tokens, index, name);
  const value = decimalPattern.test(token) && token.length <= 10 ? Number(token) : Number.NaN;
  if (!(value <= max)) throw new FieldError(`${name} expected a number 0..${max}, got ${JSON.stringify(token)}`);
  return value;
}

function quotedField(tokens: readonly string[], index: number, name: string): string {
  const token = field(tokens, index, name);
  if (token.length < 2 || !token.startsWith('"') || !token.endsWith('"')) throw new FieldError(`${name} expected a quoted text, got ${JSON.stringify(token)}`);
  return token.slice(1, -1);
}

function identityOf(tokens: readonly string[]): Identity {
  const version = numberField(tokens, 0, 'version', 99);
  const [model, firmware, serial] = [1, 2, 3].map((index) => {
    const name = ['', 'model', 'firmware', 'serial'][index]!;
    const value = field(tokens, index, name);
    if (value.length > identityCharsMax || !identityPattern.test(value)) throw new FieldError(`${name} expected 1..${identityCharsMax} of A-Z a-z 0-9 . _ + -, got ${JSON.stringify(value)}`);
    return value;
  }) as [string, string, string];
  const clockToken = field(tokens, 4, 'clock');
  if (clockToken !== 'R' && clockToken !== 'V') throw new FieldError(`clock expected R or V, got ${JSON.stringify(clockToken)}`);
  const clock: ClockKind = clockToken === 'V' ? 'virtual' : 'real';
  return { version, model, firmware, serial, clock };
}

function messageOf(type: string, tokens: readonly string[]): Message | null {
  switch (type) {
    case 'HI':
      return { type: 'hello', ...identityOf(tokens) };
    case 'HA':
      return { type: 'helloReply', ...identityOf(tokens) };
    case 'KD':
    case 'KU': {
      const key = field(tokens, 0, 'key');
      if (!(wireKeys as readonly string[]).includes(key)) throw new FieldError(`key expected 0-9, OK, BACK or PRESS, got ${JSON.stringify(key)}`);
      return { type: type === 'KD' ? 'keyDown' : 'keyUp', key: key as WireKey };
    }
    case 'TM': {
      const ms = numberField(tokens, 0, 'ms', timeAdvanceMsMax);
      if (ms < 1) throw new FieldError(`ms expected 1..${timeAdvanceMsMax}, got 0`);
      return { type: 'time', ms };
    }
    case 'AK':
      return { type: 'ack', ref: numberField(tokens, 0, 'ref', sequenceModulo - 1), frame: numberField(tokens, 1, 'frame', frameNumberMax) };
    case 'FR': {
      const number = numberField(tokens, 0, 'frame', frameNumberMax);
      const flags = field(tokens, 1, 'flags');
      if (!/^[B-][L-]$/.test(flags)) throw new FieldError(`flags expected two characters [B-][L-], got ${JSON.stringify(flags)}`);
      const text = quotedField(tokens, 2, 'text');
      if (text.length > frameTextCharsMax) throw new FieldError(`frame text ${JSON.stringify(text)} has ${text.length} characters, more than the ${frameTextCharsMax} of the LCD`);
      return { type: 'frame', number, text, lowBattery: flags[0] === 'B', locked: flags[1] === 'L' };
    }
    case 'ER': {
      const ref = field(tokens, 0, 'ref') === '-' ? null : numberField(tokens, 0, 'ref', sequenceModulo - 1);
      const code = field(tokens, 1, 'code');
      if (!(errorCodes as readonly string[]).includes(code)) throw new FieldError(`code expected one of ${errorCodes.join(' ')}, got ${JSON.stringify(code)}`);
      return { type: 'error', ref, code: code as ErrorCode, text: quotedField(tokens, 2, 'text') };
    }
    default:
      return null;
  }
}

const fieldCounts: Readonly<Record<string, number>> = { HI: 5, HA: 5, KD: 1, KU: 1, TM: 1, AK: 2, FR: 3, ER: 3 };

function failure(code: LineError['code'], seq: number | null, detail: string): Decoded {
  return { ok: false, error: { code, seq, detail } };
}

/**
 * Decode one line (without its CR/LF). Never throws: a damaged, truncated, unknown or malformed line
 * is a `LineError` naming what is wrong, so noise can never become a message.
 * @example
 * decodeLine('KD 12 OK*3DC6'); // { ok: true, envelope: { seq: 12, message: { type: 'keyDown', key: 'OK' } } }
 * decodeLine('KD 12 OK*3DC7'); // { ok: false, error: { code: 'CRC', seq: null, detail: … } }
 */
export function decodeLine(line: string): Decoded {
  if (line.length > lineBytesMax) return failure('LONG', null, `line of ${line.length} bytes is longer than ${lineBytesMax}`);
  const star = line.lastIndexOf('*');
  if (star < 0 || line.length - star !== 5 || !/^[0-9A-Fa-f]{4}$/.test(line.slice(star + 1))) {
    return failure('SYNTAX', null, 'line does not end in *CRC (four hex digits)');
  }
  const body = line.slice(0, star);
  const expected = crc16Hex(body);
  if (line.slice(star + 1).toUpperCase() !== expected) return failure('CRC', null, `CRC ${line.slice(star + 1)} does not match the line (computed ${expected})`);
  if (!bodyPattern.test(body)) return failure('SYNTAX', null, 'line holds a character outside printable ASCII');
  const tokens = tokenize(body);
  if (tokens === null || tokens.length < 2) return failure('SYNTAX', null, 'line is not TYPE SEQ FIELD… separated by single spaces');
  const [type, seqToken] = tokens as [string, string, ...string[]];
  if (!/^[A-Z]{2}$/.test(type) || !decimalPattern.test(seqToken) || seqToken.length > 3) {
    return failure('SYNTAX', null, `line does not start with a type and a sequence number 0..${sequenceModulo - 1}`);
  }
  const seq = Number(seqToken);
  const fields = tokens.slice(2);
  try {
    const message = messageOf(type, fields);
    if (message === null) return failure('TYPE', seq, `unknown message type ${JSON.stringify(type)}`);
    const count = fieldCounts[type]!;
    if (fields.length !== count) return failure('FIELD', seq, `${type} takes ${count} field${count === 1 ? '' : 's'}, got ${fields.length}`);
    return { ok: true, envelope: { seq, message } };
  } catch (error) {
    if (error instanceof FieldError) return failure('FIELD', seq, `${type}: ${error.message}`);
    throw error;
  }
}

/** The hello this code sends for an identity. */
export function helloOf(identity: Omit<Identity, 'version'>, reply: boolean): Message {
  return { type: reply ? 'helloReply' : 'hello', version: protocolVersion, ...identity };
}
