/**
 * The wire codec: CRC against the catalogue check value and an independent bit-by-bit CRC, every
 * message type round-trips, and a table of damaged lines each fails with the named error code.
 */
import { describe, expect, it } from 'vitest';
import { decodeLine, encodeLine, sealLine } from '../../emulator/serial/codec.ts';
import { crc16, crc16CheckValue } from '../../emulator/serial/crc16.ts';
import { lineBytesMax, wireKeys, type Message } from '../../emulator/serial/messages.ts';
import { referenceCrc16, referenceLine } from './support/reference.ts';

describe('crc16', () => {
  it('matches the CRC-16/CCITT-FALSE catalogue check value on "123456789"', () => {
    expect(crc16CheckValue).toBe(0x29b1);
    expect(crc16('123456789')).toBe(0x29b1);
    expect(referenceCrc16('123456789')).toBe(0x29b1);
  });

  it('agrees with the bit-by-bit definition on every byte value and on bytes as strings', () => {
    for (let byte = 0; byte < 256; byte++) {
      const text = `A${String.fromCharCode(byte)}z`;
      expect(crc16(text)).toBe(referenceCrc16(text));
      expect(crc16(Buffer.from(text, 'latin1'))).toBe(referenceCrc16(text));
    }
  });
});

const samples: Array<[string, number, Message]> = [
  ['HI 0 1 DSCPLUS 1.0.0 0123456789 V', 0, { type: 'hello', version: 1, model: 'DSCPLUS', firmware: '1.0.0', serial: '0123456789', clock: 'virtual' }],
  ['HA 999 1 KEYPAD-8 0.3 - R', 999, { type: 'helloReply', version: 1, model: 'KEYPAD-8', firmware: '0.3', serial: '-', clock: 'real' }],
  ['KD 12 OK', 12, { type: 'keyDown', key: 'OK' }],
  ['KU 13 BACK', 13, { type: 'keyUp', key: 'BACK' }],
  ['KD 1 PRESS', 1, { type: 'keyDown', key: 'PRESS' }],
  ['TM 4 2000', 4, { type: 'time', ms: 2000 }],
  ['AK 5 12 4294967295', 5, { type: 'ack', ref: 12, frame: 4294967295 }],
  ['FR 7 3 -- "PIN>"', 7, { type: 'frame', number: 3, text: 'PIN>', lowBattery: false, locked: false }],
  ['FR 8 4 BL "LOCK PIN"', 8, { type: 'frame', number: 4, text: 'LOCK PIN', lowBattery: true, locked: true }],
  ['FR 9 5 -L ""', 9, { type: 'frame', number: 5, text: '', lowBattery: false, locked: true }],
  ['ER 10 - CRC "bad line"', 10, { type: 'error', ref: null, code: 'CRC', text: 'bad line' }],
  ['ER 11 7 VERSION "protocol 2 refused"', 11, { type: 'error', ref: 7, code: 'VERSION', text: 'protocol 2 refused' }],
];

