// Unit tests of the firmware's parts and behaviours that the screen table does not pin down:
// Luhn, unlock codes, weak PINs, suites, device records, counters, time, long responses, battery, frames.
import { createHmac } from 'node:crypto';
import { hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { newDeviceRecord } from '../../emulator/card.ts';
import { cardSuite, profileOfSuite } from '../../firmware/card-suite.ts';
import { checkNewPin, checkPin, isPin, isWeakPin } from '../../firmware/pin.ts';
import { DeviceRecordError, enrolmentData, parseDeviceRecord, recordImage } from '../../firmware/device-record.ts';
import { luhnCheckDigit, luhnValid } from '../../firmware/luhn.ts';
import { bootCard, step } from '../../firmware/machine.ts';
import { decodeImage } from '../../firmware/memory.ts';
import { batteryCapacityOps, powerHoldMs } from '../../firmware/types.ts';
import { unlockCode } from '../../firmware/unlock.ts';
import { referenceOcra } from '../support/reference-ocra.ts';
import { counterSuite, openTestCard, secret, secretHex, startMs, testPin, testRecord } from './support.ts';

describe('Luhn check digit', () => {
  it.each([
    ['7992739871', '3'], // the classic example (ISO/IEC 7812-1 Annex B, as on Wikipedia)
    ['123456', '6'],
    ['0', '0'],
    ['4992739871', '6'],
  ])('%s -> %s', (digits, check) => {
    expect(luhnCheckDigit(digits)).toBe(check);
    expect(luhnValid(digits + check)).toBe(true);
    expect(luhnValid(digits + String((Number(check) + 1) % 10))).toBe(false);
  });

  it('catches every single-digit typo and every adjacent swap (but 09/90) of a 6-digit challenge', () => {
    const base = '483920';
    const full = base + luhnCheckDigit(base);
    for (let i = 0; i < full.length; i++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === full[i]) continue;
        expect(luhnValid(full.slice(0, i) + d + full.slice(i + 1))).toBe(false);
      }
    }
  });

  it.each([[''], ['12a'], [12]])('rejects %j naming the value', (bad) => {
    expect(() => luhnCheckDigit(bad as string)).toThrow(/"digits"/);
    expect(() => luhnValid(bad as string)).toThrow(/"digitsWithCheck"/);
  });
});

describe('unlock code', () => {
  /** An independent computation on node:crypto: HMAC-SHA256 then RFC 4226 dynamic truncation. */
  function reference(lockCode: string): string {
    const mac = createHmac('sha256', Buffer.from(secretHex, 'hex')).update(`dscplus-unlock:${lockCode}`).digest();
    const offset = mac[mac.length - 1]! & 0xf;
    return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1e8).padStart(8, '0');
  }

  it.each(['0000000', '4811270', '9999999'])('matches an independent HMAC-SHA256 computation for %s', (lockCode) => {
    expect(unlockCode(secret(), lockCode)).toBe(reference(lockCode));
  });

  it.each([['123456'], ['12345678'], ['123456a'], [1234567]])('rejects lock code %j', (bad) => {
    expect(() => unlockCode(secret(), bad as string)).toThrow(/"lockCode"/);
  });
});

describe('weak PINs (refused on the digipass keypad)', () => {
  it.each(['1111', '0000', '1234', '0123', '6789', '9876', '3210'])('%s is weak', (pin) => expect(isWeakPin(pin)).toBe(true));
  it.each(['2580', '1357', '1233', '4827', '9870', '1212'])('%s is accepted', (pin) => expect(isWeakPin(pin)).toBe(false));
});

describe('the PIN rules every caller uses (firmware/pin.ts)', () => {
  it.each([['4826', true], ['0000', true], ['123', false], ['12345', false], ['12a4', false], ['１２３４', false], [1234, false], [undefined, false]])('isPin(%j) is %s', (pin, ok) => expect(isPin(pin)).toBe(ok));
  it.each([
    ['12', /^--pin expected 4 digits, got 2 characters \(not shown\)$/],
    ['12a4', /^--pin expected 4 digits, got a character that is not a digit \(not shown\)$/],
    [1234, /^--pin expected 4 digits, got number \(not shown\)$/],
  ])('checkPin refuses %j with a RangeError that never shows it', (pin, message) => {
    expect(() => checkPin('--pin', pin)).toThrow(RangeError);
    expect(() => checkPin('--pin', pin)).toThrow(message);
  });
  it('checkNewPin refuses exactly the PINs the keypad calls weak', () => {
    for (let n = 0; n < 10_000; n++) {
      const pin = String(n).padStart(4, '0');
      if (isWeakPin(pin)) expect(() => checkNewPin('"newPin"', pin), pin).toThrow(/"newPin" is too easy to guess/);
      else expect(checkNewPin('"newPin"', pin)).toBe(pin);
    }
  });
});

