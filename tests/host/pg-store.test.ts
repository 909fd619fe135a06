/**
 * What only the PostgreSQL store must add to the contract (tests/host/store-contract.test.ts): several
 * instances on one database. Two stores here are two pools, as two `dsc host serve` processes would have:
 * exactly one of many racing transactions consumes a challenge, counters lose no update, two instances
 * migrate an empty database once, and a conflict that never clears ends in a typed error after the bound.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaVersion } from '../../host/migrations.ts';
import { versionTable } from '../../host/pg-schema.ts';
import { openPgHost } from '../../host/pg-open.ts';
import { openPgStore, serializationRetriesMax, StoreConflictError, type PgStore } from '../../host/pg-store.ts';
import { StoreError } from '../../host/sqlite-store.ts';
import type { DeviceRow, StoreTx } from '../../host/store.ts';
import { passwordGroup, postgresSkipReason, sql, testDatabase, testPostgres, type TestPostgres } from '../support/postgres.ts';

const t0 = 1_764_000_000_000;
const device: DeviceRow = {
  serial: '1001', model: 'DSC+', profile: 'dscplus', kind: 'dscplus', suite: 'OCRA-1:HOTP-SHA1-8:QN06', checkDigit: false,
  sealedSecret: new Uint8Array([1]), sealedPin: null, keyVersion: 1, counter: 0, lastTimeStep: -1, failures: 0, locked: false,
  notBeforeMs: 0, expiresMs: null, enrolledMs: t0,
};

describe.skipIf(postgresSkipReason !== null)('PostgreSQL store: several instances on one database', () => {
  let server: TestPostgres;
  const dir = mkdtempSync(join(tmpdir(), 'dsc-pg-store-'));
  beforeAll(async () => {
    server = await testPostgres();
  });
  afterAll(() => {
    server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh database and two instances on it. */
  async function twoInstances(body: (a: PgStore, b: PgStore, url: string) => Promise<void>): Promise<void> {
    const db = await testDatabase(server);
    const [a, b] = await Promise.all([openPgStore(db.url), openPgStore(db.url)]);
    try {
      await body(a, b, db.url);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  }

  it('two instances opening an empty database together migrate it once', async () => {
    await twoInstances(async (_a, _b, url) => {
      expect(await sql(url, `SELECT version FROM ${versionTable}`)).toEqual([{ version: schemaVersion }]);
      const tables = await sql<{ tablename: string }>(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
      expect(tables.map((t) => t.tablename)).toEqual([
        'accounts', 'assignments', 'audit', 'challenges', 'devices', versionTable, 'issued_bits', 'meta', 'rate_windows', 'sessions', 'temp_codes', 'withdrawals',
      ]);
    });
  });

  it('of 32 transactions racing on one open challenge over two instances, exactly one consumes it', async () => {
    await twoInstances(async (a, b, url) => {
      const id = await a.transaction(async (tx) => {
        await tx.insertDevice(device);
        return tx.insertChallenge({ serial: '1001', user: 'u', challenge: '123456', purpose: 'login', sealedPayload: null, amountUsd: null, issuedMs: t0, expiresMs: t0 + 60_000, attempts: 0, state: 'open' });
      });
      const consume = async (tx: StoreTx): Promise<'won' | 'already used'> => {
        const [row] = await tx.challengesFor('u', '123456');
        await tx.audit({ atMs: t0, user: 'u', serial: '1001', action: 'verify', outcome: row!.state === 'open' ? 'ok' : 'refused', reason: null });
        if (row!.state !== 'open') return 'already used';
        await tx.updateChallenge(id, row!.attempts + 1, 'used');
        return 'won';
      };
      const before = a.retries() + b.retries();
      const results = await Promise.all(Array.from({ length: 32 }, (_, i) => (i % 2 ? a : b).transaction(consume)));
      const retries = a.retries() + b.retries() - before;
      console.log(`race on one challenge: ${results.filter((r) => r === 'won').length} won, ${results.filter((r) => r !== 'won').length} refused, ${retries} re-runs`);
      expect(results.filter((r) => r === 'won')).toHaveLength(1);
      // Each logical transaction left exactly one audit row: a re-run's first attempt left nothing behind.
      expect(await sql(url, "SELECT outcome, count(*)::int AS n FROM audit GROUP BY outcome ORDER BY outcome")).toEqual([
        { outcome: 'ok', n: 1 }, { outcome: 'refused', n: 31 },
      ]);
    });
  });

  it('40 read-modify-write increments of one account over two instances lose none', async () => {
    await twoInstances(async (a, b) => {
      await a.transaction((tx) => tx.putAccount({ user: 'u', passwordHash: null, failures: 0, locked: false, notBeforeMs: 0 }));
      const increment = async (tx: StoreTx): Promise<void> => {
        const account = (await tx.account('u'))!;
        await tx.putAccount({ ...account, failures: account.failures + 1 });
      };
      const before = a.retries() + b.retries();
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).transaction(increment)));
      console.log(`40 increments of one row: ${a.retries() + b.retries() - before} re-runs`);
      expect((await a.transaction((tx) => tx.account('u')))!.failures).toBe(40);
    });
  });

  it('withdrawals checked against a limit and written concurrently over two instances never exceed it together (no write skew)', async () => {
    await twoInstances(async (a, b) => {
      await a.transaction((tx) => tx.insertDevice(device));
      const limitUsd = 1_000;
      // The sum is a read of many rows: the store must make two such transactions conflict (host/pg-tx.ts writes the account row first).
      const withdraw = async (tx: StoreTx): Promise<boolean> => {
        if ((await tx.withdrawnSince('u', 0)) + 300 > limitUsd) return false;
        await tx.insertWithdrawal('u', '1001', 300, t0);
        return true;
      };
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).transaction(withdraw)));
      expect(results.filter(Boolean)).toHaveLength(3);
      expect(await a.transaction((tx) => tx.withdrawnSince('u', 0))).toBe(900);
    });
  });

  it('1,024 challenges issued at once for 512 users over two instances: none refused', async () => {
    const db = await testDatabase(server);
    const hostKeyHex = 'ab'.repeat(32);
    const hostOptions = { issueLimits: { perAccount: 1e9, perDevice: 1e9, windowMs: 60_000 } };
    const a = await openPgHost({ url: db.url, hostKeyHex, create: true, hostOptions });
    const b = await openPgHost({ url: db.url, hostKeyHex, create: false, hostOptions });
    try {
      const secret = new Uint8Array(20).fill(9);
      await a.host.enrollKeys(Array.from({ length: 512 }, (_, i) => ({ user: `u${i}`, serial: String(71_000_000 + i), profile: 'digipass' as const, suite: 'OCRA-1:HOTP-SHA1-8:QN06', secret })));
      const before = a.store.retries() + b.store.retries();
      const outcomes = await Promise.all(Array.from({ length: 1024 }, (_, i) =>
        (i % 2 ? a : b).host.challenge({ user: `u${i % 512}` }).then(() => 'issued', (error: Error) => error.message)));
      console.log(`1,024 concurrent issues: ${a.store.retries() + b.store.retries() - before} re-runs`);
      expect(outcomes.filter((o) => o !== 'issued')).toEqual([]);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });

  it(`a conflict that never clears ends in StoreConflictError after ${serializationRetriesMax} re-runs, nothing committed`, async () => {
    await twoInstances(async (a, _b, url) => {
      await a.transaction((tx) => tx.putMeta('n', new Uint8Array([0])));
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      let runs = 0;
      try {
        const attempt = a.transaction(async (tx) => {
          runs++;
          const value = (await tx.meta('n'))!;
          // Another instance changes the row after this transaction's snapshot, every time.
          await other.query("UPDATE meta SET value = '\\x01' WHERE key = 'n'");
          await tx.putMeta('n', new Uint8Array([value[0]! + 2]));
          await tx.audit({ atMs: t0, user: null, serial: null, action: 'x', outcome: 'ok', reason: null });
        });
        await expect(attempt).rejects.toThrow(StoreConflictError);
        await expect(attempt).rejects.toThrow(/still conflicted after 10 re-runs \(40001\)/);
      } finally {
        await other.end();
      }
      expect(runs).toBe(serializationRetriesMax + 1);
      expect(await sql(url, 'SELECT count(*)::int AS n FROM audit')).toEqual([{ n: 0 }]);
    });
  });

  it('a connection the server ends mid-transaction fails that transaction only: nothing committed, the process and the next one fine', async () => {
    await twoInstances(async (a, _b, url) => {
      const attempt = a.transaction(async (tx) => {
        await tx.putMeta('half', new Uint8Array([1]));
        await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dsc-host' AND state = 'idle in transaction'");
        await tx.putMeta('other-half', new Uint8Array([2]));
      });
      await expect(attempt).rejects.toThrow(/connection/);
      expect(await a.transaction(async (tx) => [await tx.meta('half'), await tx.meta('other-half')])).toEqual([undefined, undefined]);
    });
  });

  it('refuses a transaction handle used after its transaction ended', async () => {
    await twoInstances(async (a) => {
      let leaked: StoreTx | undefined;
      await a.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked!.serials()).rejects.toThrow(/used after its transaction ended/);
    });
  });

  describe('opening', () => {
    it('refuses a database newer than this code, a foreign one, and (without create) an empty one, changing nothing', async () => {
      const db = await testDatabase(server);
      try {
        await expect(openPgStore(db.url, { create: false })).rejects.toThrow(/no host database at .*schema is empty/);
        expect(await sql(db.url, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).toEqual([{ n: 0 }]);
        await sql(db.url, 'CREATE TABLE accounts (id integer)');
        await expect(openPgStore(db.url)).rejects.toThrow(/not a dscplus host database/);
        expect(await sql(db.url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).toEqual([{ tablename: 'accounts' }]);
        await sql(db.url, 'DROP TABLE accounts');
        (await openPgStore(db.url)).close();
        await sql(db.url, `UPDATE ${versionTable} SET version = ${schemaVersion + 1}`);
        await expect(openPgStore(db.url)).rejects.toThrow(new RegExp(`schema version ${schemaVersion + 1}, newer than this dsc`));
        expect(await sql(db.url, `SELECT version FROM ${versionTable}`)).toEqual([{ version: schemaVersion + 1 }]);
      } finally {
        await db.drop();
      }
    });

    it('takes the password from PGPASSWORD or the password file, never from the URL, and says when none is found', async () => {
      const role = `dsc_pw_${process.pid}_${Date.now().toString(36)}`;
      const secret = `pw-${Math.random().toString(36).slice(2)}`;
      await sql(server.url, `CREATE ROLE ${passwordGroup} NOLOGIN`).catch((error: { code?: string }) => {
        if (error.code !== '42710' && error.code !== '23505') throw error; // another test made it first
      });
      await sql(server.url, `CREATE ROLE ${role} LOGIN PASSWORD '${secret}' IN ROLE ${passwordGroup}`);
      const url = new URL(server.url);
      url.username = role;
      const dbName = `${role}_db`;
      await sql(server.url, `CREATE DATABASE ${dbName} OWNER ${role}`);
      url.pathname = `/${dbName}`;
      const passFile = join(dir, 'pgpass');
      writeFileSync(passFile, `127.0.0.1:*:${dbName}:${role}:${secret}\n`, { mode: 0o600 });
      try {
        const none = openPgStore(url.toString(), { env: { PGPASSFILE: join(dir, 'absent') } });
        await expect(none).rejects.toThrow(/asks for a password .*PGPASSWORD or add a line to ~\/\.pgpass/);
        const wrong = await openPgStore(url.toString(), { env: { PGPASSWORD: 'wrong-one' } }).catch((error: Error) => error.message);
        expect(wrong).toMatch(/password authentication failed/);
        expect(wrong).not.toContain('wrong-one');
        for (const env of [{ PGPASSWORD: secret }, { PGPASSFILE: passFile }]) {
          const store = await openPgStore(url.toString(), { env });
          expect(await store.transaction((tx) => tx.serials())).toEqual([]);
          await store.close();
        }
      } finally {
        await sql(server.url, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        await sql(server.url, `DROP ROLE IF EXISTS ${role}`);
      }
    });

    it('names the database in a failure without its password', async () => {
      const url = new URL(server.url);
      url.password = 'not-in-messages';
      url.pathname = '/no_such_database';
      const opening = openPgStore(url.toString());
      await expect(opening).rejects.toThrow(StoreError);
      const message = await opening.catch((error: Error) => error.message);
      expect(message).toMatch(/no_such_database.*does not exist/);
      expect(message).not.toContain('not-in-messages');
    });
  });
});