describe('encodeLine / decodeLine', () => {
  it.each(samples)('%s round-trips and carries the independent CRC', (body, seq, message) => {
    const line = encodeLine(seq, message);
    expect(line).toBe(referenceLine(body));
    expect(decodeLine(line.slice(0, -2))).toEqual({ ok: true, envelope: { seq, message } });
  });

  it('knows every key of the card', () => {
    for (const key of wireKeys) {
      expect(decodeLine(referenceLine(`KU 3 ${key}`).trim())).toEqual({ ok: true, envelope: { seq: 3, message: { type: 'keyUp', key } } });
    }
  });

  it('accepts a lower-case CRC (typed by a person) and seals with upper case', () => {
    const line = referenceLine('KD 0 5').trim();
    expect(decodeLine(line.toLowerCase().replace(/^kd/, 'KD'))).toMatchObject({ ok: true });
    expect(sealLine('KD 0 5')).toBe(referenceLine('KD 0 5'));
  });

  const damaged: Array<[string, string, string]> = [
    ['empty', '', 'SYNTAX'],
    ['no CRC', 'KD 12 OK', 'SYNTAX'],
    ['truncated CRC', referenceLine('KD 12 OK').slice(0, -4), 'SYNTAX'],
    ['truncated body', referenceLine('KD 12 OK').trim().slice(2), 'CRC'],
    ['one bit flipped in the key', referenceLine('KD 12 OK').trim().replace('OK', 'OJ'), 'CRC'],
    ['wrong CRC', 'KD 12 OK*0000', 'CRC'],
    ['CRC not hex', 'KD 12 OK*12G4', 'SYNTAX'],
    ['lower-case type', referenceLine('kd 12 OK').trim(), 'SYNTAX'],
    ['two spaces', referenceLine('KD  12 OK').trim(), 'SYNTAX'],
    ['trailing space', referenceLine('KD 12 OK ').trim(), 'SYNTAX'],
    ['leading zero in seq', referenceLine('KD 012 OK').trim(), 'SYNTAX'],
    ['seq past 999', referenceLine('KD 1000 OK').trim(), 'SYNTAX'],
    ['non-ASCII byte', referenceLine('KD 12 \u00e9').trim(), 'SYNTAX'],
    ['control character', referenceLine('KD 12 \u0007').trim(), 'SYNTAX'],
    ['unknown type', referenceLine('ZZ 12 OK').trim(), 'TYPE'],
    ['unknown key', referenceLine('KD 12 ENTER').trim(), 'FIELD'],
    ['missing key', referenceLine('KD 12').trim(), 'FIELD'],
    ['extra field', referenceLine('KD 12 OK OK').trim(), 'FIELD'],
    ['frame of 9 characters', referenceLine('FR 1 2 -- "123456789"').trim(), 'FIELD'],
    ['frame text unquoted', referenceLine('FR 1 2 -- PIN>').trim(), 'FIELD'],
    ['frame flags wrong', referenceLine('FR 1 2 XX "PIN>"').trim(), 'FIELD'],
    ['frame number past 32 bits', referenceLine('FR 1 4294967296 -- "PIN>"').trim(), 'FIELD'],
    ['unterminated quote', referenceLine('FR 1 2 -- "PIN>').trim(), 'SYNTAX'],
    ['zero time advance', referenceLine('TM 1 0').trim(), 'FIELD'],
    ['clock not R or V', referenceLine('HI 0 1 M F S X').trim(), 'FIELD'],
    ['unknown error code', referenceLine('ER 1 - OOPS "x"').trim(), 'FIELD'],
    ['too long', referenceLine(`ER 1 - CRC "${'x'.repeat(lineBytesMax)}"`).trim(), 'LONG'],
  ];

  it.each(damaged)('refuses a line with %s', (_name, line, code) => {
    const decoded = decodeLine(line);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error.code).toBe(code);
      expect(decoded.error.detail.length).toBeGreaterThan(0);
    }
  });

  it('names the bad field and keeps the sequence number once the CRC holds', () => {
    expect(decodeLine(referenceLine('KD 12 ENTER').trim())).toEqual({
      ok: false,
      error: { code: 'FIELD', seq: 12, detail: 'KD: key expected 0-9, OK, BACK or PRESS, got "ENTER"' },
    });
  });

  const unencodable: Array<[string, number, Message]> = [
    ['frame over 8 characters', 0, { type: 'frame', number: 1, text: '123456789', lowBattery: false, locked: false }],
    ['frame with a quote', 0, { type: 'frame', number: 1, text: 'a"b', lowBattery: false, locked: false }],
    ['negative frame number', 0, { type: 'frame', number: -1, text: '', lowBattery: false, locked: false }],
    ['seq 1000', 1000, { type: 'keyDown', key: 'OK' }],
    ['unknown key', 0, { type: 'keyDown', key: 'ENTER' as 'OK' }],
    ['serial with a space', 0, { type: 'hello', version: 1, model: 'M', firmware: 'F', serial: 'a b', clock: 'real' }],
    ['zero time advance', 0, { type: 'time', ms: 0 }],
  ];

  it.each(unencodable)('refuses to encode a %s (a bug in the caller) with a RangeError', (_name, seq, message) => {
    expect(() => encodeLine(seq, message)).toThrow(RangeError);
  });

  it('makes any error text safe to quote', () => {
    const line = encodeLine(1, { type: 'error', ref: null, code: 'SYNTAX', text: 'got "*\u0000é" and more'.repeat(5) });
    const decoded = decodeLine(line.trim());
    expect(decoded.ok).toBe(true);
    if (decoded.ok && decoded.envelope.message.type === 'error') expect(decoded.envelope.message.text).toMatch(/^got \?{5} and more/);
  });
});
