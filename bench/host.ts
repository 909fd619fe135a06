/**
 * Full challenge -> verify cycles per second on the server, next to references measured in this same run:
 *  - the raw OCRA rate (a prepared key's respond(), the one HMAC a verification cannot avoid);
 *  - in memory (memory store), target ≥ 0.5× raw OCRA;
 *  - on a SQLite file in WAL mode with synchronous=NORMAL (survives a killed process: every commit is in the
 *    WAL before the call returns), target ≥ 5,000 cycles/s on one core;
 *  - on a SQLite file with synchronous=FULL (every commit fsync'd), next to this disk's commit limit measured
 *    directly (fsync'd small writes per second, and a bare SQLite insert loop with the same settings); target:
 *    the verifier's commits/s ≥ 0.8× the disk's.
 *
 * A cycle is the server's work: issue a challenge (one transaction) and verify the correct response (one
 * transaction). The card's side, computing the response, runs between the timed sections and is not counted.
 * Challenges go round-robin over many devices, as on a real server, so "never reissue" stays cheap.
 */
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashPin, prepareOcra } from '../firmware/ocra/index.ts';
import { openHost } from '../host/index.ts';
import { memoryStore } from '../host/memory-store.ts';
import { hashPassword, passwordCostDefault, passwordMatches } from '../host/password.ts';
import { newDatabasePageSizeBytes } from '../host/migrations.ts';
import { openSqliteStore, walAutocheckpointPages, type Synchronous } from '../host/sqlite-store.ts';
import type { Store } from '../host/store.ts';
import { alternateSamples, interleavedRounds, percentiles, roundsOf, sampleDurationMs, warmupDurationMs, type Row } from './harness.ts';
import { secretOf } from './secrets.ts';

const suite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1';
const pin = '1234';
const devices = 500;
const cyclesPerBatch = 500;
/** Durable cycles wait for an fsync each, far slower than in memory: a small batch keeps one round of the disk comparison short. */
const durableCyclesPerBatch = 20;
/** One round of the durable comparison: a few hundred fsyncs, short enough to alternate often. */
const diskRoundMs = 80;
/** One round of the in-memory comparison: long enough for a few batches, short enough to alternate often. */
const memoryRoundMs = 60;
/** Bytes before each page in a WAL file (sqlite.org/fileformat.html, "WAL frame header"). */
const walFrameHeaderBytes = 24;

/** A WAL that has reached this size has been checkpointed and restarted at least once: from then on commits overwrite it. */
const walWorkingSizeBytes = walAutocheckpointPages * (newDatabasePageSizeBytes + walFrameHeaderBytes);
/** A bound on that warm-up, so a disk too slow to fill the WAL still gets measured (and says so in the table). */
const walWarmupMsMax = 20_000;

/**
 * A host on `store` with `devices` enrolled cards, ready to run timed rounds of full cycles. With `walPath`, the
 * warm-up runs until the WAL has reached its working size: while it grows, every fsync also writes the file's
 * new size (about twice the cost), which a server that has been running for a minute no longer pays.
 */
async function cycleRunner(store: Store, walPath?: string, batch = cyclesPerBatch) {
  // The bench measures the verifier's throughput, so the per-account and per-device issue limits (which a
  // real server keeps, docs/host.md) are lifted here.
  const host = await openHost({ store, hostKey: new Uint8Array(randomBytes(32)), issueLimits: { perAccount: Number.MAX_SAFE_INTEGER, perDevice: Number.MAX_SAFE_INTEGER, windowMs: 60_000 } });
  const cards: ReturnType<typeof prepareOcra>[] = [];
  for (let i = 0; i < devices; i++) {
    await host.enrollKey({ user: `user${i}`, serial: String(100_000 + i), profile: 'dscplus', suite, secret: secretOf(i), pin });
    cards.push(prepareOcra(suite, secretOf(i)));
  }
  const users = cards.map((_, i) => `user${i}`);
  const pinHash = hashPin('SHA1', pin);
  let device = 0;
  const issued: { user: string; challenge: string; card: number }[] = [];
  const responses: string[] = [];
  let total = 0;

  /** One batch of cycles, one call at a time; returns the milliseconds spent in the host's calls. */
  async function batchMs(): Promise<number> {
    issued.length = 0;
    let t = performance.now();
    for (let i = 0; i < batch; i++) {
      const user = users[device]!;
      issued.push({ user, challenge: (await host.challenge({ user })).challenge, card: device });
      device = (device + 1) % devices;
    }
    let ms = performance.now() - t;
    responses.length = 0;
    for (const c of issued) responses.push(cards[c.card]!.respond({ challenge: c.challenge, pinHash })); // the card's work, untimed
    t = performance.now();
    for (let i = 0; i < batch; i++) {
      const c = issued[i]!;
      if (!(await host.verify({ user: c.user, challenge: c.challenge, response: responses[i]!, purpose: 'login' })).ok) throw new Error('bench: a correct response was rejected');
    }
    ms += performance.now() - t;
    total += batch;
    return ms;
  }

  /** Cycles per second over about `durationMs` of the host's time. */
  async function round(durationMs: number): Promise<number> {
    let ms = 0;
    let done = 0;
    while (ms < durationMs) {
      ms += await batchMs();
      done += batch;
    }
    return (done / ms) * 1000;
  }

  // Untimed cycles first (as roundsOf warms up the raw OCRA reference): the code is compiled and the
  // database's WAL has reached its working size, as on a server that has been running.
  await round(warmupDurationMs);
  const warmStart = performance.now();
  while (walPath !== undefined && walBytes(walPath) < walWorkingSizeBytes && performance.now() - warmStart < walWarmupMsMax) await round(50);
  total = 0;
  return {
    round,
    /** Cycles timed so far (after the warm-up). */
    cycles: () => total,
    async close() {
      await host.close();
      for (const card of cards) card.destroy();
    },
  };
}

