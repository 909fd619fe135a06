/**
 * Two `dsc host serve` processes on one PostgreSQL database, as a login farm runs them: 32 clients racing on
 * one challenge over both get one success; wrong guesses spread over both count toward one lockout; `kill -9`
 * of one instance under load loses no verification it answered ok, and no challenge is consumed twice. Also
 * the `--db postgres://…` rules of every `dsc host` command: no password on the command line, the host key
 * from DSC_HOST_KEY or --host-key-file, a wrong key refused before anything is written.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../firmware/device-record.ts';
import { issueLimitsDefault } from '../../host/index.ts';
import { openPgHost, type PgHost } from '../../host/pg-open.ts';
import { runDsc } from '../support/cli.ts';
import { postgresSkipReason, sql, testDatabase, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { cardResponse, makeRecord } from '../host/support/devices.ts';
import { startServe, type ServeProcess } from './support/serve-process.ts';

const pin = '2580';
/** The lock limit both instances are started with: low enough that no throttling delay comes before it. */
const lockLimit = 3;
const killUsers = 4;
const challengesPerKillUser = 8;
/** A few CLI starts and two service starts on a loaded 2-core machine. */
const setupTimeoutMs = 240_000;

const post = async (base: string, path: string, body: unknown): Promise<{ status: number; body: any }> => {
  const response = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
};

