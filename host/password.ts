/**
 * The first factor: passwords stored as scrypt hashes, never in the clear. The encoding keeps the parameters
 * with each hash, so raising them later leaves old hashes checkable.
 *
 * Default cost: N = 2^15, r = 8, p = 3 (32 MiB, three passes): one of OWASP's equivalent scrypt settings
 * (Password Storage Cheat Sheet: N=2^17 r=8 p=1, N=2^16 r=8 p=2, N=2^15 r=8 p=3, …). Measured in `npm run bench`.
 *
 * Hashes run in node's crypto.scrypt, on libuv's thread pool: the event loop (every other login, every
 * verification) goes on meanwhile. A hash is slow and large on purpose, so at most `passwordChecksMax` run or
 * wait in this process at once; one more is refused at once ('busy'), counted nowhere and writing nothing.
 */
import { scrypt as scryptCallback } from 'node:crypto';
import { base64urlnopad } from './base64.ts';
import { equalBytes } from '../firmware/compare.ts';
import { HostError } from './errors.ts';

export interface ScryptCost {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const passwordCostDefault: ScryptCost = { N: 2 ** 15, r: 8, p: 3 };
/** Refused when reading a stored hash: bounds the work (and memory) one check may cost. */
export const passwordCostNMax = 2 ** 20;
export const passwordSaltBytes = 16;
export const passwordHashBytes = 32;
/** NIST SP 800-63B §5.1.1.2: at least 8 characters; at least 64 allowed. */
export const passwordCharsMin = 8;
export const passwordCharsMax = 256;

export function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < passwordCharsMin || password.length > passwordCharsMax) {
    throw new HostError('bad input', `the password expected ${passwordCharsMin}..${passwordCharsMax} characters`, true); // never echo it
  }
  return password;
}

/**
 * Password hashes (setting or checking) running or waiting for a thread in this process at most: each holds
 * 32 MiB while it runs (at the default cost), and a flood of login attempts must not queue without bound.
 */
export const passwordChecksMax = 32;
let passwordChecks = 0;

/** The scrypt of `password`, within the process's bound; a HostError 'busy' (nothing done) beyond it. */
async function scrypt(password: string, salt: Uint8Array, cost: ScryptCost, bytes: number): Promise<Uint8Array> {
  if (passwordChecks >= passwordChecksMax) {
    throw new HostError('busy', `busy: ${passwordChecksMax} password checks are already running or waiting; retry in a moment`);
  }
  passwordChecks++;
  try {
    // OpenSSL refuses a cost whose memory (128·r·(N+p+2) bytes) exceeds maxmem: allow exactly this cost's.
    const maxmem = 128 * cost.r * (cost.N + cost.p + 2) + 1024 * 1024;
    return await new Promise<Uint8Array>((resolve, reject) => {
      scryptCallback(password, salt, bytes, { ...cost, maxmem }, (error, key) => (error ? reject(error) : resolve(new Uint8Array(key))));
    });
  } finally {
    passwordChecks--;
  }
}

/**
 * @example
 * const stored = await hashPassword('correct horse', random); // "scrypt$32768$8$3$<salt>$<hash>"
 * await passwordMatches('correct horse', stored); // true
 */
export async function hashPassword(password: string, random: (bytes: number) => Uint8Array, cost: ScryptCost = passwordCostDefault): Promise<string> {
  const salt = random(passwordSaltBytes);
  const hash = await scrypt(password, salt, cost, passwordHashBytes);
  return ['scrypt', cost.N, cost.r, cost.p, base64urlnopad.encode(salt), base64urlnopad.encode(hash)].join('$');
}

/** Whether `password` is the one `stored` was made from (constant-time compare of the hashes). */
export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new Error(`stored password hash has an unknown format (${parts[0]})`);
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (!(Number.isSafeInteger(N) && N > 1 && N <= passwordCostNMax && Number.isSafeInteger(r) && r >= 1 && r <= 32 && Number.isSafeInteger(p) && p >= 1 && p <= 16)) {
    throw new Error('stored password hash has parameters out of range');
  }
  const salt = base64urlnopad.decode(parts[4]!);
  const expected = base64urlnopad.decode(parts[5]!);
  const actual = await scrypt(password, salt, { N, r, p }, expected.length);
  return equalBytes(actual, expected);
}
