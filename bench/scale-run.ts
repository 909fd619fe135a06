/**
 * The process `bench/scale.ts` measures (its own process, so the peak RSS is the verifier's alone): a SQLite
 * host with `devices` enrolled cards, logins on devices drawn at random until the key cache is full (it holds
 * `materialCacheEntriesMax`), then logins spread over all of them for `seconds`, in alternating rounds of
 * devices drawn at random from all (their keys almost never cached) and of a few devices whose keys stay
 * cached. Prints one JSON line.
 *
 * Enrolment goes straight into the database (one transaction, prepared statements, each secret and PIN sealed
 * as `dsc host enroll` seals them, with the host's own sealer): through the host, a million enrolments would take
 * most of an hour here, and how enrolment performs is not what this measures.
 *
 * Usage: node --expose-gc bin/run-ts.js bench/scale-run.ts DEVICES SECONDS
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { materialCacheEntriesMax } from '../host/match.ts';
import { pinContext, sealer, secretContext } from '../host/seal.ts';
import { openServiceHost } from '../service/open.ts';
import { alternateSamples } from './harness.ts';
import { loginRound } from './login-round.ts';
import { secretOf } from './secrets.ts';

export interface ScaleResult {
  readonly devices: number;
  readonly enrolSeconds: number;
  readonly logins: number;
  readonly coldMicros: number;
  readonly warmMicros: number;
  readonly coldToWarm: number;
  readonly rssStartBytes: number;
  readonly rssPeakBytes: number;
  readonly rssEndBytes: number;
  /** The JavaScript heap in use at the end, after a full collection (run with --expose-gc; else NaN). */
  readonly heapLiveBytes: number;
  readonly databaseBytes: number;
}

const suite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1';
const pin = '2580';
const serialBase = 10_000_000;
/** Devices whose keys stay cached in the warm rounds (far fewer than the cache holds). */
const warmDevices = 500;
const verificationsPerRound = 100;

/** Every device row and its assignment in one transaction, sealed under `hostKey`. */
function enrolDirectly(dbPath: string, hostKey: Uint8Array, devices: number): void {
  const db = new Database(dbPath);
  try {
    const seal = sealer(hostKey, (n) => new Uint8Array(randomBytes(n)));
    const device = db.prepare(
      `INSERT INTO devices (serial, model, profile, kind, suite, check_digit, sealed_secret, sealed_pin, enrolled_ms)
       VALUES (?, 'DSC+', 'dscplus', 'dscplus', ?, 0, ?, ?, ?)`,
    );
    const assignment = db.prepare('INSERT INTO assignments (user, serial, active) VALUES (?, ?, 1)');
    const pinBytes = utf8ToBytes(pin);
    const nowMs = Date.now();
    db.transaction(() => {
      for (let i = 0; i < devices; i++) {
        const serial = String(serialBase + i);
        const secret = secretOf(i);
        device.run(serial, suite, seal.seal(secretContext(serial), secret), seal.seal(pinContext(serial), pinBytes), nowMs);
        assignment.run(`u${i}`, serial);
        secret.fill(0);
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

export async function runScale(devices: number, seconds: number): Promise<ScaleResult> {
  const rssStartBytes = process.memoryUsage().rss;
  const dir = mkdtempSync(join(tmpdir(), 'dsc-bench-scale-'));
  const dbPath = join(dir, 'scale.sqlite');
  const hostKey = new Uint8Array(randomBytes(32));
  const hostKeyHex = Buffer.from(hostKey).toString('hex');
  // The bench measures the verifier, so the per-account and per-device issue limits are lifted.
  const hostOptions = { issueLimits: { perAccount: Number.MAX_SAFE_INTEGER, perDevice: Number.MAX_SAFE_INTEGER, windowMs: 60_000 } };
  try {
    // The schema and the host key's check value, as a new database gets them.
    await (await openServiceHost({ dbPath, hostKeyHex, synchronous: 'NORMAL', create: true, hostOptions })).close();
    const enrolStart = performance.now();
    enrolDirectly(dbPath, hostKey, devices);
    const enrolSeconds = (performance.now() - enrolStart) / 1000;

    const opened = await openServiceHost({ dbPath, hostKeyHex, synchronous: 'NORMAL', create: false, hostOptions });
    const { host } = opened;
    let logins = 0;
    /** One round: challenges for these devices (untimed), then their verifications, timed in CPU. */
    const round = (nextDevice: () => number) =>
      loginRound(host, { suite, pin, count: verificationsPerRound, bench: 'scale', onLogins: (count) => (logins += count) }, nextDevice);
    let warmNext = 0;
    const warm = round(() => (warmNext = (warmNext + 1) % warmDevices));
    // Drawn from all the devices; the warm ones are a negligible share of them.
    const cold = round(() => Math.floor(Math.random() * devices));
    // The key cache filled to its bound first (its memory is what a long-lived verifier holds), then the warm keys.
    const fill = round(() => Math.floor(Math.random() * devices));
    for (let k = 0; k < materialCacheEntriesMax / verificationsPerRound; k++) await fill();
    for (let k = 0; k < warmDevices / verificationsPerRound; k++) await warm();
    // Rounds until the time is up: how many a round takes is measured on the first pair.
    const pairStart = performance.now();
    await cold();
    await warm();
    const pairMs = performance.now() - pairStart;
    const rounds = Math.max(3, Math.floor((seconds * 1000) / pairMs));
    const result = await alternateSamples([cold, warm], rounds);
    global.gc?.();
    const { rss: rssEndBytes, heapUsed } = process.memoryUsage();
    const heapLiveBytes = global.gc ? heapUsed : Number.NaN;
    await opened.close();
    const [coldRate, warmRate] = result.medians as [number, number];
    return {
      devices, enrolSeconds, logins,
      coldMicros: 1e6 / coldRate, warmMicros: 1e6 / warmRate, coldToWarm: result.ratiosToFirst[1]!,
      rssStartBytes, rssPeakBytes: process.resourceUsage().maxRSS * 1024, rssEndBytes, heapLiveBytes,
      databaseBytes: statSync(dbPath).size,
    };
  } finally {
    hostKey.fill(0);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [devices, seconds] = process.argv.slice(2).map(Number) as [number, number];
  if (!Number.isSafeInteger(devices) || devices < warmDevices || !(seconds > 0)) {
    process.stderr.write(`usage: scale-run.ts DEVICES SECONDS (DEVICES ≥ ${warmDevices}), got ${process.argv.slice(2).join(' ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await runScale(devices, seconds))}\n`);
}
