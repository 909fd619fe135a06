/**
 * A real service for the tests: the verifier on a fresh SQLite file (or a given PostgreSQL database), served by fastify on a loopback port,
 * called with real HTTP (fetch). `snapshot` reads every table through a second connection, so a test can show
 * that a refused request wrote nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DeviceRecord } from '../../../firmware/device-record.ts';
import { buildService, type Service } from '../../../service/app.ts';
import { openServiceHost, type StoreLimits } from '../../../service/open.ts';
import type { HostOptions } from '../../../host/open.ts';
import { cardResponse, makeRecord } from '../../host/support/devices.ts';

export const adminToken = 'test-admin-token-0123456789abcdef0123456789';
/** Every test user's password. */
export const password = 'correct horse battery';
/** A cheap password hash and wide issue limits: the tests log in many times (the defaults are in docs/host.md). */
export const testHostOptions = { passwordCost: { N: 2 ** 10, r: 8, p: 1 }, issueLimits: { perAccount: 10_000, perDevice: 10_000, windowMs: 60_000 } };

export interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: any;
}

export interface TestService {
  readonly url: string;
  readonly dbPath: string;
  readonly service: Service;
  /** Device records by serial, for computing the card's answers. */
  readonly cards: Map<string, { record: DeviceRecord; pin: string }>;
  enrol(user: string, serial: number, options?: { pin?: string; kind?: 'dsc' | 'dscplus' | 'security-code-card' | 'mobile-app' }): Promise<DeviceRecord>;
  answer(serial: string, challenge: string, pin?: string): string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** Log in (password, challenge, the card's answer) and return the session token. */
  login(user: string, device?: string): Promise<string>;
  /** Every row of every table, as one string. */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

/** Every row of every table of a PostgreSQL database, in a fixed order, as one string. */
async function postgresSnapshot(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")).rows.map((r) => r.tablename);
    const out: [string, string[]][] = [];
    for (const table of tables) {
      const rows = (await client.query({ text: `SELECT * FROM "${table}"`, rowMode: 'array' })).rows as unknown[][];
      out.push([table, rows.map((r) => JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))).sort()]);
    }
    return JSON.stringify(out);
  } finally {
    await client.end();
  }
}

/**
 * @example
 * const s = await startTestService();                          // SQLite, in a temporary folder
 * const p = await startTestService({ postgresUrl: db.url });   // PostgreSQL (tests/support/postgres.ts)
 */
export async function startTestService(options: {
  durable?: boolean; adminToken?: string | null; postgresUrl?: string;
  /** The store's bounds, shrunk for a test (service/open.ts). */
  storeLimits?: StoreLimits;
  /** Instead of `testHostOptions` (e.g. the default password cost, to fill `passwordChecksMax`). */
  hostOptions?: Pick<HostOptions, 'passwordCost' | 'issueLimits' | 'lockLimit'>;
} = {}): Promise<TestService> {
  const dir = mkdtempSync(join(tmpdir(), 'dsc-service-'));
  const dbPath = options.postgresUrl ?? join(dir, 'host.sqlite');
  const opened = await openServiceHost({
    dbPath, synchronous: options.durable ? 'FULL' : 'NORMAL', create: true, hostOptions: options.hostOptions ?? testHostOptions,
    ...(options.storeLimits && { storeLimits: options.storeLimits }),
    ...(options.postgresUrl !== undefined && { hostKeyHex: randomBytes(32).toString('hex') }),
  });
  const token = options.adminToken === null ? undefined : (options.adminToken ?? adminToken);
  const service = await buildService({ host: opened.host, storeStats: () => opened.store.stats!(), ...(token !== undefined && { adminToken: token }) });
  await service.app.listen({ host: '127.0.0.1', port: 0 });
  const address = service.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const cards = new Map<string, { record: DeviceRecord; pin: string }>();
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(url + path, init);
    const type = response.headers.get('content-type') ?? '';
    const text = await response.text();
    return { status: response.status, type, body: type.includes('json') ? JSON.parse(text) : text };
  };
  return {
    url, dbPath, service, cards,
    async enrol(user, serial, enrolOptions = {}) {
      const pin = enrolOptions.pin ?? '2580';
      const record = makeRecord({ serial, pin });
      await opened.host.enroll({ user, record, ...(enrolOptions.kind && { kind: enrolOptions.kind }) });
      await opened.host.setPassword({ user, password });
      cards.set(String(serial), { record, pin });
      return record;
    },
    answer(serial, challenge, pin) {
      const card = cards.get(serial);
      if (!card) throw new Error(`no test card ${serial}`);
      return cardResponse(card.record, challenge, pin ?? card.pin);
    },
    request,
    post: (path, body, headers) => request('POST', path, body, headers),
    async login(user, device) {
      const start = await request('POST', '/v1/login/start', { user, password, ...(device && { device }) });
      if (start.status !== 200) throw new Error(`login/start: ${JSON.stringify(start.body)}`);
      const card = cards.get(start.body.device)!;
      const verified = await request('POST', '/v1/login/verify', { user, challenge: start.body.challenge, response: cardResponse(card.record, start.body.challenge, card.pin) });
      if (verified.status !== 200) throw new Error(`login/verify: ${JSON.stringify(verified.body)}`);
      return verified.body.session.token;
    },
    async snapshot() {
      if (options.postgresUrl !== undefined) return postgresSnapshot(options.postgresUrl);
      const db = new Database(dbPath, { readonly: true });
      try {
        const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
        return JSON.stringify(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`).raw().all()]), (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
      } finally {
        db.close();
      }
    },
    async close() {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
