/**
 * A PostgreSQL server for the tests: the cluster `.ci/run` started (DSC_TEST_PG_URL), or else, when
 * PostgreSQL is installed, a throw-away cluster of our own (initdb in a temporary folder, as `nobody` when
 * running as root, on a free loopback port, removed at the end). Without PostgreSQL the tests say clearly that
 * they were skipped, except under CI=true, where they must run and fail instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const inCi = process.env.CI === 'true';

/** The newest installed PostgreSQL's bin folder (Debian's layout), or undefined. */
export const postgresBin: string | undefined = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(a) - Number(b));
  return versions.length ? join(root, versions.at(-1)!, 'bin') : undefined;
})();

/** Why the PostgreSQL tests are skipped, or null when they run. */
export const postgresSkipReason: string | null = process.env.DSC_TEST_PG_URL || postgresBin || inCi
  ? null
  : 'PostgreSQL is not installed and DSC_TEST_PG_URL is not set: skipping the PostgreSQL tests (apt-get install postgresql; CI=true makes this a failure)';
if (postgresSkipReason !== null) console.warn(`tests: ${postgresSkipReason}`);

/** The group whose members must give a password (the password tests); everyone else is trusted. `.ci/run` writes the same. */
export const passwordGroup = 'dsc_password_users';
const pgHbaConf = `local all all trust
host all +${passwordGroup} 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
`;

export interface TestPostgres {
  readonly url: string;
  stop(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * @example
 * const pg = await testPostgres(); // { url: 'postgres://dsc@127.0.0.1:41234/postgres', stop }
 */
export async function testPostgres(): Promise<TestPostgres> {
  const given = process.env.DSC_TEST_PG_URL;
  if (given) return { url: given, stop: () => {} };
  if (!postgresBin) throw new Error('PostgreSQL is not installed; CI must install it (.ci/run does) or set DSC_TEST_PG_URL');
  const dir = mkdtempSync(join(tmpdir(), 'dsc-test-pg-'));
  const asRoot = userInfo().uid === 0;
  // PostgreSQL refuses to run as root: the cluster belongs to `nobody` then.
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim()), Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim()));
  const run = (tool: string, args: string[]) => {
    const [command, argv] = asRoot ? ['runuser', ['-u', 'nobody', '--', join(postgresBin!, tool), ...args]] : [join(postgresBin!, tool), args];
    const result = spawnSync(command as string, argv as string[], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${tool} failed (${result.status}): ${result.stderr}`);
  };
  const port = await freePort();
  run('initdb', ['-D', join(dir, 'data'), '-U', 'dsc', '--auth=trust', '-E', 'UTF8']);
  writeFileSync(join(dir, 'data', 'pg_hba.conf'), pgHbaConf);
  run('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'server.log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
  return {
    url: `postgres://dsc@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A new, empty database on `server` for one test (so test files and cases run in parallel without seeing each
 * other's rows, migrations or advisory locks), dropped by `drop`.
 * @example
 * const db = await testDatabase(server); // { url: 'postgres://dsc@127.0.0.1:41234/dsc_t_…', drop }
 */
export async function testDatabase(server: TestPostgres): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const name = `dsc_t_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    // An ICU English collation, as most production databases have (not the byte order of the C locale the
    // test cluster may get from its environment), so a sort that needs COLLATE "C" is seen to need it.
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`);
  } finally {
    await admin.end();
  }
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new pg.Client({ connectionString: server.url });
      await again.connect();
      try {
        await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await again.end();
      }
    },
  };
}

/**
 * One query on a connection of its own, closed after it: for checks from outside the store under test.
 * @example
 * const [row] = await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM devices');
 */
export async function sql<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
