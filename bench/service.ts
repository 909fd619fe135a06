/**
 * The verifier as a service under load (docs/service.md "Speed" says what each row means): `dsc host serve`'s
 * app (service/app.ts) on loopback, the load client in a process of its own (bench/service-client.ts).
 *
 * 1. 32 clients against three verifiers in alternating rounds: SQLite NORMAL, FULL with group commit, FULL
 *    without it (one transaction and one fsync per verification), with this disk's fsync rate measured just
 *    before and after. The ratios between them are taken within rounds.
 * 2. 1 client against the FULL verifier, the HTTP floor (the same framework and client, one bare one-row FULL
 *    commit per request, no verifier) and the bare in-process commit loop, in alternating rounds.
 * 3. 32 clients against the verifier on PostgreSQL.
 *
 * Every answer must verify: an error makes the bench exit non-zero. The server's CPU per verification is
 * printed beside the rates because on a disk whose fsync costs less than a request's CPU, the CPU, not the
 * fsync, bounds what any HTTP verifier can do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poolConnectionsMax } from '../host/pg-store.ts';
import { postgresSkipReason, testDatabase, testPostgres } from '../tests/support/postgres.ts';
import { alternateSamples, percentiles, type Row } from './harness.ts';
import { LoadClient, preparedAnswersMax, roundSubject, Tally, warmUp } from './service-load.ts';
import { bareCommitLoop, floorTarget, fsyncRate, verifierTarget, type Target } from './service-targets.ts';

const section = 'service';
/** Concurrent clients and how long each target is under load in all (the issue's bounded loopback test). */
export const loadClients = 32;
export const loadDurationMs = 10_000;
/** Rounds each target's load is cut into (alternating between targets). */
const loadRounds = 10;
/** One client's load per subject in all, and its rounds. */
const singleDurationMs = 5_000;
const singleRounds = 10;

const integer = (n: number) => Math.round(n).toLocaleString('en-US');

/** The median over rounds of a's rate ÷ b's rate in the same round. */
function ratioInRounds(a: readonly number[], b: readonly number[]): number {
  return percentiles(a.map((rate, i) => rate / b[i]!)).median;
}

function describe(t: Tally, noun = 'verifications'): string {
  const { median, p99 } = t.latency;
  return [
    `${integer(t.done)} ${noun} in ${t.rates.length} rounds (${integer(Math.min(...t.rates))}–${integer(Math.max(...t.rates))}/s), ${t.errors} errors${t.errors ? ` (first: ${t.firstError})` : ''}`,
    `${integer(t.prepared)} answers prepared${t.shortRounds ? `; ${t.shortRounds} rounds RAN OUT of answers (preparedAnswersMax ${integer(preparedAnswersMax)}) and ended early` : ''}`,
    `p50 ${median.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; ${t.requestsPerCommit.toFixed(1)} per commit`,
  ].join('; ');
}

function cpuNote(t: Tally): string {
  return `server busy ${t.serverBusy.toFixed(2)} of one core, so one server process tops out near ${integer(1e6 / t.serverCpuPerRequestMicros)}/s; the load client used ${t.clientCpuPerRequestMicros.toFixed(0)} µs a request`;
}

function latencyRow(name: string, t: Tally): Row {
  const { median, p99 } = t.latency;
  return { section, name: `${name}: p50 / p99 latency`, value: median, unit: 'ms', note: `p99 ${p99.toFixed(2)} ms` };
}

async function withTargets<T>(open: (() => Promise<Target>)[], run: (targets: Target[]) => Promise<T>): Promise<T> {
  const targets: Target[] = [];
  try {
    for (const o of open) targets.push(await o());
    return await run(targets);
  } finally {
    for (const t of targets) await t.close();
  }
}

