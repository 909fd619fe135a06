/**
 * The verifier as a service under load: `dsc host serve`'s app (service/app.ts) on loopback, 32 clients in a
 * separate process answering prepared login challenges for 10 s each run, on SQLite with synchronous=NORMAL
 * and with synchronous=FULL (group commit), next to this disk's fsync rate measured just before and after;
 * then one client on FULL next to a bare one-row SQLite commit loop; then the 32 clients on PostgreSQL. Every
 * answer must verify (errors = 0).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ocra } from '../firmware/ocra/index.ts';
import { poolConnectionsMax, type PgStore } from '../host/pg-store.ts';
import type { Synchronous } from '../host/sqlite-store.ts';
import { buildService } from '../service/app.ts';
import { openServiceHost } from '../service/open.ts';
import { postgresSkipReason, testDatabase, testPostgres } from '../tests/support/postgres.ts';
import { percentiles, type Row } from './harness.ts';
import { secretOf } from './secrets.ts';

const section = 'service';
/** Concurrent clients and how long each load run lasts (the issue's bounded loopback load test). */
export const loadClients = 32;
export const loadDurationMs = 10_000;
/** Users (one card each) the load is spread over, and answers prepared per run (more than a run can use). */
const users = 512;
const preparedAnswers = 24_000;
/** Challenges asked for at once while preparing (below the store's queueCallsMax). */
const prepareChunk = 1_024;
const suite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1';
const pin = '2580';
/** How long the disk's fsync rate and the bare commit loop are measured. */
const referenceMs = 2_000;

function fsyncRate(dir: string): number {
  const fd = openSync(join(dir, 'fsync.bin'), 'w');
  const block = Buffer.alloc(128, 1);
  let n = 0;
  const end = performance.now() + referenceMs;
  try {
    while (performance.now() < end) {
      writeSync(fd, block, 0, block.length, 0);
      fsyncSync(fd);
      n++;
    }
  } finally {
    closeSync(fd);
  }
  return n / (referenceMs / 1000);
}

