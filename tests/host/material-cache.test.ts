/** The key cache is an LRU with a bound: a long-lived verifier keeps at most `entriesMax` prepared keys. */
import { describe, expect, it } from 'vitest';
import { MaterialCache, materialCacheEntriesMax } from '../../host/match.ts';
import { sealer, secretContext } from '../../host/seal.ts';
import type { DeviceRow } from '../../host/store.ts';

const seal = sealer(new Uint8Array(32).fill(9), (n) => new Uint8Array(n).fill(3));

function row(serial: string, keyVersion = 1): DeviceRow {
  const secret = new Uint8Array(20).fill(Number(serial) % 250);
  return {
    serial, model: 'test', profile: 'digipass', kind: 'dsc', suite: 'OCRA-1:HOTP-SHA1-6:QN08', checkDigit: false,
    sealedSecret: seal.seal(secretContext(serial), secret), sealedPin: null, keyVersion, counter: 0, lastTimeStep: -1,
    failures: 0, locked: false, notBeforeMs: 0, expiresMs: null, enrolledMs: 0,
  };
}

describe('MaterialCache', () => {
  it(`keeps at most its bound (default ${materialCacheEntriesMax}), evicting the least recently used`, () => {
    const cache = new MaterialCache(seal, 2);
    const [a, b, c] = [row('1'), row('2'), row('3')];
    const first = cache.of(a);
    const second = cache.of(b);
    expect(cache.of(a)).toBe(first); // a hit: a is now the most recently used
    cache.of(c); // evicts b, not a
    expect(cache.size).toBe(2);
    expect(cache.of(a)).toBe(first);
    expect(cache.of(b)).not.toBe(second); // b was evicted and prepared again (evicting c)
    expect(cache.size).toBe(2);
  });

  it('never grows past the bound over many devices, and replaces an entry whose key changed', () => {
    const cache = new MaterialCache(seal, 16);
    for (let i = 0; i < 100; i++) cache.of(row(String(1000 + i)));
    expect(cache.size).toBe(16);
    const old = cache.of(row('1099'));
    expect(cache.of(row('1099', 2))).not.toBe(old);
    expect(cache.size).toBe(16);
  });

  it('the prepared keys answer as before (a hit and a re-prepared entry agree)', () => {
    const cache = new MaterialCache(seal, 1);
    const r = row('7');
    const before = cache.of(r).key.respond({ challenge: '12345678' });
    cache.of(row('8'));
    expect(cache.of(r).key.respond({ challenge: '12345678' })).toBe(before);
  });
});
