/**
 * What bench/service.ts puts under load and what it measures them against, all in the bench's own process (the
 * load client is another process): the verifier (`dsc host serve`'s app) on SQLite or PostgreSQL; the HTTP
 * floor, a fastify app with the service's server options whose one route does a bare one-row SQLite FULL
 * commit per request (HTTP and a durable commit, no verifier); the disk's fsync rate; and the bare one-row
 * SQLite FULL commit loop, in-process.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { ocra } from '../firmware/ocra/index.ts';
import { challengeTtlMaxMs } from '../host/issue.ts';
import type { PgStore } from '../host/pg-store.ts';
import type { Synchronous } from '../host/sqlite-store.ts';
import { bodyBytesMax, buildService, headerBytesMax, keepAliveTimeoutMs, requestsPerSocketMax, requestTimeoutMs } from '../service/app.ts';
import { openServiceHost } from '../service/open.ts';
import { secretOf } from './secrets.ts';

/** Users (one card each) the load is spread over. */
const users = 512;
/** Challenges asked for at once while preparing (below the store's queueCallsMax). */
const prepareChunk = 1_024;
const suite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1';
const pin = '2580';

/** A server under load: where it listens, how it prepares a file of answers, and its commit counts. */
export interface Target {
  readonly name: string;
  readonly url: string;
  /** Writes `count` fresh answers to a file and returns its path. */
  prepare(count: number): Promise<string>;
  /** Commits (transactions) so far. */
  commits(): number;
  /** PostgreSQL's serialization re-runs so far (0 elsewhere). */
  retries(): number;
  close(): Promise<void>;
}

/** Where a verifier keeps its data: a SQLite file with this durability (and group commit or not), or PostgreSQL. */
export type Backend = { readonly synchronous: Synchronous; readonly groupCommit: boolean } | { readonly postgresUrl: string };

function urlOf(app: { server: { address(): unknown } }): string {
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? (address as { port: number }).port : 0}`;
}

export async function verifierTarget(dir: string, name: string, backend: Backend): Promise<Target> {
  // Wide issue limits (the load is the verification, not the rate limiter) and the longest time to live, so
  // answers prepared before a long run are still open when it reaches them.
  const hostOptions = { issueLimits: { perAccount: 1e9, perDevice: 1e9, windowMs: 60_000 }, challengeTtlMs: challengeTtlMaxMs };
  const opened = 'postgresUrl' in backend
    ? await openServiceHost({ dbPath: backend.postgresUrl, synchronous: 'NORMAL', create: true, hostKeyHex: randomBytes(32).toString('hex'), hostOptions })
    : await openServiceHost({
      dbPath: join(dir, `host-${name}.sqlite`), synchronous: backend.synchronous, create: true, hostOptions,
      ...(!backend.groupCommit && { storeLimits: { batchCallsMax: 1 } }),
    });
  await opened.host.enrollKeys(Array.from({ length: users }, (_, i) => ({ user: `u${i}`, serial: String(70_000_000 + i), profile: 'dscplus' as const, suite, secret: secretOf(i), pin })));
  const service = await buildService({ host: opened.host, storeStats: () => opened.store.stats!() });
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  let files = 0;
  return {
    name,
    url: urlOf(service.app),
    async prepare(count) {
      // Challenges issued by the administrator's path (no password hash per login: the load is the
      // verification), asked for a chunk at a time (within the store's queue bound).
      const work: { user: string; challenge: string; response: string }[] = [];
      for (let from = 0; from < count; from += prepareChunk) {
        work.push(...(await Promise.all(Array.from({ length: Math.min(prepareChunk, count - from) }, async (_, k) => {
          const i = (from + k) % users;
          const { challenge } = await opened.host.challenge({ user: `u${i}` });
          return { user: `u${i}`, challenge, response: ocra(suite, secretOf(i), { challenge, pin }) };
        }))));
      }
      const file = join(dir, `work-${name}-${++files}.json`);
      writeFileSync(file, JSON.stringify(work));
      return file;
    },
    commits: () => opened.store.stats!().commits,
    retries: () => ('retries' in opened.store ? (opened.store as PgStore).retries() : 0),
    close: () => service.close(),
  };
}

function bareDatabase(path: string): { db: Database.Database; insert: Database.Statement } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  return { db, insert: db.prepare('INSERT INTO t (v) VALUES (?)') };
}

/**
 * The HTTP floor: the service's framework with its server options and the verifier's path, one bare one-row
 * SQLite FULL commit per request, then `{ok: true}`. What a verifier over HTTP cannot go below on this machine.
 */
export async function floorTarget(dir: string): Promise<Target> {
  const { db, insert } = bareDatabase(join(dir, 'floor.sqlite'));
  const app = Fastify({ logger: false, bodyLimit: bodyBytesMax, requestTimeout: requestTimeoutMs, keepAliveTimeout: keepAliveTimeoutMs, maxRequestsPerSocket: requestsPerSocketMax, http: { maxHeaderSize: headerBytesMax } });
  let commits = 0;
  app.post('/v1/login/verify', async (request) => {
    insert.run((request.body as { challenge: string }).challenge);
    commits++;
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  let files = 0;
  return {
    name: 'floor',
    url: urlOf(app),
    async prepare(count) {
      // Bodies of the verifier's shape and size; the floor only stores the challenge.
      const work = Array.from({ length: count }, (_, i) => ({ user: `u${i % users}`, challenge: String(100_000 + (i % 900_000)), response: '12345678' }));
      const file = join(dir, `work-floor-${++files}.json`);
      writeFileSync(file, JSON.stringify(work));
      return file;
    },
    commits: () => commits,
    retries: () => 0,
    async close() {
      await app.close();
      db.close();
    },
  };
}

/** How long the disk's fsync rate is measured, before and after a load. */
export const fsyncSampleMs = 2_000;

/** fsync'd 128-byte overwrites per second, for `fsyncSampleMs`. */
export function fsyncRate(dir: string): number {
  const fd = openSync(join(dir, 'fsync.bin'), 'w');
  const block = Buffer.alloc(128, 1);
  let n = 0;
  const end = performance.now() + fsyncSampleMs;
  try {
    while (performance.now() < end) {
      writeSync(fd, block, 0, block.length, 0);
      fsyncSync(fd);
      n++;
    }
  } finally {
    closeSync(fd);
  }
  return n / (fsyncSampleMs / 1000);
}

/**
 * The bare one-row SQLite FULL commit loop: each call runs it for `ms` and returns commits per second. It
 * blocks the event loop, so it runs only between load rounds (when no request is in flight).
 */
export function bareCommitLoop(dir: string): { round(ms: number): number; close(): void } {
  const { db, insert } = bareDatabase(join(dir, 'bare.sqlite'));
  let n = 0;
  return {
    round(ms) {
      const start = n;
      const t0 = performance.now();
      let now = t0;
      while (now < t0 + ms) {
        insert.run(String(n++));
        now = performance.now();
      }
      return (n - start) / ((now - t0) / 1000);
    },
    close: () => db.close(),
  };
}
