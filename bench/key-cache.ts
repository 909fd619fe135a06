/**
 * What a miss of the verifier's key cache costs, in CPU time, next to a hit measured in the same run
 * (alternating rounds, bench/harness.ts). A miss opens the sealed secret and the sealed PIN, hashes the PIN and
 * prepares the OCRA key (host/match.ts, `MaterialCache`); the issue's target is ≤ 30 µs of CPU for it.
 *  - the cache alone: `MaterialCache.of` on rows it never holds (a bound of one, each call evicting the last)
 *    against rows it does, and against a bare node:crypto ChaCha20-Poly1305 open of a secret's size (a miss
 *    does two, behind HChaCha20): a reference that moves with the machine's speed, which on a shared VM moves
 *    more than the code does;
 *  - a whole verification on SQLite (WAL, synchronous=NORMAL) whose device's key is not cached (more devices
 *    than `materialCacheEntriesMax`, taken in a ring, so each comes back after it was evicted) against one whose
 *    key is. The difference of the two is what a cache miss adds to a login.
 * CPU time (process.cpuUsage) rather than wall time: a verifier's cores are what a miss uses up, and on a
 * shared machine the wall clock also counts other processes.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHost } from '../host/index.ts';
import { MaterialCache, materialCacheEntriesMax } from '../host/match.ts';
import { pinContext, sealer, secretContext } from '../host/seal.ts';
import { openSqliteStore } from '../host/sqlite-store.ts';
import type { DeviceRow } from '../host/store.ts';
import { alternateRounds, alternateSamples, type Row } from './harness.ts';
import { loginRound } from './login-round.ts';
import { secretOf } from './secrets.ts';

const section = 'key-cache';
const suite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1';
const pin = '2580';
/** Devices whose keys stay cached in the warm rounds (far fewer than the cache holds). */
const warmDevices = 500;
/** Devices of the cold ring: more than the cache holds, so a device is evicted before its turn comes again. */
const coldDevices = materialCacheEntriesMax + 1_000;
/** Verifications per round (each subject), and calls of the cache per round. */
const verificationsPerRound = 100;
const cacheCallsPerRound = 2_000;
/** Rounds of the verification comparison (each: one round of each subject). */
const verificationRounds = 21;
/** Rows the cache-only comparison cycles through. */
const cacheRows = 1_000;
const enrolBatch = 1_000;

/** CPU microseconds spent in `fn`, this process's threads together. */
function cpuMicros(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/** One ChaCha20-Poly1305 open through node:crypto (set-up, AAD, tag, update, final), as `bareOpens` times it. */
function bareOpener(): () => void {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const aad = Buffer.from('device:70000000:secret');
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad, { plaintextLength: 20 });
  const body = cipher.update(secretOf(0));
  cipher.final();
  const tag = cipher.getAuthTag();
  return () => {
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    decipher.setAAD(aad, { plaintextLength: body.length });
    decipher.setAuthTag(tag);
    decipher.update(body).fill(0);
    decipher.final();
  };
}

/** Calls of `fn` per CPU second, over one round of `cacheCallsPerRound` calls. */
function cpuRate(fn: () => void): number {
  const micros = cpuMicros(() => {
    for (let k = 0; k < cacheCallsPerRound; k++) fn();
  });
  return (cacheCallsPerRound / micros) * 1e6;
}