async function concurrentRows(dir: string, client: LoadClient): Promise<{ rows: Row[]; tallies: Tally[] }> {
  const [group, normal, each] = [new Tally(), new Tally(), new Tally()];
  const tallies = [group, normal, each];
  return withTargets([
    () => verifierTarget(dir, 'full-group', { synchronous: 'FULL', groupCommit: true }),
    () => verifierTarget(dir, 'normal', { synchronous: 'NORMAL', groupCommit: true }),
    () => verifierTarget(dir, 'full-each', { synchronous: 'FULL', groupCommit: false }),
  ], async (targets) => {
    for (const [i, target] of targets.entries()) await warmUp(client, target, tallies[i]!, loadClients);
    const before = fsyncRate(dir);
    await alternateSamples(targets.map((target, i) => roundSubject(client, target, tallies[i]!, loadClients, loadDurationMs / loadRounds)), loadRounds);
    const after = fsyncRate(dir);
    const disk = (before + after) / 2;
    const c = `${loadClients} clients`;
    const neededMicros = 1e6 / (3 * disk);
    const rows: Row[] = [
      { section, name: `${c}, SQLite NORMAL`, value: normal.perSecond, unit: 'verifications/s', note: describe(normal) },
      { section, name: `${c}, SQLite FULL, group commit`, value: group.perSecond, unit: 'verifications/s', ratio: group.perSecond / disk, reference: "disk fsync'd writes", note: `target ≥ 3×; ${describe(group)}` },
      { section, name: `${c}, SQLite FULL without group commit`, value: each.perSecond, unit: 'verifications/s', ratio: each.perSecond / disk, reference: "disk fsync'd writes", note: `one transaction and one fsync per verification (batchCallsMax 1); ${describe(each)}` },
      { section, name: `${c}, FULL: group commit vs without`, value: group.perSecond, unit: 'verifications/s', ratio: ratioInRounds(group.rates, each.rates), reference: 'FULL without group commit, same rounds', note: 'what sharing an fsync gains on this disk' },
      { section, name: `${c}, FULL group commit vs NORMAL`, value: group.perSecond, unit: 'verifications/s', ratio: ratioInRounds(group.rates, normal.rates), reference: 'NORMAL, same rounds', note: 'what durability costs under load (1.00 = nothing)' },
      latencyRow(`${c}, NORMAL`, normal),
      latencyRow(`${c}, FULL group commit`, group),
      latencyRow(`${c}, FULL without group commit`, each),
      { section, name: "disk: fsync'd 128-byte writes", value: disk, unit: 'fsyncs/s', note: `before ${integer(before)}, after ${integer(after)} the rounds; one fsync ≈ ${(1e6 / disk).toFixed(0)} µs` },
      { section, name: `server CPU per verification, ${c}, FULL group commit`, value: group.serverCpuPerRequestMicros, unit: 'µs', note: `${cpuNote(group)}; the ≥ 3× target needs ≤ ${neededMicros.toFixed(0)} µs` },
      { section, name: `server CPU per verification, ${c}, NORMAL`, value: normal.serverCpuPerRequestMicros, unit: 'µs', note: cpuNote(normal) },
      { section, name: `server CPU per verification, ${c}, FULL without group commit`, value: each.serverCpuPerRequestMicros, unit: 'µs', note: cpuNote(each) },
    ];
    return { rows, tallies };
  });
}

