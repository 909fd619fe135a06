/**
 * Key transfers over HTTP (POST /v1/admin/import and /v1/admin/export) against the real server on a real SQLite
 * file: a PSKC container imported through the API logs its card in; an export reads back (PSKC with a password,
 * OATH CSV) to the same secret and PIN; every refusal is a problem document that names the field, never the
 * container password, and writes nothing; the import's own body bound (larger than the other routes') holds.
 */
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocra } from '../../firmware/ocra/index.ts';
import { readOathCsv } from '../../host/oath-csv.ts';
import { readPskc } from '../../host/pskc.ts';
import { importBodyBytesMax } from '../../service/routes-transfer.ts';
import * as schemas from '../../service/schemas.ts';
import { adminToken, password, startTestService, type Reply, type TestService } from './support/service.ts';
import { container, containerPassword, keyOf, secretOf, transferSuite as suite } from './support/transfer.ts';

let s: TestService;
const admin = { authorization: `Bearer ${adminToken}` };
beforeAll(async () => {
  s = await startTestService();
});
afterAll(() => s.close());

function expectProblem(reply: Reply, status: number, reason: string): void {
  expect(reply.type).toMatch(/^application\/problem\+json/);
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(Value.Check(schemas.Problem, reply.body)).toBe(true);
  expect(reply.body.reason).toBe(reason);
}

describe('POST /v1/admin/import', () => {
  it('imports a password-protected PSKC container for a user, whose card then logs in', async () => {
    const reply = await s.post('/v1/admin/import', { format: 'pskc', content: container([keyOf(52000001)]), password: containerPassword, user: 'zoe' }, admin);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(Value.Check(schemas.ImportReply, reply.body)).toBe(true);
    expect(reply.body).toMatchObject({ imported: ['52000001'], skipped: [] });
    expect((await s.post('/v1/admin/password', { user: 'zoe', password }, admin)).status).toBe(200);
    const start = await s.post('/v1/login/start', { user: 'zoe', password });
    expect(start.status).toBe(200);
    const response = ocra(suite, secretOf(52000001), { challenge: start.body.challenge, pin: '2580' });
    expect((await s.post('/v1/login/verify', { user: 'zoe', challenge: start.body.challenge, response })).status).toBe(200);
  });

  it('accepts a container larger than the other routes allow (its own bound), and refuses one past it with 413', async () => {
    const keys = Array.from({ length: 80 }, (_, i) => keyOf(53000000 + i, { user: `bulk${i}` }));
    const content = container(keys, 'none');
    expect(content.length).toBeGreaterThan(64 * 1024);
    const reply = await s.post('/v1/admin/import', { format: 'pskc', content }, admin);
    expect(reply.status, JSON.stringify(reply.body).slice(0, 300)).toBe(200);
    expect(reply.body.imported).toHaveLength(80);
    const before = await s.snapshot();
    const huge = await s.post('/v1/admin/import', { format: 'pskc', content: 'x'.repeat(importBodyBytesMax) }, admin);
    expectProblem(huge, 413, 'body too large');
    expect(huge.body.detail).toContain(String(importBodyBytesMax));
    expect(await s.snapshot()).toBe(before);
  });

  it('refuses bad files, wrong secrets and contradictory options with the field named, writing nothing', async () => {
    const good = container([keyOf(52000002)]);
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ format: 'pskc', content: '<not-pskc/>' }, /^body\/content: /],
      [{ format: 'pskc', content: 'not xml at all' }, /^body\/content: /],
      [{ format: 'pskc', content: good, password: 'the wrong password' }, /^body\/content: /],
      [{ format: 'pskc', content: good }, /^body\/content: /],
      [{ format: 'pskc', content: container([keyOf(52000003, { bytes: 8 })]), password: containerPassword }, /^nothing imported: .*Data\/Secret/],
      [{ format: 'pskc', content: container([keyOf(52000004), keyOf(52000005, { bytes: 8 })]), password: containerPassword }, /^nothing imported: /],
      [{ format: 'pskc', content: container([keyOf(52000006, { bytes: 8 })]), password: containerPassword, skipUnsupported: true }, /^nothing imported: /],
      [{ format: 'csv', content: 'serial,seed\n', password: containerPassword }, /body\/password/],
      [{ format: 'pskc', content: good, password: containerPassword, presharedKeyHex: '00'.repeat(16) }, /not both/],
      [{ format: 'csv', content: 'not,a,seed,file\n' }, /^nothing imported: key "not"/],
    ];
    const before = await s.snapshot();
    for (const [body, detail] of refusals) {
      const reply = await s.post('/v1/admin/import', body, admin);
      expectProblem(reply, 400, 'bad input');
      expect(reply.body.detail).toMatch(detail);
      expect(reply.body.detail).not.toContain(containerPassword);
    }
    expect(await s.snapshot()).toBe(before);
  });

  it('with skipUnsupported, imports the usable keys and lists the others with their reasons', async () => {
    const reply = await s.post('/v1/admin/import', { format: 'pskc', content: container([keyOf(52000007, { user: 'yan' }), keyOf(52000008, { bytes: 8 })]), password: containerPassword, skipUnsupported: true }, admin);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body.imported).toEqual(['52000007']);
    expect(reply.body.skipped).toEqual([expect.objectContaining({ id: '52000008', field: 'Data/Secret' })]);
  });
});

