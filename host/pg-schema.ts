/**
 * The PostgreSQL schema: who owns the database, which version it is at, and applying the missing migrations of
 * host/migrations.ts (the PostgreSQL dialect) in one transaction under an advisory lock, so two verifier
 * instances starting together do not both migrate (the second waits, then finds the work done).
 */
import type pg from 'pg';
import { migrationSteps, schemaVersion } from './migrations.ts';
import { StoreError } from './sqlite-store.ts';

/** The table that records how many migrations have run (SQLite keeps this number in `PRAGMA user_version`). */
export const versionTable = 'dsc_schema';

/**
 * The advisory lock key held while migrating: any constant both instances agree on. Advisory locks are per
 * database, so instances on other databases of the same cluster do not wait for each other.
 */
export const migrationLockKey = 0x64736370; // "dscp"

/**
 * Check that the database (its current schema) is ours and not newer than this code, then bring it to
 * `schemaVersion`. Nothing is written to a foreign or newer database, nor to an empty one when `create` is false.
 * @example
 * await migratePostgres(client, 'postgres://dsc@db.example:5432/dsc', true);
 */
export async function migratePostgres(client: pg.ClientBase, where: string, create: boolean): Promise<void> {
  // READ COMMITTED: after waiting for the lock, each statement sees what the other instance committed.
  await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey]);
    const version = await versionOf(client, where, create);
    if (version > schemaVersion) {
      throw new StoreError(`database ${where} has schema version ${version}, newer than this dsc (${schemaVersion}); upgrade dsc`);
    }
    if (version < schemaVersion) {
      if (version === 0) await client.query(`CREATE TABLE ${versionTable} (version INTEGER NOT NULL)`);
      for (let v = version; v < schemaVersion; v++) await client.query(migrationSteps[v]!.postgres);
      await client.query(`DELETE FROM ${versionTable}`);
      await client.query(`INSERT INTO ${versionTable} (version) VALUES ($1)`, [schemaVersion]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The schema version, 0 for an empty schema; refuses a foreign one (tables but no version). */
async function versionOf(client: pg.ClientBase, where: string, create: boolean): Promise<number> {
  const known = await client.query<{ found: boolean }>(`SELECT to_regclass('${versionTable}') IS NOT NULL AS found`);
  if (known.rows[0]!.found) {
    const rows = (await client.query<{ version: number }>(`SELECT version FROM ${versionTable}`)).rows;
    if (rows.length !== 1) throw new StoreError(`database ${where} is damaged: ${versionTable} has ${rows.length} rows, expected 1; nothing was changed`);
    return rows[0]!.version;
  }
  const tables = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
  );
  // A schema with tables but without our version table is someone else's: never write into it.
  if (tables.rows[0]!.n > 0) throw new StoreError(`database ${where} is not a dscplus host database (its schema has tables but no ${versionTable}); nothing was changed`);
  if (!create) throw new StoreError(`no host database at ${where} (the schema is empty: enroll or import a device first)`);
  return 0;
}
