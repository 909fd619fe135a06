/**
 * The real-world shaped PSKC corpus (fixtures/pskc/README.md): files written by python-pskc and in the
 * shapes of multiOTP and NagraID exports. Each is read, imported into a host, and logged in with a response
 * computed by the test's own OCRA (tests/support/reference-ocra.ts on node:crypto), not by the engine under
 * test; the Luhn digit is checked by a separate transliteration too.
 */
import { readFileSync } from 'node:fs';
import { hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { readPskc } from '../../host/pskc.ts';
import { importKeys } from '../../host/transfer/import.ts';
import { referenceOcra } from '../support/reference-ocra.ts';
import { testHost } from './support/clock.ts';

interface CorpusKey { id: string; serial: string; suite: string; secretHex: string; pin?: string; counter?: number; checkDigits?: boolean; timeInterval?: number }
interface CorpusDoc { file: string; writer: string; protection: string; presharedKeyHex?: string; password?: string; keys: CorpusKey[]; unsupported?: string[] }

const fixtures = new URL('../../fixtures/pskc/', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, fixtures), 'utf8');
const corpus = (JSON.parse(read('corpus.json')) as { documents: CorpusDoc[] }).documents;
const decryptKeys = (d: CorpusDoc) => ({ ...(d.presharedKeyHex && { presharedKey: hexToBytes(d.presharedKeyHex) }), ...(d.password && { password: d.password }) });

/** Luhn, written out again here so the test does not trust firmware/luhn.ts. */
function luhnOk(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** A fallback PIN for keys whose file has none but whose suite mixes one in (NagraID cards: the user's PIN). */
const fallbackPin = '7319';

describe.each(corpus)('$file ($writer: $protection)', (doc) => {
  const supported = doc.keys.filter((k) => !doc.unsupported?.includes(k.id));

  it('reads every key with its secret, suite, serial, counter, check-digit flag and PIN', async () => {
    const result = readPskc(read(doc.file), decryptKeys(doc));
    expect(result.skipped).toEqual([]);
    expect(result.keys.map((k) => k.id)).toEqual(doc.keys.map((k) => k.id));
    for (const want of doc.keys) {
      const got = result.keys.find((k) => k.id === want.id)!;
      expect(Buffer.from(got.secret).toString('hex')).toBe(want.secretHex);
      expect({ suite: got.suite, serial: got.serial, counter: got.counter, pin: got.pin }).toEqual({ suite: want.suite, serial: want.serial, counter: want.counter, pin: want.pin });
      if (want.checkDigits !== undefined) expect(got.checkDigits).toBe(want.checkDigits);
      if (want.timeInterval !== undefined) expect(got.timeInterval).toBe(want.timeInterval);
    }
    if (doc.file.startsWith('weak-pbkdf2')) expect(result.warnings.join()).toMatch(/IterationCount 249 is below 1000/);
    else expect(result.warnings).toEqual([]);
  });

  it('imports and logs in with a response computed independently of the engine', async () => {
    const { host, clock } = await testHost();
    const result = await importKeys(host, readPskc(read(doc.file), decryptKeys(doc)), { user: 'trader1', pin: fallbackPin, skipUnsupported: doc.unsupported !== undefined, nowMs: clock.ms });
    expect(result.imported.map((d) => d.serial).sort()).toEqual(supported.map((k) => k.serial).sort());
    // Every unsupported key is listed with the key and the field named.
    expect(result.skipped.map((s) => s.id)).toEqual(doc.unsupported ?? []);
    for (const s of result.skipped) expect(s.reason).toMatch(new RegExp(`^key "${s.id}" AlgorithmParameters/Suite: .*numeric question`));
    for (const key of supported) {
      const { challenge } = await host.challenge({ user: 'trader1', serial: key.serial });
      const question = key.checkDigits ? challenge.slice(0, -1) : challenge;
      if (key.checkDigits) expect(luhnOk(challenge)).toBe(true);
      const { response } = referenceOcra({
        suite: key.suite, keyHex: key.secretHex, question,
        ...(key.counter !== undefined && { counter: BigInt(key.counter) }),
        ...(/-P/.test(key.suite) && { pin: key.pin ?? fallbackPin }),
        ...(key.timeInterval !== undefined && { timeStep: BigInt(Math.floor(clock.ms / 1000 / key.timeInterval)) }),
      });
      expect(await host.verify({ user: 'trader1', challenge, response, purpose: 'login' }), `${doc.file} ${key.serial}`).toMatchObject({ ok: true, serial: key.serial });
    }
  });
});

describe('the corpus without its key', () => {
  it.each(corpus.filter((d) => d.presharedKeyHex || d.password))('$file refuses a wrong key or password, naming what failed', (doc) => {
    const wrong = doc.password ? { password: `${doc.password}x` } : { presharedKey: hexToBytes(doc.presharedKeyHex!).map((b) => b ^ 1) };
    let result;
    try {
      result = readPskc(read(doc.file), wrong);
    } catch (error) {
      // The MAC key itself does not decrypt: the whole container is refused at once.
      expect((error as Error).message).toMatch(/^MACMethod: MACKey: does not decrypt \(wrong key or password\)/);
      return;
    }
    expect(result.keys).toEqual([]);
    expect(result.skipped.length).toBeGreaterThan(0);
    for (const s of result.skipped) expect(s.reason).toMatch(/^key "[^"]+" [A-Za-z/ ]+: .*(does not match|does not unwrap|wrong key)/);
  });
});