function walBytes(walPath: string): number {
  return existsSync(walPath) ? statSync(walPath).size : 0;
}

/** Cycles per second over one run of about `durationMs` (after the warm-up). */
async function cycles(store: Store, durationMs: number, walPath?: string): Promise<{ perSecond: number; cycles: number }> {
  const runner = await cycleRunner(store, walPath);
  try {
    return { perSecond: await runner.round(durationMs), cycles: runner.cycles() };
  } finally {
    await runner.close();
  }
}

/**
 * In-memory cycles against the raw OCRA rate, in alternating rounds (see `alternateSamples`): both run on
 * the same machine minute, so the ratio is not the drift of this core's speed between two measurements.
 */
async function memoryVersusRaw(): Promise<{ raw: number; rawSpread: number; memory: number; ratio: number; spreadRatio: number; cycles: number }> {
  const pinHash = hashPin('SHA1', pin);
  const keys = Array.from({ length: devices }, (_, i) => prepareOcra(suite, secretOf(i)));
  const inputs = { challenge: '123456', pinHash };
  const rawRound = roundsOf(() => keys[0]!.respond(inputs), memoryRoundMs);
  // For context, not the target: the same HMAC over all the devices' keys in turn, as a server meets them (each
  // key's state is cold in the cache by the time its device comes round again).
  let next = 0;
  const spreadRound = roundsOf(() => {
    keys[next]!.respond(inputs);
    next = next + 1 === devices ? 0 : next + 1;
  }, memoryRoundMs);
  const runner = await cycleRunner(memoryStore());
  try {
    const { medians: rates, ratiosToFirst } = await alternateSamples([async () => rawRound(), () => runner.round(memoryRoundMs), async () => spreadRound()], interleavedRounds);
    return {
      raw: rates[0]!, rawSpread: rates[2]!, memory: rates[1]!, ratio: ratiosToFirst[1]!,
      spreadRatio: ratiosToFirst[1]! / ratiosToFirst[2]!, cycles: runner.cycles(),
    };
  } finally {
    await runner.close();
    for (const key of keys) key.destroy();
  }
}

/** Rounds of fsync'd small writes on this disk: the ceiling for durable commits. */
function fsyncRounds(dir: string) {
  const fd = openSync(join(dir, 'fsync.bin'), 'w');
  const block = Buffer.alloc(128, 1);
  let n = 0;
  return {
    round: roundsOf(() => {
      writeSync(fd, block, 0, block.length, (n++ % 64) * block.length);
      fsyncSync(fd);
    }, diskRoundMs),
    close: () => closeSync(fd),
  };
}

