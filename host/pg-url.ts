/**
 * A `--db` value that names a PostgreSQL database: `postgres://user@host:port/database`. A password never goes
 * on the command line (every user of the machine can read a process's arguments in /proc), so a URL carrying
 * one is refused, without repeating it; the password comes from PGPASSWORD or the password file, as for
 * libpq (host/pgpass.ts).
 */
import { StoreError } from './sqlite-store.ts';

const schemes = ['postgres:', 'postgresql:'];

/** Whether a `--db` value means PostgreSQL rather than a SQLite file path. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/**
 * Check a PostgreSQL URL given as `option` (what the user typed it as, e.g. `--db`) and return it.
 * @example
 * checkPostgresUrl('postgres://dsc@db.example:5432/dsc', '--db'); // 'postgres://dsc@db.example:5432/dsc'
 * checkPostgresUrl('postgres://dsc:hunter2@db.example/dsc', '--db'); // throws, without "hunter2"
 */
export function checkPostgresUrl(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StoreError(`${option} expected a URL like postgres://user@host:5432/database, got one that does not parse (not shown: it may hold a secret)`);
  }
  if (!schemes.includes(url.protocol.toLowerCase())) throw new StoreError(`${option} expected a postgres:// URL, got ${url.protocol}//…`);
  if (url.password !== '' || url.searchParams.has('password')) {
    throw new StoreError(
      `${option} must not carry a password (the command line is visible to every user of this machine; the URL is not shown): ` +
        'give it in PGPASSWORD or ~/.pgpass (PGPASSFILE), as for psql',
    );
  }
  if (url.hostname === '' && !url.searchParams.has('host')) throw new StoreError(`${option} expected a host: postgres://user@host:5432/database`);
  if (url.pathname.length <= 1) throw new StoreError(`${option} expected a database name: postgres://user@${url.host}/database`);
  return value;
}