async function singleClientRows(dir: string, client: LoadClient): Promise<{ rows: Row[]; tallies: Tally[] }> {
  const [verifier, floor] = [new Tally(), new Tally()];
  const bare = bareCommitLoop(dir);
  const bareRates: number[] = [];
  const roundMs = singleDurationMs / singleRounds;
  try {
    return await withTargets([
      () => verifierTarget(dir, 'single', { synchronous: 'FULL', groupCommit: true }),
      () => floorTarget(dir),
    ], async ([verifierServer, floorServer]) => {
      await warmUp(client, verifierServer!, verifier, 1);
      await warmUp(client, floorServer!, floor, 1);
      await alternateSamples([
        roundSubject(client, verifierServer!, verifier, 1, roundMs),
        roundSubject(client, floorServer!, floor, 1, roundMs),
        async () => {
          const rate = bare.round(roundMs);
          bareRates.push(rate);
          return rate;
        },
      ], singleRounds);
      const bareRate = percentiles(bareRates).median;
      const own = verifier.serverCpuPerRequestMicros - floor.serverCpuPerRequestMicros;
      const rows: Row[] = [
        { section, name: '1 client, SQLite FULL over HTTP', value: verifier.perSecond, unit: 'verifications/s', ratio: ratioInRounds(verifier.rates, bareRates), reference: 'bare one-row SQLite FULL commit loop, same rounds', note: `target ≥ 0.8×; bare loop ${integer(bareRate)}/s; ${describe(verifier)}` },
        { section, name: '1 client, FULL over HTTP vs the HTTP floor', value: verifier.perSecond, unit: 'verifications/s', ratio: ratioInRounds(verifier.rates, floor.rates), reference: 'HTTP floor, same rounds', note: `floor ${integer(floor.perSecond)}/s` },
        { section, name: '1 client, HTTP floor: fastify route, one bare FULL commit', value: floor.perSecond, unit: 'requests/s', ratio: ratioInRounds(floor.rates, bareRates), reference: 'bare one-row SQLite FULL commit loop, same rounds', note: `the same client and framework, no verifier; server CPU ${floor.serverCpuPerRequestMicros.toFixed(0)} µs a request; ${describe(floor, 'requests')}` },
        { section, name: 'server CPU per verification, 1 client, FULL', value: verifier.serverCpuPerRequestMicros, unit: 'µs', note: `${own.toFixed(0)} µs more than the HTTP floor's request (the verifier's own); ${cpuNote(verifier)}` },
      ];
      return { rows, tallies: [verifier, floor] };
    });
  } finally {
    bare.close();
  }
}

/**
 * The 32 clients on PostgreSQL: the cluster of DSC_TEST_PG_URL (CI), else a throw-away one (tests/support/
 * postgres.ts: initdb in a temporary folder, fsync on, as installed), a new database for the run.
 */
async function postgresRows(dir: string, client: LoadClient): Promise<{ rows: Row[]; tallies: Tally[] }> {
  const name = `${loadClients} clients, PostgreSQL`;
  if (postgresSkipReason !== null) return { rows: [{ section, name, value: Number.NaN, unit: '-', note: `not measured: ${postgresSkipReason}` }], tallies: [] };
  const server = await testPostgres();
  try {
    const db = await testDatabase(server);
    try {
      const pg = new Tally();
      await withTargets([() => verifierTarget(dir, 'pg', { postgresUrl: db.url })], async ([target]) => {
        await warmUp(client, target!, pg, loadClients);
        await alternateSamples([roundSubject(client, target!, pg, loadClients, loadDurationMs / loadRounds)], loadRounds);
      });
      const rows: Row[] = [
        { section, name: `${name} (one instance, ${poolConnectionsMax} connections)`, value: pg.perSecond, unit: 'verifications/s', note: `${describe(pg)}; ${pg.retries} serialization re-runs during the load` },
        latencyRow(name, pg),
        { section, name: `server CPU per verification, ${name}`, value: pg.serverCpuPerRequestMicros, unit: 'µs', note: `the verifier's process only (PostgreSQL's own CPU is not counted); ${cpuNote(pg)}` },
      ];
      return { rows, tallies: [pg] };
    } finally {
      await db.drop();
    }
  } finally {
    server.stop();
  }
}

export async function bench(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dsc-bench-service-'));
  const client = LoadClient.start();
  try {
    const parts = [await concurrentRows(dir, client), await singleClientRows(dir, client), await postgresRows(dir, client)];
    // Zero errors is part of the measurement: a rate of refused or failed answers means nothing.
    const errors = parts.flatMap((p) => p.tallies).reduce((n, t) => n + t.errors, 0);
    if (errors > 0) {
      process.stderr.write(`bench service: ${errors} answers did not verify (see the rows' notes)\n`);
      process.exitCode = 1;
    }
    return parts.flatMap((p) => p.rows);
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