describe('the profile a suite implies (profileOfSuite)', () => {
  it.each([
    ['OCRA-1:HOTP-SHA1-8:QN06-PSHA1', 'dscplus'],
    ['OCRA-1:HOTP-SHA256-8:C-QN08-PSHA256', 'dscplus'],
    ['OCRA-1:HOTP-SHA1-8:QN06', 'digipass'],
    ['OCRA-1:HOTP-SHA1-8:QN06-T1M', 'digipass'],
  ])('%s is %s', (suite, profile) => expect(profileOfSuite(suite)).toBe(profile));
});

describe('suites a card can run', () => {
  it.each([
    ['OCRA-1:HOTP-SHA1-8:QA06-PSHA1', 'dscplus', /numeric question/],
    ['OCRA-1:HOTP-SHA1-8:QN20', 'dscplus', /at most 16 digits/],
    ['OCRA-1:HOTP-SHA1-0:QN06', 'dscplus', /decimal response/],
    ['OCRA-1:HOTP-SHA1-8:QN06-S064', 'dscplus', /session information/],
    ['OCRA-1:HOTP-SHA1-8:QN06-PSHA1', 'digipass', /no PIN hash/],
    ['ocra-1:HOTP-SHA1-8:QN06', 'dscplus', /"suite"/],
  ])('refuses %s for %s', (suite, profile, message) => {
    expect(() => cardSuite(suite, profile as 'dscplus')).toThrow(message);
  });
});

describe('device record', () => {
  const good = () => JSON.parse(JSON.stringify(testRecord('digipass'))) as Record<string, unknown>;

  it('round-trips and unseals the secret and the ordering PIN for the host', () => {
    const record = parseDeviceRecord(good());
    const data = enrolmentData(record);
    expect(Buffer.from(data.secret).toString('hex')).toBe(secretHex);
    expect(data).toMatchObject({ serial: '12345678', profile: 'digipass', suite: 'OCRA-1:HOTP-SHA1-8:QN06', pin: testPin, checkDigit: false });
    data.secret.fill(0);
    expect(enrolmentData(parseDeviceRecord(JSON.parse(JSON.stringify(testRecord('dscplus', 'no-pin'))))).pin).toBeUndefined();
  });

  const flipHex = (hex: string, at: number) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
  it.each([
    ['not an object', () => 'card', /expected a JSON object/],
    ['wrong format', (o: Record<string, unknown>) => ({ ...o, format: 'other' }), /"format"/],
    ['wrong version', (o: Record<string, unknown>) => ({ ...o, version: 2 }), /"version" 2 is not supported/],
    ['serial not a number', (o: Record<string, unknown>) => ({ ...o, serial: '12x' }), /"serial"/],
    ['serial disagrees with the image', (o: Record<string, unknown>) => ({ ...o, serial: '87654321' }), /"serial" "87654321" disagrees/],
    ['unknown profile', (o: Record<string, unknown>) => ({ ...o, profile: 'rsa' }), /"profile"/],
    ['profile disagrees', (o: Record<string, unknown>) => ({ ...o, profile: 'dscplus' }), /"profile" "dscplus" disagrees/],
    ['suite disagrees', (o: Record<string, unknown>) => ({ ...o, suite: 'OCRA-1:HOTP-SHA1-6:QN06' }), /"suite" .* disagrees/],
    ['checkDigit not boolean', (o: Record<string, unknown>) => ({ ...o, checkDigit: 'no' }), /"checkDigit"/],
    ['clock negative', (o: Record<string, unknown>) => ({ ...o, clockMs: -1 }), /"clockMs"/],
    ['image truncated', (o: Record<string, unknown>) => ({ ...o, image: (o.image as string).slice(0, 500) }), /"image" expected 256 bytes/],
    ['image not hex', (o: Record<string, unknown>) => ({ ...o, image: `zz${(o.image as string).slice(2)}` }), /"image" expected lower-case hex/],
    ['image static byte flipped', (o: Record<string, unknown>) => ({ ...o, image: flipHex(o.image as string, 40) }), /"image": .*CRC-32/],
    ['wrong device key', (o: Record<string, unknown>) => ({ ...o, deviceKey: flipHex(o.deviceKey as string, 0) }), /"deviceKey" does not open/],
    ['device key too short', (o: Record<string, unknown>) => ({ ...o, deviceKey: 'abcd' }), /"deviceKey" expected 32 bytes/],
    ['device key in upper case (never quoted)', (o: Record<string, unknown>) => ({ ...o, deviceKey: (o.deviceKey as string).toUpperCase() }), /^"deviceKey" expected lower-case hex, got 64 characters$/],
    ['order PIN of the wrong length', (o: Record<string, unknown>) => ({ ...o, orderPin: 'abcd' }), /"orderPin"/],
  ])('rejects a record with %s (DeviceRecordError naming the field)', (_, corrupt, message) => {
    const bad = (corrupt as (o: Record<string, unknown>) => unknown)(good());
    expect(() => parseDeviceRecord(bad)).toThrow(DeviceRecordError);
    expect(() => parseDeviceRecord(bad)).toThrow(message);
  });
});

