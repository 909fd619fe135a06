/**
 * Contract tests: every operation /openapi.json publishes is called against the real server on a real SQLite
 * file and on a real PostgreSQL database, its success checked against the schema it publishes; then bad input
 * (wrong types, missing fields, unknown fields, a huge body, non-JSON, an unknown user) gets a 4xx problem
 * document and writes nothing (every table compared, row by row, before and after).
 */
import { Value } from '@sinclair/typebox/value';
import { Type, type TSchema } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schemas from '../../service/schemas.ts';
import { postgresSkipReason, testDatabase, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { importBodyBytesMax } from '../../service/routes-transfer.ts';
import { adminToken, password, startTestService, type Reply, type TestService } from './support/service.ts';
import { container, containerPassword, keyOf } from './support/transfer.ts';


interface Backend {
  readonly name: string;
  readonly skip: string | null;
  start(): Promise<TestService>;
  stop?(): Promise<void>;
}

let pgServer: TestPostgres | undefined;
let pgDb: { url: string; drop(): Promise<void> } | undefined;
const backends: Backend[] = [
  { name: 'SQLite', skip: null, start: () => startTestService() },
  {
    name: 'PostgreSQL',
    skip: postgresSkipReason,
    async start() {
      pgServer = await testPostgres();
      pgDb = await testDatabase(pgServer);
      return startTestService({ postgresUrl: pgDb.url });
    },
    async stop() {
      await pgDb?.drop();
      pgServer?.stop();
    },
  },
];

for (const backend of backends) describe.skipIf(backend.skip !== null)(`the service on ${backend.name}`, () => {
  let s: TestService;
  const admin = { authorization: `Bearer ${adminToken}` };

  beforeAll(async () => {
    s = await backend.start();
    await s.enrol('alice', 41000001);
    await s.enrol('bob', 41000002);
    await s.enrol('bob', 41000003, { kind: 'dsc' });
    for (const [i, user] of ['erin', 'frank', 'gina', 'hank', 'ivan'].entries()) await s.enrol(user, 41000020 + i);
  });

  /** Never two temporary codes in a row: each user's code is issued once and reused. */
  const tempCodes = new Map<string, string>();
  async function tempCodeFor(user: string): Promise<string> {
    if (!tempCodes.has(user)) {
      const r = await s.post('/v1/admin/temp-code', { user }, admin);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      tempCodes.set(user, r.body.code);
    }
    return tempCodes.get(user)!;
  }
  afterAll(async () => {
    await s.close();
    await backend.stop?.();
  });

  /** The snapshot without the audit table's rows. */
  function withoutAudit(snapshot: string): string {
    return JSON.stringify((JSON.parse(snapshot) as [string, unknown][]).filter(([table]) => table !== 'audit'));
  }

  function expectProblem(reply: Reply, status: number, reason?: string): void {
    expect(reply.type).toMatch(/^application\/problem\+json/);
    expect(reply.status).toBe(status);
    expect(Value.Check(schemas.Problem, reply.body), JSON.stringify(reply.body)).toBe(true);
    expect(reply.body.status).toBe(status);
    if (reason !== undefined) expect(reply.body.reason).toBe(reason);
  }

  interface Operation {
    /** A request that must succeed, and the schema its reply must match. */
    valid(): Promise<Reply>;
    readonly reply: TSchema;
    /** A valid body, for the bad-input variations (absent for GETs). */
    body?(): Promise<Record<string, unknown>>;
    readonly headers?: Record<string, string>;
    /** The route's own body bound, when larger than the service's. */
    readonly bodyBytesMax?: number;
  }

  async function loginChallenge(user: string, device?: string): Promise<{ challenge: string; device: string }> {
    const r = await s.post('/v1/login/start', { user, password, ...(device && { device }) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  }

  const operations: Record<string, Operation> = {
    'GET /healthz': { valid: () => s.request('GET', '/healthz'), reply: schemas.Health },
    'GET /metrics': { valid: () => s.request('GET', '/metrics'), reply: Type.String({ pattern: '^# HELP dsc_verifications_total' }) },
    'GET /openapi.json': { valid: () => s.request('GET', '/openapi.json'), reply: Type.Object({ openapi: Type.Literal('3.1.0'), paths: Type.Object({}) }) },
    'GET /v1/limits': { valid: () => s.request('GET', '/v1/limits'), reply: schemas.LimitsReply },
    'POST /v1/login/start': { valid: () => s.post('/v1/login/start', { user: 'alice', password }), reply: schemas.LoginStartReply, body: async () => ({ user: 'alice', password }) },
    'POST /v1/login/verify': {
      async valid() {
        const { challenge, device } = await loginChallenge('alice');
        return s.post('/v1/login/verify', { user: 'alice', challenge, response: s.answer(device, challenge) });
      },
      reply: schemas.VerifyOk,
      async body() {
        const { challenge, device } = await loginChallenge('alice');
        return { user: 'alice', challenge, response: s.answer(device, challenge) };
      },
    },
    // The new PIN is the card's current one (2580), so the card's answers stay right for the later tests.
    'POST /v1/pin-change/start': {
      valid: async () => s.post('/v1/pin-change/start', { user: 'alice', session: await s.login('alice'), newPin: '2580', confirmPin: '2580' }),
      reply: schemas.Issued,
      body: async () => ({ user: 'alice', session: await s.login('alice'), newPin: '2580', confirmPin: '2580' }),
    },
    'POST /v1/pin-change/verify': {
      async valid() {
        const r = await s.post('/v1/pin-change/start', { user: 'alice', session: await s.login('alice'), newPin: '2580', confirmPin: '2580' });
        return s.post('/v1/pin-change/verify', { user: 'alice', challenge: r.body.challenge, response: s.answer(r.body.device, r.body.challenge, '2580') });
      },
      reply: schemas.VerifyOk,
      async body() {
        const r = await s.post('/v1/pin-change/start', { user: 'alice', session: await s.login('alice'), newPin: '2580', confirmPin: '2580' });
        return { user: 'alice', challenge: r.body.challenge, response: s.answer(r.body.device, r.body.challenge, '2580') };
      },
    },
    'POST /v1/withdrawals/start': {
      valid: async () => s.post('/v1/withdrawals/start', { user: 'bob', session: await s.login('bob', '41000003'), amountUsd: 500, device: '41000003' }),
      reply: schemas.WithdrawalStartReply,
      body: async () => ({ user: 'bob', session: await s.login('bob', '41000003'), amountUsd: 500, device: '41000003' }),
    },
    'POST /v1/withdrawals/verify': {
      async valid() {
        const r = await s.post('/v1/withdrawals/start', { user: 'bob', session: await s.login('bob', '41000003'), amountUsd: 700, device: '41000003' });
        return s.post('/v1/withdrawals/verify', { user: 'bob', challenge: r.body.challenge, response: s.answer('41000003', r.body.challenge) });
      },
      reply: schemas.VerifyOk,
      async body() {
        const r = await s.post('/v1/withdrawals/start', { user: 'bob', session: await s.login('bob', '41000003'), amountUsd: 700, device: '41000003' });
        return { user: 'bob', challenge: r.body.challenge, response: s.answer('41000003', r.body.challenge) };
      },
    },
    'POST /v1/admin/password': {
      valid: () => s.post('/v1/admin/password', { user: 'alice', password }, admin),
      reply: schemas.Done,
      body: async () => ({ user: 'alice', password }),
      headers: admin,
    },
    'POST /v1/admin/enroll': {
      async valid() {
        const { makeRecord } = await import('../host/support/devices.ts');
        return s.post('/v1/admin/enroll', { user: 'carol', record: makeRecord({ serial: 41000009 }) }, admin);
      },
      reply: schemas.DeviceInfo,
      async body() {
        const { makeRecord } = await import('../host/support/devices.ts');
        return { user: 'dave', record: makeRecord({ serial: 41000010 }) };
      },
      headers: admin,
    },
    'POST /v1/admin/temp-code': { valid: () => s.post('/v1/admin/temp-code', { user: 'erin' }, admin), reply: schemas.TempCodeIssueReply, body: async () => ({ user: 'erin' }), headers: admin },
    'POST /v1/temp-code/check': {
      valid: async () => s.post('/v1/temp-code/check', { user: 'frank', code: await tempCodeFor('frank') }),
      reply: schemas.TempCodeCheckReply,
      body: async () => ({ user: 'gina', code: await tempCodeFor('gina') }),
    },
    'POST /v1/code-card': {
      valid: async () => s.post('/v1/code-card', { user: 'hank', tempCode: await tempCodeFor('hank') }),
      reply: schemas.CodeCardReply,
      body: async () => ({ user: 'ivan', tempCode: await tempCodeFor('ivan') }),
    },
    'GET /v1/admin/devices': { valid: () => s.request('GET', '/v1/admin/devices?user=bob', undefined, admin), reply: schemas.DevicesReply, headers: admin },
    'GET /v1/admin/audit': { valid: () => s.request('GET', '/v1/admin/audit?user=alice&limit=5', undefined, admin), reply: schemas.AuditReply, headers: admin },
    'POST /v1/admin/import': {
      valid: () => s.post('/v1/admin/import', { format: 'pskc', content: container([keyOf(41000030)]), password: containerPassword, user: 'kim' }, admin),
      reply: schemas.ImportReply,
      body: async () => ({ format: 'pskc', content: container([keyOf(41000031)]), password: containerPassword, user: 'lee', skipUnsupported: true }),
      headers: admin,
      bodyBytesMax: importBodyBytesMax,
    },
    'POST /v1/admin/export': {
      valid: () => s.post('/v1/admin/export', { format: 'pskc', devices: ['41000001'], password: containerPassword }, admin),
      reply: schemas.ExportReply,
      body: async () => ({ format: 'pskc', devices: ['41000001'], password: containerPassword, algorithm: 'ocra' }),
      headers: admin,
    },
    'POST /v1/admin/unlock': { valid: () => s.post('/v1/admin/unlock', { serial: '41000001' }, admin), reply: schemas.UnlockReply, body: async () => ({ serial: '41000001' }), headers: admin },
  };

  describe('every published operation', () => {
    it('the table above covers exactly the operations /openapi.json lists (a new route needs its contract test)', async () => {
      const doc = (await s.request('GET', '/openapi.json')).body;
      expect(doc.openapi).toBe('3.1.0');
      const published = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
      expect(published.sort()).toEqual(Object.keys(operations).sort());
    });

    for (const [name, op] of Object.entries(operations)) {
      it(`${name}: succeeds and matches its published reply schema`, async () => {
        const reply = await op.valid();
        expect(reply.status, JSON.stringify(reply.body)).toBe(200);
        expect(Value.Check(op.reply, reply.body), JSON.stringify(reply.body).slice(0, 400)).toBe(true);
      });
    }

    it('the published request schemas are the ones enforced: the spec of /v1/login/verify requires user, challenge, response', async () => {
      const doc = (await s.request('GET', '/openapi.json')).body;
      const schema = doc.paths['/v1/login/verify'].post.requestBody.content['application/json'].schema;
      expect(schema.required.sort()).toEqual(['challenge', 'response', 'user']);
      expect(schema.additionalProperties).toBe(false);
    });
  });

  describe('bad input: a 4xx problem document, and nothing written', () => {
    const withBodies = Object.entries(operations).filter(([, op]) => op.body !== undefined);

    for (const [name, op] of withBodies) {
      const [, path] = name.split(' ') as [string, string];
      it(`${name}: wrong types, missing fields, unknown fields`, async () => {
        const body = await op.body!();
        const doc = (await s.request('GET', '/openapi.json')).body;
        const schema = doc.paths[path].post.requestBody.content['application/json'].schema;
        // A union (anyOf) requires what the branch this body matches requires.
        const branch = schema.anyOf ? schema.anyOf.find((b: { properties: object }) => Object.keys(body).every((k) => k in b.properties)) : schema;
        const required: string[] = branch.required;
        const before = (await s.snapshot());
        for (const field of Object.keys(body)) {
          for (const wrong of [12345, true, null, ['x'], { x: 1 }, '']) {
            if (typeof body[field] === typeof wrong && wrong !== '') continue;
            const reply = await s.post(path, { ...body, [field]: wrong }, op.headers);
            expectProblem(reply, 400, 'bad input');
            expect(reply.body.detail).toContain(field === 'record' ? 'record' : field);
          }
          if (!required.includes(field)) continue;
          const { [field]: _dropped, ...missing } = body;
          const reply = await s.post(path, missing, op.headers);
          expectProblem(reply, 400, 'bad input');
          expect(reply.body.detail).toContain(field);
        }
        expectProblem(await s.post(path, { ...body, extra: 1 }, op.headers), 400, 'bad input');
        expect((await s.snapshot())).toBe(before);
      });

      it(`${name}: a huge body (413), non-JSON (400), another media type (415), an empty body (400)`, async () => {
        const before = (await s.snapshot());
        expectProblem(await s.post(path, { user: 'x'.repeat(Math.max(200_000, op.bodyBytesMax ?? 0)) }, op.headers), 413, 'body too large');
        expectProblem(await s.post(path, '{"user": "alice",', op.headers), 400, 'not json');
        expectProblem(await s.post(path, 'user=alice', { ...op.headers, 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported media type');
        expectProblem(await s.post(path, '', op.headers), 400);
        expect((await s.snapshot())).toBe(before);
      });
    }

    for (const [name, op] of withBodies) {
      const [, path] = name.split(' ') as [string, string];
      it(`${name}: an unknown user or device is a 404 or 403 problem and writes nothing`, async () => {
        const body = await op.body!();
        const before = (await s.snapshot());
        if ('user' in body && !path.includes('/admin/')) {
          const reply = await s.post(path, { ...body, user: 'nobody-here' }, op.headers);
          // A login attempt under an unknown name is written to the audit log (the host's security record of
          // who tried what); nothing else changes.
          if (path === '/v1/login/start') {
            const audit = (await s.request('GET', '/v1/admin/audit?limit=1', undefined, admin)).body.entries[0];
            expect(audit).toMatchObject({ user: 'nobody-here', action: 'login', outcome: 'failed', reason: 'unknown user' });
            expect(withoutAudit((await s.snapshot()))).toBe(withoutAudit(before));
            expectProblem(reply, 401, 'wrong password');
            return;
          }
          // Never "unknown user" where that would tell an attacker which names exist: a login answers as for a
          // wrong password, a session-bound call as for a missing session.
          const expected: Record<string, [number, string]> = {
            '/v1/login/start': [401, 'wrong password'],
            '/v1/pin-change/start': [401, 'no session'],
            '/v1/withdrawals/start': [401, 'no session'],
            '/v1/temp-code/check': [401, 'wrong code'],
            '/v1/code-card': [401, 'wrong code'],
          };
          if (expected[path]) expectProblem(reply, ...expected[path]);
          else expectProblem(reply, reply.status);
          expect(reply.status).toBeLessThan(500);
        }
        if ('serial' in body) expectProblem(await s.post(path, { ...body, serial: '99999999' }, op.headers), 404, 'unknown device');
        expect((await s.snapshot())).toBe(before);
      });
    }

    it('query strings are checked too: a bad limit, an unknown parameter, an unknown user', async () => {
      const before = (await s.snapshot());
      expectProblem(await s.request('GET', '/v1/admin/audit?limit=abc', undefined, admin), 400, 'bad input');
      expectProblem(await s.request('GET', '/v1/admin/audit?limit=5000', undefined, admin), 400, 'bad input');
      expectProblem(await s.request('GET', '/v1/admin/devices?user=bob&x=1', undefined, admin), 400, 'bad input');
      expectProblem(await s.request('GET', '/v1/admin/devices', undefined, admin), 400, 'bad input');
      expectProblem(await s.request('GET', '/v1/admin/devices?user=nobody-here', undefined, admin), 404, 'unknown user');
      expect((await s.snapshot())).toBe(before);
    });

    it('an unknown route or method is a 404 problem', async () => {
      expectProblem(await s.request('GET', '/v1/nothing'), 404, 'not found');
      expectProblem(await s.request('DELETE', '/v1/login/start'), 404, 'not found');
    });
  });

  describe('the admin token', () => {
    it('every admin call refuses a missing or wrong token (401), counts it, and writes nothing', async () => {
      const before = (await s.snapshot());
      const failures = async () => Number(/^dsc_admin_auth_failures_total (\d+)$/m.exec((await s.request('GET', '/metrics')).body)![1]);
      const counted = await failures();
      const wrongs: Record<string, string>[] = [{}, { authorization: `Bearer ${adminToken.slice(0, -1)}` }, { authorization: `Bearer ${adminToken}x` }, { authorization: adminToken }, { authorization: `Basic ${adminToken}` }];
      let calls = 0;
      for (const headers of wrongs) {
        for (const [method, path, body] of [['POST', '/v1/admin/unlock', { serial: '41000001' }], ['POST', '/v1/admin/password', { user: 'alice', password: 'another password' }], ['POST', '/v1/admin/temp-code', { user: 'alice' }], ['GET', '/v1/admin/audit', undefined], ['POST', '/v1/admin/enroll', { user: 'x', record: {} }], ['POST', '/v1/admin/import', { format: 'csv', content: 'x' }], ['POST', '/v1/admin/export', { format: 'csv', devices: ['41000001'] }]] as const) {
          const reply = await s.request(method, path, body, headers);
          expectProblem(reply, 401, 'unauthorized');
          calls++;
        }
      }
      expect(await failures()).toBe(counted + calls);
      expect((await s.snapshot())).toBe(before);
    });
  });

  describe('verification refusals carry the CLI reasons', () => {
    it('already used, unknown challenge, malformed and wrong responses', async () => {
      const { challenge, device } = await loginChallenge('alice');
      const right = s.answer(device, challenge);
      const wrong = String((Number(right) + 1) % 1e8).padStart(8, '0');
      const refused = await s.post('/v1/login/verify', { user: 'alice', challenge, response: wrong });
      expectProblem(refused, 403, 'wrong response');
      expect(refused.body.detail).not.toContain(wrong);
      expectProblem(await s.post('/v1/login/verify', { user: 'alice', challenge, response: '123' }), 400, 'malformed response');
      expect((await s.post('/v1/login/verify', { user: 'alice', challenge, response: right })).status).toBe(200);
      expectProblem(await s.post('/v1/login/verify', { user: 'alice', challenge, response: right }), 403, 'already used');
      expectProblem(await s.post('/v1/login/verify', { user: 'alice', challenge: '000000', response: right }), 404, 'unknown challenge');
    });

    it('a user with several devices is asked to choose, with the devices listed', async () => {
      const reply = await s.post('/v1/login/start', { user: 'bob', password });
      expectProblem(reply, 409, 'choose device');
      expect(reply.body.devices.map((d: { serial: string }) => d.serial).sort()).toEqual(['41000002', '41000003']);
    });

    it('a throttled account is told when to retry (Retry-After)', async () => {
      // Three wrong answers (the free failures, then a delay): the next login is throttled.
      const first = await loginChallenge('bob', '41000002');
      const wrongTo = (c: string) => String((Number(s.answer('41000002', c)) + 1) % 1e8).padStart(8, '0');
      for (let i = 0; i < 3; i++) expectProblem(await s.post('/v1/login/verify', { user: 'bob', challenge: first.challenge, response: wrongTo(first.challenge) }), 403, 'wrong response');
      const response = await fetch(`${s.url}/v1/login/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'bob', password, device: '41000002' }) });
      expect(response.status).toBe(429);
      const body = await response.json();
      expect(body.reason).toBe('throttled');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(body.retryAfterMs).toBeGreaterThan(0);
    });
  });
});
