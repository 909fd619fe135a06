/** PSKC (RFC 6030): the RFC's own example documents as vectors, round trips, tampering, and hostile XML. */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { ocraAlgorithm, parsePskc, writePskc, type PskcKey, type PskcProtection } from '../../host/pskc.ts';
import { testHost } from './support/clock.ts';
import { cardResponse, makeRecord } from './support/devices.ts';

const fixtures = new URL('../../fixtures/pskc/', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, fixtures), 'utf8');
interface VectorKey { id: string; serial?: string; manufacturer?: string; issuer?: string; counter?: number; responseLength?: number; secretHex?: string; secretUtf8?: string }
interface Vector { file: string; section: string; presharedKeyHex?: string; password?: string; keys: VectorKey[] }
const vectors = (JSON.parse(read('vectors.json')) as { documents: Vector[] }).documents;
const random = (n: number) => new Uint8Array(randomBytes(n));

function keysOf(v: Vector) {
  return { ...(v.presharedKeyHex && { presharedKey: hexToBytes(v.presharedKeyHex) }), ...(v.password && { password: v.password }) };
}

function summary(k: PskcKey) {
  return { id: k.id, serial: k.serial, manufacturer: k.manufacturer, issuer: k.issuer, counter: k.counter, responseLength: k.responseLength, secretHex: bytesToHex(k.secret) };
}

describe.each(vectors)('RFC 6030 $section', (vector) => {
  it('imports to the values the RFC states', async () => {
    const keys = parsePskc(read(vector.file), keysOf(vector));
    expect(keys).toHaveLength(vector.keys.length);
    keys.forEach((key, i) => {
      const want = vector.keys[i]!;
      expect(bytesToHex(key.secret)).toBe(want.secretHex ?? bytesToHex(utf8ToBytes(want.secretUtf8!)));
      expect(key.id).toBe(want.id);
      for (const field of ['serial', 'manufacturer', 'issuer', 'counter', 'responseLength'] as const) expect(key[field]).toBe(want[field]);
    });
  });

  it.each<PskcProtection['type']>(['none', 'preshared', 'password'])('round-trips through export (%s) and import', (type) => {
    const keys = parsePskc(read(vector.file), keysOf(vector));
    const aes = random(16);
    const protection: PskcProtection = type === 'none' ? { type } : type === 'preshared' ? { type, keyName: 'Pre-shared-key', key: aes } : { type, keyName: 'My Password 1', password: 'qwerty', iterations: 1_000 };
    const xml = writePskc(keys, protection, random);
    const again = parsePskc(xml, type === 'preshared' ? { presharedKey: aes } : type === 'password' ? { password: 'qwerty' } : {});
    expect(again.map(summary)).toEqual(keys.map(summary));
    expect(again.map((k) => k.algorithm)).toEqual(keys.map((k) => k.algorithm));
    if (type !== 'none') expect(xml).not.toContain(Buffer.from(keys[0]!.secret).toString('base64'));
  });
});

describe('PSKC refusals', () => {
  const preshared = vectors.find((v) => v.presharedKeyHex)!;
  const pbkdf2 = vectors.find((v) => v.password)!;

  it('refuses a document with a DOCTYPE / external entity (XXE) before parsing', async () => {
    expect(() => parsePskc(read('xxe-external-entity.pskcxml'))).toThrow(/DOCTYPE declaration/);
    const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">&lol2;</KeyContainer>';
    expect(() => parsePskc(laughs)).toThrow(/DOCTYPE/);
    expect(() => parsePskc('<!ENTITY x "y"><KeyContainer/>')).toThrow(/ENTITY/);
  });

  it('refuses a wrong password, a wrong pre-shared key, and an altered ciphertext (ValueMAC)', async () => {
    expect(() => parsePskc(read(pbkdf2.file), { password: 'qwertz' })).toThrow(/wrong key or password|ValueMAC/);
    expect(() => parsePskc(read(preshared.file), { presharedKey: new Uint8Array(16).fill(1) })).toThrow(/wrong key or password|ValueMAC/);
    expect(() => parsePskc(read(preshared.file))).toThrow(/pre-shared key "Pre-shared-key"/);
    expect(() => parsePskc(read(pbkdf2.file))).toThrow(/password/);
    // Flip one base64 character of the secret's CipherValue: the MAC check catches it before decryption.
    const altered = read(preshared.file).replace('AAECAwQFBgcICQoLDA0OD+cI', 'AAECAwQFBgcICQoLDA0OD+cJ');
    expect(() => parsePskc(altered, keysOf(preshared))).toThrow(/key "12345678" Data\/Secret ValueMAC: does not match/);
  });

  it('refuses malformed containers with a message naming the problem', async () => {
    expect(() => parsePskc('<KeyContainer')).toThrow(/not well-formed/);
    expect(() => parsePskc('<Other xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0"/>')).toThrow(/root element/);
    expect(() => parsePskc('<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="2.0"/>')).toThrow(/Version/);
    expect(() => parsePskc(read('rfc6030-figure2-basic.pskcxml').replace('MTIzNA==', 'MT$zNA=='))).toThrow(/base64/);
  });
});

describe('host import and export of OCRA keys', () => {
  it('an exported OCRA key imported into another host verifies the card response', async () => {
    const { host: a } = await testHost();
    const record = makeRecord({ serial: 314, profile: 'digipass', checkDigit: true });
    await a.enroll({ user: 'trader1', record });
    const exported = await a.exportKeys();
    const xml = writePskc(exported.map((k) => ({ id: k.serial, algorithm: ocraAlgorithm, suite: k.suite, serial: k.serial, secret: k.secret, checkDigits: k.checkDigit, counter: k.counter })), { type: 'password', keyName: 'k', password: 'pw', iterations: 1_000 }, random);
    const [key] = parsePskc(xml, { password: 'pw' });
    expect(key).toMatchObject({ algorithm: ocraAlgorithm, suite: 'OCRA-1:HOTP-SHA1-8:QN06', serial: '314', checkDigits: true });
    const { host: b } = await testHost();
    await b.enrollKey({ user: 'trader1', serial: key!.serial!, profile: 'digipass', suite: key!.suite!, secret: key!.secret, checkDigit: key!.checkDigits! });
    const { challenge } = await b.challenge({ user: 'trader1' });
    expect(await b.verify({ user: 'trader1', challenge, response: cardResponse(record, challenge), purpose: 'login' })).toMatchObject({ ok: true });
  });
});