describe('card behaviour', () => {
  it('gives the RFC-oracle response on both profiles (independent node:crypto OCRA)', () => {
    for (const profile of ['dscplus', 'digipass'] as const) {
      const t = openTestCard(profile);
      t.run(`PRESS:2000 ${testPin} OK 987654 OK`);
      const suite = profile === 'dscplus' ? 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1' : 'OCRA-1:HOTP-SHA1-8:QN06';
      const pin = profile === 'dscplus' ? { pin: testPin } : {};
      expect(t.card.frame.text).toBe(referenceOcra({ suite, keyHex: secretHex, question: '987654', ...pin }).response);
    }
  });

  it('dscplus: a different soft PIN gives a different response (the server rejects it)', () => {
    const t = openTestCard('dscplus');
    t.run('PRESS:2000 1111 OK 987654 OK');
    expect(t.card.frame.text).toBe(referenceOcra({ suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', keyHex: secretHex, question: '987654', pin: '1111' }).response);
    expect(t.card.frame.text).not.toBe(referenceOcra({ suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', keyHex: secretHex, question: '987654', pin: testPin }).response);
  });

  it('steps counter C before each response and keeps it across power-off and reboot', () => {
    const t = openTestCard('dscplus', 'counter');
    const responses: string[] = [];
    for (let i = 0; i < 3; i++) {
      t.run(`PRESS:2000 ${testPin} OK 111111 OK`);
      responses.push(t.card.frame.text);
      t.run('WAIT:30000');
    }
    expect(responses).toEqual([0n, 1n, 2n].map((counter) => referenceOcra({ suite: counterSuite, keyHex: secretHex, question: '111111', counter, pin: testPin }).response));
    expect(decodeImage(recordImage(t.record())).state.counter).toBe(3);
  });

  it('uses the card clock for time-based suites', () => {
    const suite = 'OCRA-1:HOTP-SHA1-8:QN06-T1M';
    const record = newDeviceRecord({ profile: 'digipass', suite, secret: secret(), pin: testPin, serial: 1, clockMs: Date.UTC(2008, 2, 25, 12, 6, 30) });
    const deviceKey = hexToBytes(record.deviceKey);
    let state = bootCard(recordImage(record), deviceKey, record.clockMs);
    const events = [
      { type: 'keyDown', key: 'PRESS', atMs: record.clockMs },
      { type: 'keyUp', key: 'PRESS', atMs: record.clockMs + powerHoldMs },
      ...`${testPin}K000000K`.split('').map((c) => ({ type: 'keyDown', key: c === 'K' ? 'OK' : c, atMs: record.clockMs + powerHoldMs, entropy: new Uint8Array(4) })),
    ] as const;
    for (const event of events) state = step(state, event as Parameters<typeof step>[1]).state;
    const timeStep = BigInt(Math.floor((record.clockMs + powerHoldMs) / 60_000));
    expect(state.frame.text).toBe(referenceOcra({ suite, keyHex: secretHex, question: '000000', timeStep }).response);
  });

  it('shows a 10-digit response in two turns that together make the OCRA response', () => {
    const t = openTestCard('dscplus', '10-digit');
    t.run(`PRESS:2000 ${testPin} OK 123456 OK`);
    const first = t.card.frame.text;
    t.run('WAIT:2000');
    const second = t.card.frame.text;
    t.run('WAIT:2000');
    expect(first).toHaveLength(8);
    expect(first + second).toBe(referenceOcra({ suite: 'OCRA-1:HOTP-SHA1-10:QN06-PSHA1', keyHex: secretHex, question: '123456', pin: testPin }).response);
    expect(t.card.frame.text).toBe(first);
  });

  it('digipass: after a keypad PIN change only the new PIN works, also after power-off', () => {
    const t = openTestCard('digipass');
    t.run(`PRESS:2000 ${testPin} OK PRESS:2000 4827 OK 4827 OK WAIT:1500 WAIT:30000 PRESS:2000 ${testPin} OK`);
    expect(t.card.frame.text).toBe('FAIL 1');
    t.run('WAIT:1500 4827 OK');
    expect(t.card.screenId).toBe('challenge');
    expect(decodeImage(recordImage(t.record())).state.wrongPins).toBe(0);
  });

  it('digipass: FAIL counts up to 4, the 5th wrong PIN locks, and a locked card never computes', () => {
    const t = openTestCard('digipass');
    t.run('PRESS:2000');
    for (let n = 1; n <= 4; n++) {
      t.run('1111 OK');
      expect(t.card.frame.text).toBe(`FAIL ${n}`);
    }
    t.run('1111 OK');
    expect(t.card.frame.text).toBe('LOCK PIN');
    expect(t.card.frame.indicators.locked).toBe(true);
    const from = t.texts.length;
    t.run(`WAIT:1500 ${testPin} OK 123456 OK WAIT:30000 PRESS:2000 ${testPin} OK 123456 OK`);
    expect(t.card.screenId).not.toBe('response');
    expect(t.texts.slice(from).filter((text) => /^\d{8}$/.test(text))).toEqual([]);
    expect(t.texts.slice(from)).toContain(`L${t.lockCode()}`);
  });

  it('battery: each power-on and response costs one operation; low indicator; empty does nothing; a new one restores', () => {
    const t = openTestCard('dscplus');
    t.run(`PRESS:2000 ${testPin} OK 123456 OK`);
    expect(t.card.battery.remainingOps).toBe(batteryCapacityOps - 2);
    expect(t.card.frame.indicators.lowBattery).toBe(false);
    t.run('BATTERY:1001 OK');
    expect(t.card.frame.indicators.lowBattery).toBe(false);
    t.run('BATTERY:1000');
    expect(t.card.frame.indicators.lowBattery).toBe(true);
    t.run('BATTERY:1 PRESS:2000 PRESS:2000');
    expect(t.card.screenId).toBe('pin'); // the last operation powered it on
    expect(t.card.battery.remainingOps).toBe(0);
    t.run('PRESS:2000 PRESS:2000');
    expect(t.card.frame.text).toBe('');
    t.run('BATTERY:NEW PRESS:2000');
    expect(t.card.frame.text).toBe('PIN>');
    expect(t.card.battery.remainingOps).toBe(batteryCapacityOps - 1);
  });

  it('acknowledges every input with a frame: a new number exactly when the display changes', () => {
    const t = openTestCard('dscplus');
    const f0 = t.card.keyDown('PRESS');
    expect(f0.number).toBe(0);
    const f1 = t.card.advance(powerHoldMs);
    expect(f1).toMatchObject({ number: 1, text: 'PIN>', atMs: startMs + powerHoldMs });
    expect(t.card.keyUp('PRESS').number).toBe(1);
    expect(t.card.keyDown('7')).toMatchObject({ number: 2, text: 'PIN>-' });
    expect(t.card.keyUp('7').number).toBe(2);
    expect(t.card.keyDown('OK')).toMatchObject({ number: 3, text: 'TOO FEW' });
    expect(t.card.advance(1_499).number).toBe(3);
    expect(t.card.advance(1)).toMatchObject({ number: 4, text: 'PIN>' });
  });

  it('refuses events that go back in time, and a lock without entropy (bugs in a shell)', () => {
    const record = testRecord('digipass');
    const key = hexToBytes(record.deviceKey);
    const state = bootCard(recordImage(record), key, 1_000);
    expect(() => step(state, { type: 'tick', atMs: 999 })).toThrow(/time never goes backwards/);
    let s = step(step(state, { type: 'keyDown', key: 'PRESS', atMs: 1_000 }).state, { type: 'tick', atMs: 3_000 }).state;
    for (let i = 0; i < 4; i++) for (const k of ['1', '1', '1', '1', 'OK'] as const) s = step(s, { type: 'keyDown', key: k, atMs: 3_000 }).state;
    for (const k of ['1', '1', '1', '1'] as const) s = step(s, { type: 'keyDown', key: k, atMs: 3_000 }).state;
    expect(() => step(s, { type: 'keyDown', key: 'OK', atMs: 3_000 })).toThrow(/"entropy"/);
  });
});