/** Rounds of bare SQLite commits (one small INSERT per transaction), with the verifier's page size and sync mode. */
function bareSqliteRounds(dir: string, synchronous: Synchronous) {
  const db = new Database(join(dir, `bare-${synchronous}.sqlite`));
  db.pragma(`page_size = ${newDatabasePageSizeBytes}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const value = Buffer.alloc(64, 2);
  const commit = db.transaction(() => insert.run(value));
  // roundsOf's warm-up is meant to take its WAL past SQLite's default 1,000-page checkpoint (on the development VM
  // it does: docs/bench.md), so timed commits overwrite a WAL of working size, as the verifier's do after theirs.
  return { round: roundsOf(() => commit.immediate(), diskRoundMs), close: () => db.close() };
}

/**
 * Durable (FULL) cycles against the disk's fsync rate and a bare SQLite commit loop, in alternating rounds
 * (see `alternateSamples`): a disk's fsync rate moves from one second to the next (by how much on the
 * development VM: docs/bench.md), so the three are measured in turn, a ratio taken inside each round, and the
 * median printed.
 */
async function durableVersusDisk(dir: string) {
  const disk = fsyncRounds(dir);
  const bare = bareSqliteRounds(dir, 'FULL');
  const runner = await cycleRunner(openSqliteStore(join(dir, 'full.sqlite'), { synchronous: 'FULL' }), join(dir, 'full.sqlite-wal'), durableCyclesPerBatch);
  try {
    const { medians: rates, ratiosToFirst } = await alternateSamples([async () => disk.round(), () => runner.round(diskRoundMs), async () => bare.round()], interleavedRounds);
    return {
      fsyncs: rates[0]!, cycles: rates[1]!, bare: rates[2]!, timedCycles: runner.cycles(),
      // Two durable commits per cycle: the challenge and the verification.
      commitsPerFsync: 2 * ratiosToFirst[1]!, barePerFsync: ratiosToFirst[2]!,
    };
  } finally {
    await runner.close();
    bare.close();
    disk.close();
  }
}

/** Password checks timed (the median is printed): each one is the default scrypt, a fraction of a second. */
export const passwordChecks = 7;

/** The first factor's cost: one check of a password against its stored scrypt hash, at the default cost. */
async function passwordCheckMs(): Promise<number> {
  const stored = await hashPassword('correct horse battery', (n) => new Uint8Array(randomBytes(n)));
  await passwordMatches('correct horse battery', stored); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < passwordChecks; i++) {
    const t = performance.now();
    if (!(await passwordMatches('correct horse battery', stored))) throw new Error('bench: the right password was refused');
    samples.push(performance.now() - t);
  }
  return percentiles(samples).median;
}

export async function bench(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dsc-bench-host-'));
  try {
    const section = 'host';
    // The durable runs go first, before the NORMAL run leaves megabytes of unflushed pages for the disk to
    // write back (which slows every fsync after it).
    const durable = await durableVersusDisk(dir);
    const { raw, rawSpread, memory, ratio: memoryRatio, spreadRatio, cycles: memoryCycles } = await memoryVersusRaw();
    const normal = await cycles(openSqliteStore(join(dir, 'normal.sqlite'), { synchronous: 'NORMAL' }), 2 * sampleDurationMs, join(dir, 'normal.sqlite-wal'));
    // A FULL commit costs the fsync plus the CPU of the transaction (statements, WAL writes, locks), which the
    // NORMAL run measures without the fsync: 1 / (1 / disk + cpu) is what the verifier can reach on this disk.
    const cpuPerCommitUs = 1e6 / (2 * normal.perSecond);
    const reachable = 1 / (1 / durable.fsyncs + cpuPerCommitUs / 1e6);
    const cost = passwordCostDefault;
    const passwordMs = await passwordCheckMs();
    return [
      { section, name: `password check (scrypt N=2^${Math.log2(cost.N)}, r=${cost.r}, p=${cost.p}, ${(128 * cost.N * cost.r) / 2 ** 20} MiB)`, value: passwordMs, unit: 'ms/check', note: `median of ${passwordChecks}: the first factor's cost per login, and per guess` },
      { section, name: 'raw OCRA respond() (SHA1-8 QN06-PSHA1)', value: raw, unit: 'responses/s', note: 'reference' },
      { section, name: 'cycle in memory (memory store)', value: memory, unit: 'cycles/s', ratio: memoryRatio, reference: 'raw OCRA', note: `context: the memory store is plain code now (the 0.5× target is retired); ${memoryCycles} cycles, alternating rounds with the raw rate` },
      { section, name: `raw OCRA respond() over ${devices} keys in turn`, value: rawSpread, unit: 'responses/s', note: `context: the cycle is ${spreadRatio.toFixed(2)}× this (cold per-device key state)` },
      { section, name: 'cycle on SQLite file, WAL, synchronous=NORMAL', value: normal.perSecond, unit: 'cycles/s', note: `target ≥ 5,000/s (${normal.cycles} cycles, one core)` },
      { section, name: 'cycle on SQLite file, WAL, synchronous=FULL', value: durable.cycles, unit: 'cycles/s', note: `2 fsync'd commits per cycle (${durable.timedCycles} cycles, alternating rounds with the disk)` },
      { section, name: 'verifier durable commits (FULL)', value: 2 * durable.cycles, unit: 'commits/s', ratio: durable.commitsPerFsync, reference: "disk fsync'd writes", note: 'target ≥ 0.8×' },
      { section, name: "disk: fsync'd 128-byte writes", value: durable.fsyncs, unit: 'fsyncs/s', note: "this disk's commit limit" },
      { section, name: `disk: bare SQLite INSERT commits (WAL, FULL, ${newDatabasePageSizeBytes} B pages)`, value: durable.bare, unit: 'commits/s', ratio: durable.barePerFsync, reference: "disk fsync'd writes", note: 'context: one-row commits, nothing else' },
      { section, name: 'verifier CPU per commit (from the NORMAL run)', value: cpuPerCommitUs, unit: 'µs/commit', note: `FULL can reach at most 1/(1/disk + this) = ${Math.round(reachable).toLocaleString('en-US')}/s = ${(reachable / durable.fsyncs).toFixed(2)}× disk` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
