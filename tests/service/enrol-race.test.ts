/**
 * Enrolments of one serial racing (two `dsc host enroll` processes, or admin calls at once) end as the
 * sequential duplicate does: exactly one enrolled, the others refused 'serial taken' (exit 2 / 409), never a
 * raw database error; on SQLite and on PostgreSQL. And a refused first enrolment on an empty PostgreSQL
 * database leaves the schema but no key file and no key check value: the next enrolment starts afresh.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../support/cli.ts';
import { runDscAsync } from '../serial/support/processes.ts';
import { postgresSkipReason, testDatabase, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { makeRecord } from '../host/support/devices.ts';
import { openPgHost } from '../../host/pg-open.ts';
import { adminToken, startTestService, type TestService } from './support/service.ts';

const racers = 4;
/** Polls (100 ms apart) for the racing processes to reach the gate: bounded, and the race runs anyway after it. */
const gatePollsMax = 100;
const takenMessage = 'is already enrolled with a different key or suite';

/** `dsc …` as a child process in `cwd` (several run at once). */
function dsc(args: string[], cwd: string): Promise<CliResult> {
  return runDscAsync(args, process.env, cwd);
}

/** Device files of one serial with different keys, one per racer. */
function rivalCards(dir: string, serial: number): string[] {
  return Array.from({ length: racers }, (_, i) => {
    const name = `rival-${serial}-${i}.json`;
    writeFileSync(join(dir, name), JSON.stringify(makeRecord({ serial, secret: new Uint8Array(randomBytes(20)) })));
    return name;
  });
}

function expectOneWinner(results: CliResult[]): void {
  const won = results.filter((r) => r.status === 0);
  expect(won, results.map((r) => r.stderr).join('\n')).toHaveLength(1);
  for (const r of results.filter((r) => r.status !== 0)) {
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(takenMessage);
  }
}

async function adminRace(service: TestService, serial: number): Promise<void> {
  const replies = await Promise.all(Array.from({ length: racers * 2 }, (_, i) => service.post('/v1/admin/enroll',
    { user: `admin-racer${i}`, record: makeRecord({ serial, secret: new Uint8Array(randomBytes(20)) }) },
    { authorization: `Bearer ${adminToken}` })));
  expect(replies.filter((r) => r.status === 200), JSON.stringify(replies.map((r) => r.body))).toHaveLength(1);
  for (const r of replies.filter((r) => r.status !== 200)) {
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.type).toContain('application/problem+json');
    expect(r.body.reason).toBe('serial taken');
  }
}

describe('racing enrolments of one serial on SQLite', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsc-enrol-race-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`${racers} dsc host enroll processes: one enrolled, the others exit 2 with the refusal`, async () => {
    writeFileSync(join(dir, 'first.json'), JSON.stringify(makeRecord({ serial: 54200000 })));
    const first = await dsc(['host', 'enroll', '--user', 'first', '--device', 'first.json', '--db', 'host.sqlite'], dir);
    expect(first.status, first.stderr).toBe(0);
    const cards = rivalCards(dir, 54200001);
    expectOneWinner(await Promise.all(cards.map((card, i) => dsc(['host', 'enroll', '--user', `racer${i}`, '--device', card, '--db', 'host.sqlite'], dir))));
  }, 120_000);

  it(`${racers * 2} admin enrol calls at once: one 200, the others 409 serial taken`, async () => {
    const service = await startTestService();
    try {
      await adminRace(service, 54200002);
    } finally {
      await service.close();
    }
  });
});

