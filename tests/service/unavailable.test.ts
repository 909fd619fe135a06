/**
 * The service's 503 answers, against the real server: when a bound is full (password checks, the store's
 * waiting calls), when a transaction runs out of its time (a lock another client holds, on SQLite and on
 * PostgreSQL) and when a request arrives while draining, the answer is a 503 problem document with Retry-After,
 * nothing is written, and /metrics counts it. The bounds are shrunk through the store options the service
 * documents (service/open.ts `storeLimits`), never by a mock.
 */
import { connect, type Socket } from 'node:net';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordChecksMax } from '../../host/index.ts';
import { postgresSkipReason, testDatabase, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { adminToken, password, startTestService, testHostOptions, type Reply, type TestService } from './support/service.ts';

/** A 503 as the service must give it. */
function expectUnavailable(reply: Reply, reason: string): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(503);
  expect(reply.type).toContain('application/problem+json');
  expect(reply.body).toMatchObject({ ok: false, reason, status: 503 });
}

async function requestWithHeaders(url: string, path: string, body: unknown): Promise<Reply & { retryAfter: string | null }> {
  const response = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  return { status: response.status, type, body: type.includes('json') ? JSON.parse(text) : text, retryAfter: response.headers.get('retry-after') };
}

/** Polls (10 ms apart) for the service to have accepted a test's connections. */
const acceptPollsMax = 100;

