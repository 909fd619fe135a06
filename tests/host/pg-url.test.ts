/** The `--db postgres://…` value and the password lookup: no password on the command line, libpq's password file rules. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPostgresUrl, isPostgresUrl } from '../../host/pg-url.ts';
import { lookUpPassword, passwordFromPassFile } from '../../host/pgpass.ts';
import { runDscInProcess } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsc-pgpass-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--db postgres://…', () => {
  it('tells a PostgreSQL URL from a SQLite path', () => {
    expect(isPostgresUrl('postgres://dsc@127.0.0.1:5432/dsc')).toBe(true);
    expect(isPostgresUrl('postgresql://dsc@db/dsc')).toBe(true);
    expect(isPostgresUrl('./postgres.sqlite')).toBe(false);
    expect(isPostgresUrl('host.sqlite')).toBe(false);
  });

  it('accepts a URL without a password', () => {
    expect(checkPostgresUrl('postgres://dsc@127.0.0.1:5432/dsc', '--db')).toBe('postgres://dsc@127.0.0.1:5432/dsc');
    expect(checkPostgresUrl('postgresql://dsc@db.example/dsc?sslmode=require', '--db')).toContain('sslmode');
  });

  it.each([
    ['a password in the user part', 'postgres://dsc:hunter2secret@127.0.0.1:5432/dsc', /--db must not carry a password/],
    ['a password as a parameter', 'postgres://dsc@127.0.0.1/dsc?password=hunter2secret', /--db must not carry a password/],
    ['no database', 'postgres://dsc@127.0.0.1:5432/', /--db expected a database name/],
    ['no host', 'postgres://', /--db expected a host/],
    ['not a URL', 'postgres://dsc:hunter2secret@[::1/dsc', /--db expected a URL like/],
  ])('refuses %s, naming --db and never repeating the URL', (_name, value, message) => {
    let error: Error | undefined;
    try {
      checkPostgresUrl(value, '--db');
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('hunter2secret');
  });
});

describe('the password, as libpq finds it', () => {
  const target = { host: 'db.example', port: 5432, database: 'dsc', user: 'verifier' };
  it('takes the first matching line, with * and escapes', () => {
    const file = [
      '# comment',
      'other.example:5432:dsc:verifier:wrong-host',
      'db.example:5433:*:verifier:wrong-port',
      'db.example:*:*:verifier:pa\\:ss\\\\word',
      '*:*:*:*:fallback',
    ].join('\n');
    expect(passwordFromPassFile(file, target)).toBe('pa:ss\\word');
    expect(passwordFromPassFile(file, { ...target, user: 'someone' })).toBe('fallback');
    expect(passwordFromPassFile('db.example:5432:dsc:verifier', target)).toBeUndefined();
  });

  it('prefers PGPASSWORD; reads PGPASSFILE only when others cannot read it, saying why it skipped one', () => {
    const path = join(dir, 'pgpass');
    writeFileSync(path, 'db.example:5432:dsc:verifier:from-file\n', { mode: 0o600 });
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    expect(lookUpPassword(target, { PGPASSWORD: 'from-env', PGPASSFILE: path }, warn)).toBe('from-env');
    expect(lookUpPassword(target, { PGPASSFILE: path }, warn)).toBe('from-file');
    chmodSync(path, 0o644);
    expect(lookUpPassword(target, { PGPASSFILE: path }, warn)).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/pgpass is ignored: others can read it \(mode 644/)]);
    expect(warnings[0]).not.toContain('from-file');
    expect(lookUpPassword(target, { PGPASSFILE: join(dir, 'absent') }, warn)).toBeUndefined();
  });
});

describe('dsc host serve: the PostgreSQL options, refused before anything is opened', () => {
  it.each([
    ['--durable with PostgreSQL', ['--db', 'postgres://dsc@127.0.0.1:1/dsc', '--durable'], /--durable is for SQLite/],
    ['--host-key-file with a SQLite path', ['--db', 'host.sqlite', '--host-key-file', 'k.key'], /--host-key-file goes with --db postgres/],
    ['a password in the URL', ['--db', 'postgres://dsc:hunter2secret@127.0.0.1:1/dsc', '--host-key-file', 'k.key'], /--db must not carry a password/],
    ['a lock limit that is not a number', ['--lock-limit', 'ten'], /--lock-limit expected 1\.\.100 failures, got "ten"/],
    ['a lock limit past NIST\'s 100', ['--lock-limit', '101'], /--lock-limit expected 1\.\.100/],
    ['an audit keep time of 0 days', ['--audit-keep-days', '0'], /--audit-keep-days expected 1\.\.36500 days, got "0"/],
    ['an audit keep time that is not a number', ['--audit-keep-days', '1y'], /--audit-keep-days expected 1\.\.36500 days, got "1y"/],
  ])('%s: exit 2, the option named', async (_name, args, message) => {
    const r = await runDscInProcess(['host', 'serve', '--listen', '127.0.0.1:0', ...args], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout + r.stderr).not.toContain('hunter2secret');
  });
});
