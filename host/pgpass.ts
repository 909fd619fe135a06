/**
 * The PostgreSQL password, found as libpq finds it when the URL has none: PGPASSWORD, else the first matching
 * line of the password file (PGPASSFILE, default ~/.pgpass), `hostname:port:database:username:password` with
 * `*` for any value and `\:` `\\` escapes. Like libpq, a password file others can read is ignored (with a
 * warning that names the file, never its contents). node-postgres has its own reader, deprecated and noisy;
 * this one is small, and its rules are tested.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** A password file larger than this is not read. */
export const passFileBytesMax = 64 * 1024;

export interface PassTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

/** Split one line on unescaped colons, undoing `\:` and `\\`. */
function fields(line: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) current += line[++i];
    else if (c === ':') {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

/**
 * The password for `target` in the text of a password file, or undefined.
 * @example
 * passwordFromPassFile('db.example:5432:*:dsc:s3cret\n', { host: 'db.example', port: 5432, database: 'dsc', user: 'dsc' }); // 's3cret'
 */
export function passwordFromPassFile(text: string, target: PassTarget): string | undefined {
  const wanted = [target.host, String(target.port), target.database, target.user];
  for (const raw of text.split(/\r?\n/)) {
    if (raw === '' || raw.startsWith('#')) continue;
    const f = fields(raw);
    if (f.length < 5) continue;
    // libpq: "localhost" in the file also matches a connection over a Unix socket.
    const matches = wanted.every((value, i) => f[i] === '*' || f[i] === value || (i === 0 && f[i] === 'localhost' && value.startsWith('/')));
    if (matches) return f.slice(4).join(':');
  }
  return undefined;
}

/**
 * PGPASSWORD, or the password file's entry for `target`; `warn` hears why a file was skipped.
 * @example
 * const password = lookUpPassword({ host: '127.0.0.1', port: 5432, database: 'dsc', user: 'dsc' }, process.env, console.warn);
 */
export function lookUpPassword(target: PassTarget, env: NodeJS.ProcessEnv, warn: (message: string) => void): string | undefined {
  if (env.PGPASSWORD !== undefined && env.PGPASSWORD !== '') return env.PGPASSWORD;
  const path = env.PGPASSFILE || join(env.HOME || homedir(), '.pgpass');
  let mode: number;
  let size: number;
  try {
    ({ mode, size } = statSync(path));
  } catch {
    return undefined;
  }
  if ((mode & 0o077) !== 0) {
    warn(`password file ${path} is ignored: others can read it (mode ${(mode & 0o777).toString(8)}; run chmod 600 ${path})`);
    return undefined;
  }
  if (size > passFileBytesMax) {
    warn(`password file ${path} is ignored: ${size} bytes, more than ${passFileBytesMax}`);
    return undefined;
  }
  return passwordFromPassFile(readFileSync(path, 'utf8'), target);
}
