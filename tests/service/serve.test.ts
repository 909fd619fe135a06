/**
 * `dsc host serve` as a user runs it: loopback by default and saying so, a non-loopback address only when
 * asked, the admin token from a private file (never argv), wrong tokens counted, and SIGTERM under load:
 * every request either answered after its commit or refused, nothing committed without an answer.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHostFile } from '../../host/index.ts';
import { runDscInProcess } from '../support/cli.ts';
import { cardResponse } from '../host/support/devices.ts';
import { startServe } from './support/serve-process.ts';

let dir: string;
const token = 'serve-test-token-abcdefghijklmnopqrstuvwxyz012345';
const users = 4;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dsc-serve-'));
  for (let i = 0; i < users; i++) {
    expect((await runDscInProcess(['provision', '--pin', '2580', '--serial', String(52000000 + i), '--out', `card${i}.json`], { cwd: dir })).status).toBe(0);
  }
  for (let i = 0; i < users; i++) {
    const r = await runDscInProcess(['host', 'enroll', '--user', `u${i}`, '--device', `card${i}.json`, '--db', 'host.sqlite'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
  }
  writeFileSync(join(dir, 'admin.token'), `${token}\n`, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('dsc host serve', () => {
  it('refuses a non-loopback address unless --allow-remote, and writes nothing', async () => {
    const r = await runDscInProcess(['host', 'serve', '--listen', '0.0.0.0:0', '--db', 'host.sqlite'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--allow-remote');
    expect((await runDscInProcess(['host', 'serve', '--listen', 'example.com:80'], { cwd: dir })).status).toBe(2);
  });

  it('refuses an admin token file others can read, or a short token', async () => {
    writeFileSync(join(dir, 'open.token'), `${token}\n`, { mode: 0o644 });
    chmodSync(join(dir, 'open.token'), 0o644);
    const open = await runDscInProcess(['host', 'serve', '--db', 'host.sqlite', '--admin-token-file', 'open.token'], { cwd: dir });
    expect(open.status).toBe(2);
    expect(open.stderr).toContain('readable by others');
    expect(open.stderr).not.toContain(token);
    const short = await runDscInProcess(['host', 'serve', '--db', 'host.sqlite'], { cwd: dir, env: { ...process.env, DSC_ADMIN_TOKEN: 'short' } });
    expect(short.status).toBe(2);
    expect(short.stderr).toContain('32..');
  });

  it('listens on loopback and says so; the admin token comes from the file, not argv; wrong tokens are refused and counted', async () => {
    const serve = await startServe(['--db', 'host.sqlite', '--admin-token-file', 'admin.token'], { cwd: dir });
    try {
      expect(serve.firstLine).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+\/ \(loopback only/);
      expect(serve.firstLine).toContain('admin calls enabled');
      expect(readFileSync(`/proc/${serve.child.pid}/cmdline`, 'utf8')).not.toContain(token);
      const devices = (path: string, auth?: string) => fetch(`${serve.url}${path}`, { headers: auth ? { authorization: auth } : {} });
      expect((await devices('/v1/admin/devices?user=u0')).status).toBe(401);
      expect((await devices('/v1/admin/devices?user=u0', `Bearer ${token.slice(0, -1)}x`)).status).toBe(401);
      expect((await devices('/v1/admin/devices?user=u0', `Bearer ${token}extra`)).status).toBe(401);
      expect((await devices('/v1/admin/devices?user=u0', token)).status).toBe(401);
      const ok = await devices('/v1/admin/devices?user=u0', `Bearer ${token}`);
      expect(ok.status).toBe(200);
      expect((await ok.json()).devices[0].serial).toBe('52000000');
      const metrics = await (await fetch(`${serve.url}/metrics`)).text();
      expect(metrics).toMatch(/^dsc_admin_auth_failures_total 4$/m);
    } finally {
      const stopped = await serve.stop();
      expect(stopped.code).toBe(0);
    }
  });

  it('SIGTERM under load: in-flight verifications finish and commit; each committed one was answered ok', async () => {
    const serve = await startServe(['--db', 'host.sqlite', '--durable'], { cwd: dir });
    const records = Array.from({ length: users }, (_, i) => JSON.parse(readFileSync(join(dir, `card${i}.json`), 'utf8')));
    let stopped;
    const outcomes: string[] = [];
    const challenges: string[] = [];
    try {
      // Prepare 8 open challenges per user (the administrator's path, in this process, on the same database
      // file), then fire all 32 answers and SIGTERM while they are in flight.
      const prepared: { user: string; challenge: string; response: string }[] = [];
      const file = await openHostFile({ dbPath: join(dir, 'host.sqlite'), create: false });
      try {
        for (let round = 0; round < 8; round++) {
          for (let i = 0; i < users; i++) {
            const { challenge } = await file.host.challenge({ user: `u${i}` });
            prepared.push({ user: `u${i}`, challenge, response: cardResponse(records[i], challenge, '2580') });
            challenges.push(challenge);
          }
        }
      } finally {
        file.close();
      }
      const inFlight = prepared.map((p) => post(serve.url, '/v1/login/verify', p).then((r) => String(r.status), () => 'connection refused'));
      await new Promise((resolve) => setImmediate(resolve));
      serve.child.kill('SIGTERM');
      outcomes.push(...(await Promise.all(inFlight)));
    } finally {
      stopped = await serve.stop();
    }
    expect(stopped.code, JSON.stringify(stopped)).toBe(0);
    expect(stopped.stdout).toContain('SIGTERM: draining in-flight requests');
    expect(stopped.stdout).toContain('stopped');
    for (const outcome of outcomes) expect(['200', '503', 'connection refused']).toContain(outcome);
    const db = new Database(join(dir, 'host.sqlite'), { readonly: true });
    try {
      const used = db.prepare(`SELECT count(*) FROM challenges WHERE state = 'used' AND challenge IN (${challenges.map(() => '?').join(',')})`).pluck().get(...challenges);
      const oks = outcomes.filter((o) => o === '200').length;
      expect(used).toBe(oks);
      expect(oks).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });
});