function bareCommitRate(dir: string): number {
  const db = new Database(join(dir, 'bare.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  let n = 0;
  const end = performance.now() + referenceMs;
  while (performance.now() < end) insert.run(n++);
  db.close();
  return n / (referenceMs / 1000);
}

/** Where a load run keeps its verifier: a SQLite file with this durability, or a PostgreSQL database. */
type Backend = { readonly synchronous: Synchronous } | { readonly postgresUrl: string };

async function loadRun(dir: string, backend: Backend, clients: number, durationMs: number) {
  const hostOptions = { issueLimits: { perAccount: 1e9, perDevice: 1e9, windowMs: 60_000 } };
  const opened = 'postgresUrl' in backend
    ? await openServiceHost({ dbPath: backend.postgresUrl, synchronous: 'NORMAL', create: true, hostKeyHex: randomBytes(32).toString('hex'), hostOptions })
    : await openServiceHost({ dbPath: join(dir, `host-${backend.synchronous}-${clients}.sqlite`), synchronous: backend.synchronous, create: true, hostOptions });
  await opened.host.enrollKeys(Array.from({ length: users }, (_, i) => ({ user: `u${i}`, serial: String(70_000_000 + i), profile: 'dscplus' as const, suite, secret: secretOf(i), pin })));
  // Challenges issued by the administrator's path (no password hash per login: the load is the verification).
  // Asked together, a chunk at a time (within the store's queue bound): they share commits.
  const work: { user: string; challenge: string; response: string }[] = [];
  for (let from = 0; from < preparedAnswers; from += prepareChunk) {
    work.push(...(await Promise.all(Array.from({ length: Math.min(prepareChunk, preparedAnswers - from) }, async (_, k) => {
      const i = (from + k) % users;
      const { challenge } = await opened.host.challenge({ user: `u${i}` });
      return { user: `u${i}`, challenge, response: ocra(suite, secretOf(i), { challenge, pin }) };
    }))));
  }
  const workFile = join(dir, 'work.json');
  writeFileSync(workFile, JSON.stringify(work));
  const service = await buildService({ host: opened.host, storeStats: () => opened.store.stats!() });
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  const address = service.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const commitsBefore = opened.store.stats!().commits;
  const retriesOf = () => ('retries' in opened.store ? (opened.store as PgStore).retries() : 0);
  const retriesBefore = retriesOf();
  const result = await new Promise<{ done: number; errors: number; firstError: string; elapsedMs: number; exhausted: boolean; latenciesMs: number[] }>((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'run-ts.js'), join(import.meta.dirname, 'service-client.ts'), url, workFile, String(clients), String(durationMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load client exited with ${code}`))));
  });
  const commits = opened.store.stats!().commits - commitsBefore;
  const retries = retriesOf() - retriesBefore;
  await service.close();
  const { median, p99 } = percentiles(result.latenciesMs);
  return { perSecond: result.done / (result.elapsedMs / 1000), done: result.done, errors: result.errors, firstError: result.firstError, exhausted: result.exhausted, median, p99, callsPerCommit: result.done / Math.max(1, commits), retries };
}

/**
 * The same load on PostgreSQL: the cluster of DSC_TEST_PG_URL (CI), else a throw-away one (tests/support/
 * postgres.ts: initdb in a temporary folder, fsync on, as installed), a new database for the run.
 */
async function postgresRows(dir: string, describe: (r: Awaited<ReturnType<typeof loadRun>>) => string): Promise<Row[]> {
  if (postgresSkipReason !== null) return [{ section, name: `${loadClients} clients, PostgreSQL`, value: Number.NaN, unit: '-', note: `not measured: ${postgresSkipReason}` }];
  const server = await testPostgres();
  try {
    const db = await testDatabase(server);
    try {
      const r = await loadRun(dir, { postgresUrl: db.url }, loadClients, loadDurationMs);
      return [
        { section, name: `${loadClients} clients, PostgreSQL (one instance, ${poolConnectionsMax} connections)`, value: r.perSecond, unit: 'verifications/s', note: `${describe(r)}; ${r.retries} serialization re-runs during the load` },
        { section, name: `${loadClients} clients, PostgreSQL: p50 / p99 latency`, value: r.median, unit: 'ms', note: `p99 ${r.p99.toFixed(2)} ms` },
      ];
    } finally {
      await db.drop();
    }
  } finally {
    server.stop();
  }
}

export async function bench(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dsc-bench-service-'));
  try {
    const rows: Row[] = [];
    const describe = (r: Awaited<ReturnType<typeof loadRun>>) => `${r.done} verifications, ${r.errors} errors${r.errors ? ` (first: ${r.firstError})` : ''}${r.exhausted ? ', ran out of prepared answers' : ''}; p50 ${r.median.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms; ${r.callsPerCommit.toFixed(1)} per commit`;
    const normal = await loadRun(dir, { synchronous: 'NORMAL' }, loadClients, loadDurationMs);
    rows.push({ section, name: `${loadClients} clients, SQLite synchronous=NORMAL`, value: normal.perSecond, unit: 'verifications/s', note: describe(normal) });
    rows.push({ section, name: `${loadClients} clients, NORMAL: p50 / p99 latency`, value: normal.median, unit: 'ms', note: `p99 ${normal.p99.toFixed(2)} ms` });
    const before = fsyncRate(dir);
    const full = await loadRun(dir, { synchronous: 'FULL' }, loadClients, loadDurationMs);
    const after = fsyncRate(dir);
    const disk = (before + after) / 2;
    rows.push({ section, name: `${loadClients} clients, SQLite FULL, group commit`, value: full.perSecond, unit: 'verifications/s', ratio: full.perSecond / disk, reference: "disk fsync'd writes", note: `target ≥ 3×; ${describe(full)}` });
    rows.push({ section, name: `${loadClients} clients, FULL: p50 / p99 latency`, value: full.median, unit: 'ms', note: `p99 ${full.p99.toFixed(2)} ms` });
    rows.push({ section, name: "disk: fsync'd 128-byte writes", value: disk, unit: 'fsyncs/s', note: `before ${Math.round(before)}, after ${Math.round(after)} the FULL run` });
    const bare = bareCommitRate(dir);
    const single = await loadRun(dir, { synchronous: 'FULL' }, 1, loadDurationMs / 2);
    rows.push({ section, name: '1 client, SQLite FULL over HTTP', value: single.perSecond, unit: 'verifications/s', ratio: single.perSecond / bare, reference: 'bare one-row SQLite FULL commit loop', note: `target ≥ 0.8×; bare loop ${Math.round(bare)}/s; ${describe(single)}` });
    rows.push(...(await postgresRows(dir, describe)));
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
