/** The host's random source: node's CSPRNG, drawn a few KiB at a time. */
import { randomBytes, randomFillSync } from 'node:crypto';
import type { Random } from './challenge.ts';

/** Bytes from node's CSPRNG, drawn a few KiB at a time: one system call per ~1,000 challenges, not one each. */
export const randomPoolBytes = 4_096;

export function pooledRandom(): Random {
  // Filled in place (randomFillSync), so no copy of the random bytes is left behind in a discarded buffer.
  const pool = new Uint8Array(randomPoolBytes);
  let used = randomPoolBytes;
  const reserve = (n: number): number => {
    if (used + n > randomPoolBytes) {
      randomFillSync(pool);
      used = 0;
    }
    const at = used;
    used += n;
    return at;
  };
  const bytes = (n: number): Uint8Array => {
    if (n > randomPoolBytes) return new Uint8Array(randomBytes(n));
    const at = reserve(n);
    const out = pool.slice(at, at + n);
    pool.fill(0, at, at + n); // handed-out bytes do not stay behind in the pool
    return out;
  };
  // Challenges need a 32-bit number: read it straight from the pool, without a 4-byte array per draw.
  const uint32 = (): number => {
    const at = reserve(4);
    const value = ((pool[at]! << 24) | (pool[at + 1]! << 16) | (pool[at + 2]! << 8) | pool[at + 3]!) >>> 0;
    pool.fill(0, at, at + 4);
    return value;
  };
  return Object.assign(bytes, { uint32 });
}
