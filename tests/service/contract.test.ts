/**
 * Contract tests: every operation /openapi.json publishes is called against the real server on a real SQLite
 * file, its success checked against the schema it publishes; then bad input (wrong types, missing fields,
 * unknown fields, a huge body, non-JSON, an unknown user) gets a 4xx problem document and writes nothing.
 */
import { Value } from '@sinclair/typebox/value';
import { Type, type TSchema } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schemas from '../../service/schemas.ts';
import { adminToken, startTestService, type Reply, type TestService } from './support/service.ts';

let s: TestService;
const admin = { authorization: `Bearer ${adminToken}` };

beforeAll(async () => {
  s = await startTestService();
  s.enrol('alice', 41000001);
  s.enrol('bob', 41000002);
  s.enrol('bob', 41000003, { kind: 'dsc' });
});
afterAll(() => s.close());

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
}

async function loginChallenge(user: string, device?: string): Promise<{ challenge: string; device: string }> {
  const r = await s.post('/v1/login/start', { user, ...(device && { device }) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

const operations: Record<string, Operation> = {
  'GET /healthz': { valid: () => s.request('GET', '/healthz'), reply: schemas.Health },
  'GET /metrics': { valid: () => s.request('GET', '/metrics'), reply: Type.String({ pattern: '^# HELP dsc_verifications_total' }) },
  'GET /openapi.json': { valid: () => s.request('GET', '/openapi.json'), reply: Type.Object({ openapi: Type.Literal('3.1.0'), paths: Type.Object({}) }) },
  'GET /v1/limits': { valid: () => s.request('GET', '/v1/limits'), reply: schemas.LimitsReply },
  'POST /v1/login/start': { valid: () => s.post('/v1/login/start', { user: 'alice' }), reply: schemas.LoginStartReply, body: async () => ({ user: 'alice' }) },
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
  'POST /v1/pin-change/start': {
    valid: () => s.post('/v1/pin-change/start', { user: 'alice', newPin: '1234', confirmPin: '1234' }),
    reply: schemas.Issued,
    body: async () => ({ user: 'alice', newPin: '1234', confirmPin: '1234' }),
  },
  'POST /v1/pin-change/verify': {
    async valid() {
      const r = await s.post('/v1/pin-change/start', { user: 'alice', newPin: '1234', confirmPin: '1234' });
      return s.post('/v1/pin-change/verify', { user: 'alice', challenge: r.body.challenge, response: s.answer(r.body.device, r.body.challenge, '1234') });
    },
    reply: schemas.VerifyOk,
    async body() {
      const r = await s.post('/v1/pin-change/start', { user: 'alice', newPin: '1234', confirmPin: '1234' });
      return { user: 'alice', challenge: r.body.challenge, response: s.answer(r.body.device, r.body.challenge, '1234') };
    },
  },
  'POST /v1/withdrawals/start': {
    valid: () => s.post('/v1/withdrawals/start', { user: 'bob', amountUsd: 500, device: '41000003' }),
    reply: schemas.WithdrawalStartReply,
    body: async () => ({ user: 'bob', amountUsd: 500, device: '41000003' }),
  },
  'POST /v1/withdrawals/verify': {
    async valid() {
      const r = await s.post('/v1/withdrawals/start', { user: 'bob', amountUsd: 700, device: '41000003' });
      return s.post('/v1/withdrawals/verify', { user: 'bob', challenge: r.body.challenge, response: s.answer('41000003', r.body.challenge) });
    },
    reply: schemas.VerifyOk,
    async body() {
      const r = await s.post('/v1/withdrawals/start', { user: 'bob', amountUsd: 700, device: '41000003' });
      return { user: 'bob', challenge: r.body.challenge, response: s.answer('41000003', r.body.challenge) };
    },
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
  'GET /v1/admin/devices': { valid: () => s.request('GET', '/v1/admin/devices?user=bob', undefined, admin), reply: schemas.DevicesReply, headers: admin },
  'GET /v1/admin/audit': { valid: () => s.request('GET', '/v1/admin/audit?user=alice&limit=5', undefined, admin), reply: schemas.AuditReply, headers: admin },
  'POST /v1/admin/unlock': { valid: () => s.post('/v1/admin/unlock', { serial: '41000001' }, admin), reply: schemas.DeviceInfo, body: async () => ({ serial: '41000001' }), headers: admin },
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
      const required: string[] = doc.paths[path].post.requestBody.content['application/json'].schema.required;
      const before = s.snapshot();
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
      expect(s.snapshot()).toBe(before);
    });

    it(`${name}: a huge body (413), non-JSON (400), another media type (415), an empty body (400)`, async () => {
      const before = s.snapshot();
      expectProblem(await s.post(path, { user: 'x'.repeat(200_000) }, op.headers), 413, 'body too large');
      expectProblem(await s.post(path, '{"user": "alice",', op.headers), 400, 'not json');
      expectProblem(await s.post(path, 'user=alice', { ...op.headers, 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported media type');
      expectProblem(await s.post(path, '', op.headers), 400);
      expect(s.snapshot()).toBe(before);
    });
  }

  for (const [name, op] of withBodies) {
    const [, path] = name.split(' ') as [string, string];
    it(`${name}: an unknown user or device is a 404 or 403 problem and writes nothing`, async () => {
      const body = await op.body!();
      const before = s.snapshot();
      if ('user' in body && !path.includes('/admin/')) {
        const reply = await s.post(path, { ...body, user: 'nobody-here' }, op.headers);
        expect([403, 404]).toContain(reply.status);
        expectProblem(reply, reply.status);
        if (!path.endsWith('/verify')) expect(reply.body.reason).toBe('unknown user');
      }
      if ('serial' in body) expectProblem(await s.post(path, { ...body, serial: '99999999' }, op.headers), 404, 'unknown device');
      expect(s.snapshot()).toBe(before);
    });
  }

  it('query strings are checked too: a bad limit, an unknown parameter, an unknown user', async () => {
    const before = s.snapshot();
    expectProblem(await s.request('GET', '/v1/admin/audit?limit=abc', undefined, admin), 400, 'bad input');
    expectProblem(await s.request('GET', '/v1/admin/audit?limit=5000', undefined, admin), 400, 'bad input');
    expectProblem(await s.request('GET', '/v1/admin/devices?user=bob&x=1', undefined, admin), 400, 'bad input');
    expectProblem(await s.request('GET', '/v1/admin/devices', undefined, admin), 400, 'bad input');
    expectProblem(await s.request('GET', '/v1/admin/devices?user=nobody-here', undefined, admin), 404, 'unknown user');
    expect(s.snapshot()).toBe(before);
  });

  it('an unknown route or method is a 404 problem', async () => {
    expectProblem(await s.request('GET', '/v1/nothing'), 404, 'not found');
    expectProblem(await s.request('DELETE', '/v1/login/start'), 404, 'not found');
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
    const reply = await s.post('/v1/login/start', { user: 'bob' });
    expectProblem(reply, 409, 'choose device');
    expect(reply.body.devices.map((d: { serial: string }) => d.serial).sort()).toEqual(['41000002', '41000003']);
  });

  it('a throttled verification says when to retry (Retry-After)', async () => {
    // Three wrong answers (the free failures, then a delay), then a fresh challenge: throttled.
    const first = await loginChallenge('bob', '41000002');
    const wrongTo = (c: string) => String((Number(s.answer('41000002', c)) + 1) % 1e8).padStart(8, '0');
    for (let i = 0; i < 3; i++) expectProblem(await s.post('/v1/login/verify', { user: 'bob', challenge: first.challenge, response: wrongTo(first.challenge) }), 403, 'wrong response');
    const { challenge } = await loginChallenge('bob', '41000002');
    const wrong = wrongTo(challenge);
    const response = await fetch(`${s.url}/v1/login/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'bob', challenge, response: wrong }) });
    const body = await response.json();
    expect(body.reason).toBe('throttled');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(body.retryAfterMs).toBeGreaterThan(0);
  });
});
