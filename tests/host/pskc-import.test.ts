/**
 * Import rules, each against a real SQLite host: weak secrets, CBC without a MAC, huge counters (attack
 * 13), partial import, refusals that name the key and the field, and inputs other servers write that were
 * once misread (CheckDigits="1", a contradicting ResponseFormat, a BOM, the RFC's own suite spellings).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hexToBytes } from '@noble/hashes/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { ocra, parseSuite } from '../../firmware/ocra/index.ts';
import { readOathCsv } from '../../host/oath-csv.ts';
import { ocraUrn, parsePskc, readPskc, writePskc, type PskcKey } from '../../host/pskc.ts';
import { importCounterMax, ImportRefused, importKeys } from '../../host/transfer/import.ts';
import { referenceOcra } from '../support/reference-ocra.ts';
import { testHost } from './support/clock.ts';

const random = (n: number) => new Uint8Array(randomBytes(n));
const fixtures = new URL('../../fixtures/pskc/', import.meta.url);
const rfcPreshared = readFileSync(new URL('rfc6030-6.1-preshared-aes128.pskcxml', fixtures), 'utf8');
const rfcKey = hexToBytes('12345678901234567890123456789012');
const dir = mkdtempSync(join(tmpdir(), 'dsc-pskc-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A host on a real SQLite file. */
async function sqliteHost(name: string) {
  return await testHost({ dbPath: join(dir, `${name}.sqlite`) });
}

function key(fields: Partial<PskcKey> & { id: string }): PskcKey {
  return { algorithm: ocraUrn, suite: 'OCRA-1:HOTP-SHA1-8:QN06', secret: random(20), serial: fields.id, ...fields };
}

function plainFile(keys: PskcKey[]): string {
  return writePskc(keys, { type: 'none' }, random);
}

describe('attack 13: weak or garbage keys from PSKC', () => {
  it('refuses a secret shorter than 128 bits, naming the key (RFC 4226 §4 R6)', async () => {
    const { host, clock } = await sqliteHost('short');
    const read = readPskc(plainFile([key({ id: 'GOOD1' }), key({ id: 'SHORT', secret: random(15) })]));
    await expect(importKeys(host, read, { nowMs: clock.ms })).rejects.toThrow(/^key "SHORT" Data\/Secret: 120 bits is below the 128/);
    expect(await host.exportKeys()).toEqual([]); // all or nothing: GOOD1 was not written either
    const ok = await importKeys(host, readPskc(plainFile([key({ id: 'EXACT', secret: random(16) })])), { nowMs: clock.ms });
    expect(ok.imported.map((d) => d.serial)).toEqual(['EXACT']);
  });

  it('refuses a CBC-encrypted value without a MAC unless allowNoMac, naming the key', async () => {
    const stripped = rfcPreshared.replace(/<MACMethod[\s\S]*?<\/MACMethod>/, '');
    expect(stripped).not.toContain('MACMethod');
    expect(() => parsePskc(stripped, { presharedKey: rfcKey })).toThrow(/key "12345678" Data\/Secret: CBC-encrypted without a MACMethod/);
    const withoutValueMac = rfcPreshared.replace(/<ValueMAC>[^<]*<\/ValueMAC>/, '');
    expect(() => parsePskc(withoutValueMac, { presharedKey: rfcKey })).toThrow(/key "12345678" Data\/Secret: CBC-encrypted without a ValueMAC/);
    const [opened] = parsePskc(stripped, { presharedKey: rfcKey, allowNoMac: true });
    expect(Buffer.from(opened!.secret).toString()).toBe('12345678901234567890');
  });

  it('bounds counters: one near 2^53 is refused naming the key, and the maximum accepted still verifies', async () => {
    const { host, clock } = await sqliteHost('counter');
    const huge = readPskc(plainFile([key({ id: 'HUGE', suite: 'OCRA-1:HOTP-SHA1-8:C-QN06', counter: 2 ** 53 - 2 })]));
    await expect(importKeys(host, huge, { nowMs: clock.ms })).rejects.toThrow(/^key "HUGE" Data\/Counter: 9007199254740990 is above 4294967295/);
    // A counter beyond 2^53 cannot even be read exactly: the reader refuses it, naming the key.
    const beyond = plainFile([key({ id: 'BEYOND', suite: 'OCRA-1:HOTP-SHA1-8:C-QN06', counter: 1 })]).replace('<PlainValue>1</PlainValue>', '<PlainValue>9007199254740993</PlainValue>');
    expect(readPskc(beyond).skipped).toEqual([{ id: 'BEYOND', field: 'Data/Counter', reason: 'key "BEYOND" Data/Counter: 9007199254740993 is beyond 2^53' }]);
    const secret = random(20);
    await importKeys(host, readPskc(plainFile([key({ id: 'TOP', suite: 'OCRA-1:HOTP-SHA1-8:C-QN06', counter: importCounterMax, secret: secret.slice() })])), { user: 'u1', nowMs: clock.ms });
    for (let login = 0; login < 3; login++) {
      const { challenge } = await host.challenge({ user: 'u1' });
      const { response } = referenceOcra({ suite: 'OCRA-1:HOTP-SHA1-8:C-QN06', keyHex: Buffer.from(secret).toString('hex'), question: challenge, counter: BigInt(importCounterMax + login) });
      expect(await host.verify({ user: 'u1', challenge, response, purpose: 'login' })).toMatchObject({ ok: true });
    }
  });
});