const unavailableCount = (metrics: string, reason: string): number => Number(new RegExp(`^dsc_unavailable_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);

describe('503 answers on SQLite', () => {
  it(`beyond ${passwordChecksMax} password checks at once, login/start answers 503 busy with Retry-After, and the refused ones write nothing`, async () => {
    // The default password cost: each check takes long enough that the checks of many concurrent logins overlap.
    const service = await startTestService({ hostOptions: { issueLimits: testHostOptions.issueLimits } });
    try {
      await service.enrol('u', 54100001);
      const auditRows = () => {
        const db = new Database(service.dbPath, { readonly: true });
        try {
          return (db.prepare('SELECT count(*) FROM audit').pluck().get() as number) + (db.prepare('SELECT count(*) FROM challenges').pluck().get() as number);
        } finally {
          db.close();
        }
      };
      // What one login writes (audit rows and its challenge).
      const before = auditRows();
      expect((await requestWithHeaders(service.url, '/v1/login/start', { user: 'u', password })).status).toBe(200);
      const perLogin = auditRows() - before;
      expect(perLogin).toBeGreaterThan(0);

      const start = auditRows();
      const replies = await Promise.all(Array.from({ length: passwordChecksMax * 3 }, () => requestWithHeaders(service.url, '/v1/login/start', { user: 'u', password })));
      const ok = replies.filter((r) => r.status === 200);
      const refused = replies.filter((r) => r.status !== 200);
      expect(refused.length, 'no login was refused busy: the password checks did not overlap').toBeGreaterThan(0);
      for (const r of refused) {
        expectUnavailable(r, 'busy');
        expect(r.body.detail).toContain(`${passwordChecksMax} password checks`);
        expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      expect(auditRows() - start).toBe(ok.length * perLogin);
      const metrics = (await service.request('GET', '/metrics')).body as string;
      expect(unavailableCount(metrics, 'busy')).toBe(refused.length);
    } finally {
      await service.close();
    }
  }, 120_000);

  it("a transaction waiting for another process's write lock is refused after the busy timeout: 503 busy, nothing written, the same call succeeds later", async () => {
    const service = await startTestService({ storeLimits: { busyTimeoutMs: 300 } });
    try {
      await service.enrol('w', 54100002);
      const start = await service.post('/v1/login/start', { user: 'w', password });
      expect(start.status).toBe(200);
      const verify = { user: 'w', challenge: start.body.challenge, response: service.answer(start.body.device, start.body.challenge) };
      const before = await service.snapshot();
      const other = new Database(service.dbPath);
      other.exec('BEGIN IMMEDIATE');
      let reply;
      try {
        reply = await requestWithHeaders(service.url, '/v1/login/verify', verify);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      expectUnavailable(reply, 'busy');
      expect(reply.body.detail).toContain('write lock');
      expect(reply.retryAfter).not.toBeNull();
      expect(await service.snapshot()).toBe(before);
      expect(unavailableCount((await service.request('GET', '/metrics')).body, 'busy')).toBe(1);
      expect((await service.post('/v1/login/verify', verify)).status).toBe(200);
    } finally {
      await service.close();
    }
  });

  it("while a transaction waits for another process's write lock, the service keeps answering; the wait ends when the lock is let go", async () => {
    const service = await startTestService({ storeLimits: { busyTimeoutMs: 3_000 } });
    try {
      await service.enrol('h', 54100003);
      const start = await service.post('/v1/login/start', { user: 'h', password });
      const verify = { user: 'h', challenge: start.body.challenge, response: service.answer(start.body.device, start.body.challenge) };
      const other = new Database(service.dbPath);
      other.exec('BEGIN IMMEDIATE');
      let pending: Promise<Reply>;
      try {
        let settled = false;
        pending = service.post('/v1/login/verify', verify).finally(() => (settled = true));
        // The store waits for the lock in slices, giving the event loop back between them: other requests are
        // answered meanwhile (a wait that blocked the process would answer nothing until it gave up).
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect((await service.request('GET', '/healthz')).status).toBe(200);
        expect((await service.request('GET', '/metrics')).status).toBe(200);
        expect(settled).toBe(false);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      expect((await pending).status).toBe(200);
    } finally {
      await service.close();
    }
  });

  it('beyond queueCallsMax waiting calls, a request is refused at once: 503 busy, counted, the refused ones write nothing', async () => {
    const queueMax = 2;
    const requests = 8;
    const service = await startTestService({ storeLimits: { queueCallsMax: queueMax } });
    try {
      await service.enrol('q', 54100004);
      const start = await service.post('/v1/login/start', { user: 'q', password });
      expect(start.status).toBe(200);
      const verify = { user: 'q', challenge: start.body.challenge, response: '00000000' };
      // Connected and accepted first, then every request written in one turn of the event loop: the service
      // reads them all in its next I/O phase, so all ask for a transaction before the store's runner starts.
      const { hostname, port } = new URL(service.url);
      const sockets = await Promise.all(Array.from({ length: requests }, () => new Promise<Socket>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => resolve(socket));
        socket.on('error', reject);
      })));
      const connections = () => new Promise<number>((resolve, reject) => service.service.app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
      for (let poll = 0; poll < acceptPollsMax && (await connections()) < requests; poll++) await new Promise((resolve) => setTimeout(resolve, 10));
      const replies = sockets.map((socket) => new Promise<string>((resolve) => {
        let text = '';
        socket.setEncoding('utf8').on('data', (t: string) => {
          text += t;
          if (/\r\n\r\n[\s\S]*\}$/.test(text)) socket.end();
        });
        socket.on('close', () => resolve(text));
      }));
      for (const socket of sockets) socket.write(rawPost('/v1/login/verify', verify));
      const texts = await Promise.all(replies);
      const refused = texts.filter((t) => t.startsWith('HTTP/1.1 503'));
      expect(refused.length, texts.map((t) => t.split('\r\n')[0]).join(', ')).toBe(requests - queueMax);
      for (const text of refused) {
        expect(text).toMatch(/^retry-after: \d+/im);
        expect(text).toMatch(/^content-type: application\/problem\+json/im);
        expect(text).toContain(`busy: ${queueMax} calls are already waiting`);
      }
      // The ones that ran were wrong guesses, each counted; the refused ones counted nothing.
      const devices = await service.request('GET', '/v1/admin/devices?user=q', undefined, { authorization: `Bearer ${adminToken}` });
      expect(devices.body.devices[0].failures).toBe(requests - refused.length);
      expect(unavailableCount((await service.request('GET', '/metrics')).body, 'busy')).toBe(refused.length);
    } finally {
      await service.close();
    }
  });
});

/** Raw HTTP/1.1 on one socket: `first`, then `second` pipelined after `afterFirst` ran; the two replies' status lines and bodies. */
function pipelined(url: string, first: string, second: string, afterFirst: () => void): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    socket.setEncoding('utf8').on('data', (t: string) => (text += t));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.write(first, () => setTimeout(() => {
      afterFirst();
      setTimeout(() => socket.write(second), 100);
    }, 200));
  });
}

const rawPost = (path: string, body: unknown): string => {
  const text = JSON.stringify(body);
  return `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
};

describe.skipIf(postgresSkipReason !== null)('503 answers on PostgreSQL', () => {
  let server: TestPostgres;
  let db: { url: string; drop(): Promise<void> };
  let service: TestService;
  const timeoutMs = 1_500;
  const connectionsMax = 2;
  const waitingMax = 2;

  beforeAll(async () => {
    server = await testPostgres();
    db = await testDatabase(server);
    service = await startTestService({ postgresUrl: db.url, storeLimits: { connectionsMax, waitingCallsMax: waitingMax, transactionTimeoutMs: timeoutMs } });
    await service.enrol('held', 54100003);
  }, 120_000);

  afterAll(async () => {
    await service?.close();
    await db?.drop();
    server?.stop();
  });

  /** A second client holding the device's row lock, as another instance mid-transaction would. */
  async function holdDevice(serial: string): Promise<{ release(): Promise<void>; stillHeld(): Promise<boolean> }> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('BEGIN');
    await client.query('SELECT serial FROM devices WHERE serial = $1 FOR UPDATE', [serial]);
    return {
      async stillHeld() {
        const r = await client.query("SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.pid = pg_backend_pid() AND l.locktype = 'transactionid'");
        return r.rows[0].n > 0;
      },
      async release() {
        await client.query('ROLLBACK');
        await client.end();
      },
    };
  }

  it(`a row lock held by another client: ${connectionsMax} calls run out of their ${timeoutMs} ms, ${waitingMax} wait, the rest are refused at once; all 503 busy, nothing written`, async () => {
    const start = await service.post('/v1/login/start', { user: 'held', password });
    expect(start.status).toBe(200);
    const verify = { user: 'held', challenge: start.body.challenge, response: service.answer(start.body.device, start.body.challenge) };
    const before = await service.snapshot();
    const metricsBefore = unavailableCount((await service.request('GET', '/metrics')).body, 'busy');
    const lock = await holdDevice(start.body.device);
    let replies;
    try {
      replies = await Promise.all(Array.from({ length: 8 }, () => requestWithHeaders(service.url, '/v1/login/verify', verify)));
      // Answered while the lock was still held: the time limit ended them, not the lock's release.
      expect(await lock.stillHeld()).toBe(true);
    } finally {
      await lock.release();
    }
    for (const r of replies) {
      expectUnavailable(r, 'busy');
      expect(r.retryAfter).not.toBeNull();
    }
    const details = replies.map((r) => r.body.detail as string);
    expect(details.filter((d) => d.includes(`took more than ${timeoutMs} ms`)).length).toBeGreaterThanOrEqual(connectionsMax);
    expect(details.filter((d) => d.includes(`${waitingMax} calls are already waiting`)).length).toBeGreaterThan(0);
    expect(await service.snapshot()).toBe(before);
    expect(unavailableCount((await service.request('GET', '/metrics')).body, 'busy') - metricsBefore).toBe(replies.length);
    // Nothing was consumed: the same answer now logs in.
    expect((await service.post('/v1/login/verify', verify)).status).toBe(200);
  }, 60_000);

  it('a request arriving while the service drains gets 503 shutting down with Retry-After; the in-flight one is answered first', async () => {
    const start = await service.post('/v1/login/start', { user: 'held', password });
    expect(start.status).toBe(200);
    const verify = { user: 'held', challenge: start.body.challenge, response: service.answer(start.body.device, start.body.challenge) };
    const lock = await holdDevice(start.body.device);
    let closing: Promise<void> | undefined;
    let raw: string;
    try {
      // The first request waits on the lock; the drain starts; the second, pipelined on the same connection, arrives during it.
      raw = await pipelined(service.url, rawPost('/v1/login/verify', verify), rawPost('/v1/login/start', { user: 'held', password }), () => {
        closing = service.service.close();
      });
    } finally {
      await lock.release();
    }
    await closing;
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([503, 503]);
    const second = raw.slice(raw.lastIndexOf('HTTP/1.1 '));
    expect(second).toMatch(/^content-type: application\/problem\+json/im);
    expect(second).toMatch(/^retry-after: \d+/im);
    expect(second).toContain('"reason":"shutting down"');
  }, 60_000);
});