describe.skipIf(postgresSkipReason !== null)('two dsc host serve instances on one PostgreSQL database', () => {
  let server: TestPostgres;
  let db: { url: string; drop(): Promise<void> };
  let dir: string;
  let admin: PgHost;
  let a: ServeProcess;
  let b: ServeProcess;
  const records = new Map<string, DeviceRecord>();

  beforeAll(async () => {
    server = await testPostgres();
    db = await testDatabase(server);
    dir = mkdtempSync(join(tmpdir(), 'dsc-multi-'));
    const users = ['racer', 'guesser', 'limited', ...Array.from({ length: killUsers }, (_, i) => `u${i}`)];
    users.forEach((user, i) => records.set(user, makeRecord({ serial: 53000000 + i, pin })));
    // The first enrolment as a user makes it: the CLI creates the schema and the key file (0600).
    writeFileSync(join(dir, 'racer.json'), JSON.stringify(records.get('racer')));
    const enrolled = runDsc(['host', 'enroll', '--user', 'racer', '--device', 'racer.json', '--db', db.url, '--host-key-file', 'host.key'], { cwd: dir });
    expect(enrolled.status, enrolled.stderr).toBe(0);
    expect(statSync(join(dir, 'host.key')).mode & 0o777).toBe(0o600);
    // The others through the library, on the same key file (faster than a CLI start each).
    admin = await openPgHost({ url: db.url, keyFile: join(dir, 'host.key'), create: false });
    for (const user of users.slice(1)) await admin.host.enroll({ user, record: records.get(user)! });
    const args = ['--db', db.url, '--host-key-file', 'host.key', '--lock-limit', String(lockLimit)];
    [a, b] = await Promise.all([startServe(args, { cwd: dir }), startServe(args, { cwd: dir })]);
  }, setupTimeoutMs);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await admin?.close();
    await db?.drop();
    server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const answer = (user: string, challenge: string) => cardResponse(records.get(user)!, challenge, pin);

  it('says where it serves, and that the database is shared', () => {
    expect(a.firstLine).toContain('PostgreSQL, shared with every instance on it');
    expect(a.firstLine).toContain(db.url);
  });

  it('32 clients racing on one challenge over both instances: exactly one success', async () => {
    const { challenge } = await admin.host.challenge({ user: 'racer' });
    const body = { user: 'racer', challenge, response: answer('racer', challenge) };
    const replies = await Promise.all(Array.from({ length: 32 }, (_, i) => post(i % 2 ? a.url : b.url, '/v1/login/verify', body)));
    const statuses = replies.map((r) => r.status);
    console.log(`race: ${statuses.filter((s) => s === 200).length} × 200, ${statuses.filter((s) => s === 403).length} × 403, others ${statuses.filter((s) => s !== 200 && s !== 403).join(',') || 'none'}`);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(replies.filter((r) => r.status !== 200).map((r) => r.body.reason)).toEqual(Array(31).fill('already used'));
    expect(await sql(db.url, `SELECT count(*)::int AS n FROM sessions WHERE "user" = 'racer'`)).toEqual([{ n: 1 }]);
    const retries = await Promise.all([a, b].map(async (s) => Number(/^dsc_store_retries_total (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())![1])));
    console.log(`race: re-runs after serialization failures, by instance: ${retries.join(', ')}`);
  });

  it(`20 wrong guesses spread over both instances lock the account at the limit (${lockLimit}), counted across instances`, async () => {
    // One challenge per guess, so no challenge runs out of attempts first.
    const challenges: string[] = [];
    for (let i = 0; i < 20; i++) challenges.push((await admin.host.challenge({ user: 'guesser' })).challenge);
    const replies = await Promise.all(challenges.map((challenge, i) =>
      post(i % 2 ? a.url : b.url, '/v1/login/verify', { user: 'guesser', challenge, response: answer('guesser', challenge).replace(/\d$/, (d) => String((Number(d) + 1) % 10)) })));
    const reasons = replies.map((r) => r.body.reason as string);
    console.log(`wrong guesses: ${reasons.filter((r) => r === 'wrong response').length} counted, ${reasons.filter((r) => r === 'locked').length} refused as locked`);
    expect(reasons.filter((r) => r === 'wrong response')).toHaveLength(lockLimit);
    expect(reasons.filter((r) => r === 'locked')).toHaveLength(20 - lockLimit);
    expect(await sql(db.url, `SELECT failures, locked FROM accounts WHERE "user" = 'guesser'`)).toEqual([{ failures: lockLimit, locked: true }]);
    // The right answer is refused too now, on either instance.
    const { challenge } = await admin.host.challenge({ user: 'guesser' }).catch(() => ({ challenge: challenges[0]! }));
    expect((await post(a.url, '/v1/login/verify', { user: 'guesser', challenge, response: answer('guesser', challenge) })).body.reason).toBe('locked');
  });

  it(`the per-account issue limit (${issueLimitsDefault.perAccount} an hour) is shared: ${issueLimitsDefault.perAccount + 2} logins spread over both instances, ${issueLimitsDefault.perAccount} challenges`, async () => {
    const password = 'correct horse battery';
    await admin.host.setPassword({ user: 'limited', password });
    const total = issueLimitsDefault.perAccount + 2;
    const replies = await Promise.all(Array.from({ length: total }, (_, i) => post(i % 2 ? a.url : b.url, '/v1/login/start', { user: 'limited', password })));
    const reasons = replies.map((r) => (r.status === 200 ? 'issued' : r.body.reason));
    console.log(`issue limit: ${reasons.filter((r) => r === 'issued').length} issued, ${reasons.filter((r) => r === 'rate limited').length} rate limited`);
    expect(reasons.filter((r) => r === 'issued')).toHaveLength(issueLimitsDefault.perAccount);
    expect(reasons.filter((r) => r === 'rate limited')).toHaveLength(2);
  });

  it('kill -9 of one instance under load: every verification answered ok was committed, none consumed twice', async () => {
    const prepared: { user: string; challenge: string; response: string }[] = [];
    for (let round = 0; round < challengesPerKillUser; round++) {
      for (let i = 0; i < killUsers; i++) {
        const { challenge } = await admin.host.challenge({ user: `u${i}` });
        prepared.push({ user: `u${i}`, challenge, response: answer(`u${i}`, challenge) });
      }
    }
    // Each answer goes to both instances at once; A is killed once a few answers have come back.
    let answered = 0;
    let killed!: () => void;
    const killedAt = new Promise<void>((resolve) => (killed = resolve));
    const send = (base: string, p: (typeof prepared)[number]) =>
      post(base, '/v1/login/verify', p).then((r) => {
        if (++answered === 6) {
          a.child.kill('SIGKILL');
          killed();
        }
        return String(r.status);
      }, () => 'no answer');
    const outcomes = await Promise.all(prepared.map(async (p) => {
      const [fromA, fromB] = await Promise.all([send(a.url, p), send(b.url, p)]);
      return { p, a: fromA, b: fromB };
    }));
    await killedAt;
    const gone = await a.stop();
    expect(gone.signal).toBe('SIGKILL');
    // What the database says, challenge by challenge.
    const rows = await sql<{ challenge: string; state: string }>(db.url, `SELECT challenge, state FROM challenges WHERE "user" LIKE 'u%'`);
    const state = new Map(rows.map((r) => [r.challenge, r.state]));
    let oks = 0;
    let unanswered = 0;
    for (const { p, a: fromA, b: fromB } of outcomes) {
      const okCount = [fromA, fromB].filter((s) => s === '200').length;
      oks += okCount;
      expect(okCount, `challenge ${p.challenge} answered ok ${okCount} times`).toBeLessThanOrEqual(1);
      if (okCount === 1) expect(state.get(p.challenge), `challenge ${p.challenge} was answered ok but is not consumed`).toBe('used');
      if (okCount === 0) {
        unanswered++;
        // Asked again on the surviving instance: consumed by the killed one before it died ("already used"),
        // or still open (and consumed now). Never a second success.
        const again = await post(b.url, '/v1/login/verify', p);
        expect(again.status === 200 ? 'open' : again.body.reason, `challenge ${p.challenge}`).toBe(state.get(p.challenge) === 'used' ? 'already used' : 'open');
      }
    }
    console.log(`kill -9 under load: ${oks} answered ok before or after the kill, ${unanswered} asked again on the survivor, ${outcomes.filter((o) => o.a === 'no answer').length} requests to the killed instance unanswered`);
    expect(oks).toBeGreaterThan(0);
    // One successful verification in the audit per consumed challenge (written in the same transaction):
    // nothing was committed twice, and every challenge is consumed by now.
    const logins = await sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM audit WHERE "user" LIKE 'u%' AND action = 'verify' AND outcome = 'ok'`);
    const used = await sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM challenges WHERE "user" LIKE 'u%' AND state = 'used'`);
    expect(used[0]!.n).toBe(prepared.length);
    expect(logins[0]!.n).toBe(prepared.length);
  });
});