describe('POST /v1/admin/export', () => {
  beforeAll(async () => {
    await s.enrol('walt', 52100001);
  });

  it('exports a PSKC container under a password that reads back to the same secret and PIN', async () => {
    const reply = await s.post('/v1/admin/export', { format: 'pskc', devices: ['52000001'], password: containerPassword }, admin);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(Value.Check(schemas.ExportReply, reply.body)).toBe(true);
    expect(reply.body).toMatchObject({ exported: ['52000001'], format: 'pskc', protection: 'password' });
    expect(reply.body.warning).toBeUndefined();
    expect(reply.body.content).not.toContain(Buffer.from(secretOf(52000001)).toString('base64'));
    const [key] = readPskc(reply.body.content, { password: containerPassword }).keys;
    expect(key).toMatchObject({ serial: '52000001', suite, pin: '2580', userId: 'zoe' });
    expect(key!.secret).toEqual(secretOf(52000001));
  });

  it('exports OATH CSV (seeds in the clear, with a warning) for a device enrolled from its device file', async () => {
    const reply = await s.post('/v1/admin/export', { format: 'csv', devices: ['52100001', '52000001'] }, admin);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ exported: ['52100001', '52000001'], format: 'csv', protection: 'none' });
    expect(reply.body.warning).toMatch(/in the clear/);
    const keys = readOathCsv(reply.body.content).keys;
    expect(keys.map((k) => k.serial)).toEqual(['52100001', '52000001']);
    expect(keys[1]!.secret).toEqual(secretOf(52000001));
    // The device-file card's exported secret answers as the card does.
    const start = await s.post('/v1/login/start', { user: 'walt', password });
    expect(ocra(suite, keys[0]!.secret, { challenge: start.body.challenge, pin: '2580' })).toBe(s.answer('52100001', start.body.challenge));
  });

  it('refuses an unknown device, a missing or doubled protection, and PSKC options on CSV, writing nothing', async () => {
    const before = await s.snapshot();
    expectProblem(await s.post('/v1/admin/export', { format: 'pskc', devices: ['52000001', '99999999'], plain: true }, admin), 404, 'unknown device');
    for (const body of [
      { format: 'pskc', devices: ['52000001'] },
      { format: 'pskc', devices: ['52000001'], plain: true, password: containerPassword },
      { format: 'csv', devices: ['52000001'], plain: true },
      { format: 'csv', devices: ['52000001'], algorithm: 'ocra-1' },
    ]) {
      const reply = await s.post('/v1/admin/export', body, admin);
      expectProblem(reply, 400, 'bad input');
      expect(reply.body.detail).toMatch(/body\//);
      expect(reply.body.detail).not.toContain(containerPassword);
    }
    expect(await s.snapshot()).toBe(before);
  });

  it('needs the admin token, before the body is looked at', async () => {
    const before = await s.snapshot();
    for (const path of ['/v1/admin/import', '/v1/admin/export']) {
      expectProblem(await s.post(path, { format: 'pskc', devices: ['52000001'], plain: true }), 401, 'unauthorized');
      expectProblem(await s.post(path, 'not json', { authorization: 'Bearer wrong' }), 401, 'unauthorized');
    }
    expect(await s.snapshot()).toBe(before);
  });
});