describe('partial import and refusals', () => {
  const mixed = () => readPskc(plainFile([
    key({ id: 'OK1' }),
    key({ id: 'QA', suite: 'OCRA-1:HOTP-SHA1-6:QA08' }),
    key({ id: 'HOTP', algorithm: 'urn:ietf:params:xml:ns:keyprov:pskc:hotp', suite: undefined }),
    key({ id: 'OK2', suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', pin: '2580', pinPolicy: { usage: 'Algorithmic' } }),
    key({ id: 'NOPIN', suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1' }),
  ]));

  it('all or nothing: the first bad key and field are named, nothing is written', async () => {
    const { host, clock } = await sqliteHost('refuse');
    let refused: ImportRefused | undefined;
    try {
      await importKeys(host, mixed(), { nowMs: clock.ms });
    } catch (error) {
      refused = error as ImportRefused;
    }
    expect(refused).toBeInstanceOf(ImportRefused);
    expect(refused!.message).toMatch(/^key "QA" AlgorithmParameters\/Suite: expected a numeric question .* \(and 2 more key\(s\) with problems; --skip-unsupported imports the others\)$/);
    expect(await host.exportKeys()).toEqual([]);
  });

  it('--skip-unsupported imports the rest and lists every skipped key with its reason', async () => {
    const { host, clock } = await sqliteHost('skip');
    const result = await importKeys(host, mixed(), { skipUnsupported: true, nowMs: clock.ms });
    expect(result.imported.map((d) => d.serial)).toEqual(['OK1', 'OK2']);
    expect(result.skipped.map((s) => [s.id, s.field])).toEqual([['QA', 'AlgorithmParameters/Suite'], ['HOTP', 'Algorithm'], ['NOPIN', 'Policy/PINPolicy']]);
    expect(result.skipped[1]!.reason).toBe('key "HOTP" Algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:hotp" is not an OCRA key');
  });

  it('--pin is only a fallback: a PIN key in the file wins, per key', async () => {
    const { host, clock } = await sqliteHost('pins');
    const a = random(20);
    const b = random(20);
    const read = readPskc(plainFile([
      key({ id: 'PA', suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', secret: a.slice(), pin: '1111', pinPolicy: { usage: 'Algorithmic' } }),
      key({ id: 'PB', suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', secret: b.slice() }),
    ]));
    await importKeys(host, read, { user: 'u', pin: '2222', nowMs: clock.ms });
    for (const [serial, secret, pin] of [['PA', a, '1111'], ['PB', b, '2222']] as const) {
      const { challenge } = await host.challenge({ user: 'u', serial });
      const { response } = referenceOcra({ suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', keyHex: Buffer.from(secret).toString('hex'), question: challenge, pin });
      expect(await host.verify({ user: 'u', challenge, response, purpose: 'login' })).toMatchObject({ ok: true, serial });
    }
  });

  it('a CSV line of another token type is skipped with its reason; a bad seed names the line', async () => {
    const read = readOathCsv('H1,3132333435363738393031323334353637383930,hotp,6\nO1,31323334353637383930313233343536,ocra,OCRA-1:HOTP-SHA1-8:QN06\nO2,zz,ocra,OCRA-1:HOTP-SHA1-8:QN06\nO3,3132,ocra\n');
    expect(read.keys.map((k) => k.serial)).toEqual(['O1']);
    expect(read.skipped.map((s) => [s.id, s.field])).toEqual([['H1', 'type'], ['O2', 'seed'], ['O3', 'suite']]);
  });
});

describe('inputs that were misread or refused before', () => {
  const xml = (params: string, extra = '') => `<?xml version="1.0"?><KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"><KeyPackage><DeviceInfo><SerialNo>S1</SerialNo></DeviceInfo><Key Id="S1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1"><AlgorithmParameters>${params}</AlgorithmParameters><Data><Secret><PlainValue>MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=</PlainValue></Secret>${extra}</Data></Key></KeyPackage></KeyContainer>`;

  it('reads CheckDigits="1" and "true" as true, "0" as false, and refuses anything else naming the key', async () => {
    const suite = '<Suite>OCRA-1:HOTP-SHA1-8:QN06</Suite>';
    expect(parsePskc(xml(`${suite}<ChallengeFormat Encoding="DECIMAL" Min="6" Max="6" CheckDigits="1"/>`))[0]!.checkDigits).toBe(true);
    expect(parsePskc(xml(`${suite}<ChallengeFormat Encoding="DECIMAL" CheckDigits="true"/>`))[0]!.checkDigits).toBe(true);
    expect(parsePskc(xml(`${suite}<ChallengeFormat Encoding="DECIMAL" CheckDigits="0"/>`))[0]!.checkDigits).toBe(false);
    expect(() => parsePskc(xml(`${suite}<ChallengeFormat CheckDigits="yes"/>`))).toThrow('key "S1" AlgorithmParameters/ChallengeFormat CheckDigits: expected true, false, 1 or 0, got "yes"');
  });

  it('refuses a ResponseFormat Length that contradicts the suite, naming the key', async () => {
    expect(() => parsePskc(xml('<Suite>OCRA-1:HOTP-SHA1-8:QN06</Suite><ResponseFormat Length="6" Encoding="DECIMAL"/>'))).toThrow('key "S1" AlgorithmParameters/ResponseFormat Length: 6 contradicts the suite OCRA-1:HOTP-SHA1-8:QN06, which answers with 8 digits');
    expect(parsePskc(xml('<Suite>OCRA-1:HOTP-SHA1-8:QN06</Suite><ResponseFormat Length="8" Encoding="DECIMAL"/>'))[0]!.responseLength).toBe(8);
  });

  it('accepts a UTF-8 byte order mark', async () => {
    expect(parsePskc(`\uFEFF${xml('<Suite>OCRA-1:HOTP-SHA1-8:QN06</Suite>')}`)[0]!.suite).toBe('OCRA-1:HOTP-SHA1-8:QN06');
    expect(readOathCsv('\uFEFFX1,31323334353637383930313233343536,ocra,OCRA-1:HOTP-SHA1-8:QN06\n').keys).toHaveLength(1);
  });

  it('reads encrypted counters and time steps (multiOTP writes them so) and refuses a time step contradicting the suite', async () => {
    const aes = random(16);
    const k = key({ id: 'T1', suite: 'OCRA-1:HOTP-SHA1-8:C-QN06-T2M', counter: 300, timeInterval: 60 });
    const text = writePskc([k], { type: 'preshared', keyName: 'K', key: aes }, random);
    expect(text).not.toMatch(/<Counter><PlainValue>/);
    const read = readPskc(text, { presharedKey: aes });
    expect(read.keys[0]).toMatchObject({ counter: 300, timeInterval: 60 });
    const { host, clock } = await testHost();
    await expect(importKeys(host, read, { nowMs: clock.ms })).rejects.toThrow(/^key "T1" Data\/TimeInterval: 60 s contradicts the suite's time step of 120 s/);
  });

  it("accepts the RFC 6287 spellings QH8-S512 and the bare -P, -S and -T defaults, hashing the suite as written", async () => {
    expect(parseSuite('OCRA-1:HOTP-SHA1-4:QH8-S512')).toMatchObject({ question: { format: 'H', lengthMax: 8 }, sessionBytes: 512 });
    expect(parseSuite('OCRA-1:HOTP-SHA1-6:QN08-P-S-T')).toMatchObject({ pin: 'SHA1', sessionBytes: 64, timeStepSeconds: 60 });
    const secret = random(20);
    const keyHex = Buffer.from(secret).toString('hex');
    for (const [suite, inputs, reference] of [
      ['OCRA-1:HOTP-SHA1-4:QH8-S512', { challenge: 'a1b2c3d4', session: new Uint8Array(512).fill(0xab) }, { question: 'a1b2c3d4', sessionHex: 'ab'.repeat(512) }],
      ['OCRA-1:HOTP-SHA1-6:QN08-P', { challenge: '12345678', pin: '2580' }, { question: '12345678', pin: '2580' }],
      ['OCRA-1:HOTP-SHA1-6:QN08-S', { challenge: '12345678', session: new Uint8Array(64).fill(0xcd) }, { question: '12345678', sessionHex: 'cd'.repeat(64) }],
    ] as const) {
      expect(ocra(suite, secret, inputs as never), suite).toBe(referenceOcra({ suite, keyHex, ...reference }).response);
    }
  });
});