describe.skipIf(postgresSkipReason !== null)('dsc host --db postgres://…', () => {
  let server: TestPostgres;
  let db: { url: string; drop(): Promise<void> };
  let dir: string;
  beforeAll(async () => {
    server = await testPostgres();
    db = await testDatabase(server);
    dir = mkdtempSync(join(tmpdir(), 'dsc-pg-cli-'));
    writeFileSync(join(dir, 'card.json'), JSON.stringify(makeRecord({ serial: 54000000, pin })));
  });
  afterAll(async () => {
    await db?.drop();
    server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a password in the URL (exit 2, naming --db, never repeating it), a missing key, and a wrong key, writing nothing', async () => {
    const withPassword = new URL(db.url);
    withPassword.password = 'hunter2-on-argv';
    const refused = runDsc(['host', 'enroll', '--user', 'x', '--device', 'card.json', '--db', withPassword.toString(), '--host-key-file', 'k.key'], { cwd: dir });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--db must not carry a password');
    expect(refused.stdout + refused.stderr).not.toContain('hunter2-on-argv');
    const noKey = runDsc(['host', 'enroll', '--user', 'x', '--device', 'card.json', '--db', db.url], { cwd: dir, env: { ...process.env, DSC_HOST_KEY: '' } });
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toMatch(/set DSC_HOST_KEY .* or give --host-key-file PATH/);
    expect(await sql(db.url, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).toEqual([{ n: 0 }]);

    const key = 'ab'.repeat(32);
    const enrolled = runDsc(['host', 'enroll', '--user', 'x', '--device', 'card.json', '--db', db.url], { cwd: dir, env: { ...process.env, DSC_HOST_KEY: key } });
    expect(enrolled.status, enrolled.stderr).toBe(0);
    const before = await sql(db.url, 'SELECT count(*)::int AS n FROM audit');
    const wrongKey = runDsc(['host', 'unlock', '--user', 'x', '--db', db.url], { cwd: dir, env: { ...process.env, DSC_HOST_KEY: 'cd'.repeat(32) } });
    expect(wrongKey.status).toBe(2);
    expect(wrongKey.stderr).toContain('key check value differs');
    expect(await sql(db.url, 'SELECT count(*)::int AS n FROM audit')).toEqual(before);
    const listed = runDsc(['host', 'devices', '--user', 'x', '--db', db.url, '--json'], { cwd: dir, env: { ...process.env, DSC_HOST_KEY: key } });
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ serial: '54000000', users: ['x'] }]);
  });
});
