/**
 * The administrator's token: read from a file (mode 0600, like the host key) or the environment, never from
 * the command line (argv is visible to every user in `ps`). Compared in constant time (firmware/compare.ts): both
 * sides are hashed with SHA-256 first, so neither the length nor a common prefix shows in the time taken.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { equalBytes } from '../firmware/compare.ts';

/** A shorter token is refused at start: an admin token must not be guessable over the network. */
export const adminTokenCharsMin = 32;
export const adminTokenCharsMax = 1_024;
/** The environment variable that may hold the token (when no file is given). */
export const adminTokenEnv = 'DSC_ADMIN_TOKEN';

export class AdminTokenError extends Error {
  override name = 'AdminTokenError';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function checked(token: string, where: string): string {
  const text = token.trim();
  if (text.length < adminTokenCharsMin || text.length > adminTokenCharsMax || /\s/.test(text)) {
    throw new AdminTokenError(`${where}: the admin token must be ${adminTokenCharsMin}..${adminTokenCharsMax} characters without spaces (got ${text.length})`);
  }
  return text;
}

/**
 * The token from `path` (refused when others can read it) or else from `env[adminTokenEnv]`; undefined when
 * neither is set (the admin calls then refuse every caller).
 */
export function loadAdminToken(path: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (path !== undefined) {
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
    } catch (error) {
      throw new AdminTokenError(`admin token file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if ((mode & 0o077) !== 0) throw new AdminTokenError(`admin token file ${path} is readable by others (mode ${mode.toString(8)}); run chmod 600 ${path}`);
    return checked(readFileSync(path, 'utf8'), `admin token file ${path}`);
  }
  const value = env[adminTokenEnv];
  return value === undefined || value === '' ? undefined : checked(value, adminTokenEnv);
}

/** A checker for `Authorization: Bearer <token>` headers; the expected token is kept only as its digest. */
export function adminTokenChecker(token: string | undefined): (header: string | undefined) => boolean {
  const expected = token === undefined ? undefined : digest(token);
  return (header) => {
    if (expected === undefined || typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
    return equalBytes(digest(header.slice('Bearer '.length).trim()), expected);
  };
}