describe.skipIf(postgresSkipReason !== null)('racing enrolments of one serial, and a refused first enrolment, on PostgreSQL', () => {
  let server: TestPostgres;
  let dir: string;
  const dbs: { url: string; drop(): Promise<void> }[] = [];

  beforeAll(async () => {
    server = await testPostgres();
    dir = mkdtempSync(join(tmpdir(), 'dsc-enrol-race-pg-'));
  }, 120_000);
  afterAll(async () => {
    for (const db of dbs) await db.drop();
    server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${racers} dsc host enroll processes: one enrolled, the others exit 2 with the refusal`, async () => {
    const db = await testDatabase(server);
    dbs.push(db);
    writeFileSync(join(dir, 'first.json'), JSON.stringify(makeRecord({ serial: 54300000 })));
    const first = await dsc(['host', 'enroll', '--user', 'first', '--device', 'first.json', '--db', db.url, '--host-key-file', 'race.key'], dir);
    expect(first.status, first.stderr).toBe(0);
    const cards = rivalCards(dir, 54300001);
    // The processes start a second or more apart; a SHARE lock on the devices table (it blocks inserts, not
    // reads) holds each at its INSERT until all have read "no such serial", then lets them race.
    const gate = new pg.Client({ connectionString: db.url });
    await gate.connect();
    await gate.query('BEGIN');
    await gate.query('LOCK TABLE devices IN SHARE MODE');
    const running = cards.map((card, i) => dsc(['host', 'enroll', '--user', `racer${i}`, '--device', card, '--db', db.url, '--host-key-file', 'race.key'], dir));
    try {
      for (let poll = 0; poll < gatePollsMax; poll++) {
        // pg_stat_activity is read once per transaction unless its snapshot is cleared.
        await gate.query('SELECT pg_stat_clear_snapshot()');
        const waiting = await gate.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        if (waiting.rows[0].n === racers) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await gate.query('COMMIT');
      await gate.end();
    }
    expectOneWinner(await Promise.all(running));
  }, 120_000);

  it(`${racers * 2} admin enrol calls at once: one 200, the others 409 serial taken`, async () => {
    const db = await testDatabase(server);
    dbs.push(db);
    const service = await startTestService({ postgresUrl: db.url });
    try {
      await adminRace(service, 54300002);
    } finally {
      await service.close();
    }
  });

  it('a refused first enrolment leaves the schema, but no key file and no key check value; the next one creates them', async () => {
    const db = await testDatabase(server);
    dbs.push(db);
    writeFileSync(join(dir, 'damaged.json'), JSON.stringify({ ...makeRecord({ serial: 54300003 }), deviceKey: '00'.repeat(32) }));
    const refused = await dsc(['host', 'enroll', '--user', 'first', '--device', 'damaged.json', '--db', db.url, '--host-key-file', 'new.key'], dir);
    expect(refused.status, refused.stderr).toBe(2);
    expect(readdirSync(dir).filter((name) => name.startsWith('new.key'))).toEqual([]);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await client.query("SELECT count(*)::int AS n FROM meta WHERE key = 'host-key-check'")).rows[0].n).toBe(0);
      expect((await client.query('SELECT count(*)::int AS n FROM devices')).rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
    writeFileSync(join(dir, 'good.json'), JSON.stringify(makeRecord({ serial: 54300004 })));
    const enrolled = await dsc(['host', 'enroll', '--user', 'first', '--device', 'good.json', '--db', db.url, '--host-key-file', 'new.key'], dir);
    expect(enrolled.status, enrolled.stderr).toBe(0);
    expect(statSync(join(dir, 'new.key')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((name) => name.startsWith('new.key'))).toEqual(['new.key']);
    const devices = await dsc(['host', 'devices', '--user', 'first', '--db', db.url, '--host-key-file', 'new.key'], dir);
    expect(devices.status, devices.stderr).toBe(0);
    expect(devices.stdout).toContain('54300004');
  }, 120_000);

  it('while a first command has not yet published its new key, a second creating command is refused with the reason and writes nothing', async () => {
    const db = await testDatabase(server);
    dbs.push(db);
    const keyFile = join(dir, 'pending.key');
    const first = await openPgHost({ url: db.url, keyFile, create: true });
    try {
      expect(readdirSync(dir).filter((name) => name.startsWith('pending.key'))).toEqual([`pending.key.pending-${process.pid}`]);
      writeFileSync(join(dir, 'second.json'), JSON.stringify(makeRecord({ serial: 54300005 })));
      const second = await dsc(['host', 'enroll', '--user', 'second', '--device', 'second.json', '--db', db.url, '--host-key-file', 'pending.key'], dir);
      expect(second.status, second.stderr).toBe(2);
      expect(second.stderr).toContain('another command is creating');
      expect(await first.store.transaction(async (tx) => tx.serials())).toEqual([]);
      await first.host.enroll({ user: 'first', record: makeRecord({ serial: 54300006 }) });
      expect(first.publish()).toBe('published');
    } finally {
      await first.close();
    }
    expect(readdirSync(dir).filter((name) => name.startsWith('pending.key'))).toEqual(['pending.key']);
    const again = await dsc(['host', 'enroll', '--user', 'second', '--device', 'second.json', '--db', db.url, '--host-key-file', 'pending.key'], dir);
    expect(again.status, again.stderr).toBe(0);
  }, 120_000);
});
