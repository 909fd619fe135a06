/**
 * The PostgreSQL the store tests use (tests/support/postgres.ts): reachable, and a committed row survives a
 * new connection. This checks the harness `.ci/run` and the tests share; the store itself is tested in
 * tests/host/store-contract.test.ts, tests/host/pg-store.test.ts and tests/service/multi-instance.test.ts.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresSkipReason, testPostgres, type TestPostgres } from '../support/postgres.ts';

describe.skipIf(postgresSkipReason !== null)('the test PostgreSQL', () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await testPostgres();
  });
  afterAll(() => server?.stop());

  it('accepts connections, and a committed row is seen by a second connection', async () => {
    const table = `t_${process.pid}_${Date.now()}`;
    const a = new pg.Client({ connectionString: server.url });
    const b = new pg.Client({ connectionString: server.url });
    await a.connect();
    await b.connect();
    try {
      await a.query(`CREATE TABLE ${table} (v integer NOT NULL)`);
      await a.query('BEGIN');
      await a.query(`INSERT INTO ${table} (v) VALUES (42)`);
      expect((await b.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBe(0);
      await a.query('COMMIT');
      expect((await b.query(`SELECT v FROM ${table}`)).rows).toEqual([{ v: 42 }]);
    } finally {
      await a.query(`DROP TABLE IF EXISTS ${table}`);
      await a.end();
      await b.end();
    }
  });
});