/** The cache alone: misses (a bound of one, rows in a ring) against hits (every row held) and bare opens. */
async function cacheRates() {
  const seal = sealer(randomBytes(32), (n) => randomBytes(n));
  const rows: DeviceRow[] = Array.from({ length: cacheRows }, (_, i) => {
    const serial = String(70_000_000 + i);
    return {
      serial, model: 'DSC+', profile: 'dscplus', kind: 'dscplus', suite, checkDigit: false,
      sealedSecret: seal.seal(secretContext(serial), secretOf(i)), sealedPin: seal.seal(pinContext(serial), new TextEncoder().encode(pin)),
      keyVersion: 1, counter: 0, lastTimeStep: -1, failures: 0, locked: false, notBeforeMs: 0, expiresMs: null, enrolledMs: 0,
    };
  });
  const cold = new MaterialCache(seal, 1);
  const warm = new MaterialCache(seal, cacheRows);
  let next = 0;
  const round = (cache: MaterialCache) => () => cpuRate(() => cache.of(rows[(next = (next + 1) % cacheRows)]!));
  const open = bareOpener();
  const bareOpens = () => cpuRate(open);
  for (let k = 0; k < 3; k++) (round(warm)(), round(cold)(), bareOpens()); // warm-up: the JIT, and every row into `warm`
  const result = await alternateRounds([round(cold), round(warm), bareOpens]);
  cold.clear();
  warm.clear();
  return result;
}

/** Whole verifications on SQLite: devices of the cold ring against the warm ones. */
async function verificationRates(dir: string) {
  const store = openSqliteStore(join(dir, 'key-cache.sqlite'), { synchronous: 'NORMAL' });
  const host = await openHost({ store, hostKey: new Uint8Array(randomBytes(32)), issueLimits: { perAccount: Number.MAX_SAFE_INTEGER, perDevice: Number.MAX_SAFE_INTEGER, windowMs: 60_000 } });
  try {
    const devices = warmDevices + coldDevices;
    for (let from = 0; from < devices; from += enrolBatch) {
      await host.enrollKeys(Array.from({ length: Math.min(enrolBatch, devices - from) }, (_, k) => {
        const i = from + k;
        return { user: `u${i}`, serial: String(80_000_000 + i), profile: 'dscplus' as const, suite, secret: secretOf(i), pin };
      }));
    }
    let warmNext = 0;
    let coldNext = 0;
    const round = (nextDevice: () => number) => loginRound(host, { suite, pin, count: verificationsPerRound, bench: 'key-cache' }, nextDevice);
    const warm = round(() => (warmNext = (warmNext + 1) % warmDevices));
    const cold = round(() => warmDevices + (coldNext = (coldNext + 1) % coldDevices));
    for (let k = 0; k < warmDevices / verificationsPerRound; k++) await warm(); // every warm key cached
    return await alternateSamples([cold, warm], verificationRounds);
  } finally {
    await host.close();
  }
}

export async function bench(): Promise<Row[]> {
  const cache = await cacheRates();
  const dir = mkdtempSync(join(tmpdir(), 'dsc-bench-key-cache-'));
  try {
    const verify = await verificationRates(dir);
    const [missMicros, hitMicros, openMicros] = cache.rates.map((rate) => 1e6 / rate) as [number, number, number];
    const [coldMicros, warmMicros] = verify.medians.map((rate) => 1e6 / rate) as [number, number];
    return [
      { section, name: 'key-cache miss: open secret and PIN, prepare the key (CPU)', value: missMicros, unit: 'µs', ratio: cache.ratiosToFirst[1]!, reference: 'a hit, same rounds', note: `target ≤ 30 µs; a hit ${hitMicros.toFixed(2)} µs` },
      { section, name: 'the same miss ÷ one bare node:crypto ChaCha20-Poly1305 open (CPU)', value: cache.ratiosToFirst[2]!, unit: '×', note: `a bare open ${openMicros.toFixed(2)} µs in the same rounds; a miss does two` },
      { section, name: 'cold verification on SQLite, key not cached (CPU)', value: coldMicros, unit: 'µs', ratio: verify.ratiosToFirst[1]!, reference: 'a warm one, same rounds', note: `${(coldMicros - warmMicros).toFixed(1)} µs more than a warm one; ${coldDevices.toLocaleString('en-US')} devices in the cold ring, cache ≤ ${materialCacheEntriesMax.toLocaleString('en-US')}` },
      { section, name: 'warm verification on SQLite, key cached (CPU)', value: warmMicros, unit: 'µs', note: `${warmDevices} devices` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
