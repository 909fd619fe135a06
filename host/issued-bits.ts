/**
 * What "never the same challenge twice to one device" keeps: a bitmap per device of every challenge value
 * ever issued, in chunks of `issuedChunkBytes`, so each issue reads and writes one small chunk and the record
 * is bounded whatever the traffic (challenge rows themselves are pruned once expired).
 *
 * A 6-digit challenge (900,000 values, no leading 0) takes at most 112,500 bytes per device. Longer
 * challenges are folded into `issuedBitsMax` bits: two values may share a bit, which only means a value never
 * issued is skipped as if it had been (the rule is never broken, the space just shrinks to that many values).
 */
import { codeCardCodes } from './code-card.ts';
import type { StoreTx } from './store.ts';

/**
 * Bytes per chunk: small enough that a chunk's row fits one page of the SQLite table (1 KiB pages, WITHOUT
 * ROWID: a row over about 230 bytes spills onto an overflow page, a second page written per issue), large
 * enough that a device's 6-digit space is a few hundred rows. Schema migration 3 split the earlier 512-byte
 * chunks into these; changing it again needs another migration that keeps every bit.
 */
export const issuedChunkBytes = 128;
const chunkBits = issuedChunkBytes * 8;
/** Bits per device at most (2^23 bits = 1 MiB): the bound for challenges longer than 6 digits. */
export const issuedBitsMax = 2 ** 23;

/** The bit of a challenge as shown (check digit included, code-card "012-140" indexes). */
export function issuedIndex(challenge: string, checkDigit: boolean, codeCard: boolean): number {
  if (codeCard) {
    const [a, b] = challenge.split('-').map(Number) as [number, number];
    return (a - 1) * codeCardCodes + (b - 1);
  }
  const body = checkDigit ? challenge.slice(0, -1) : challenge;
  // Challenges never start with 0 (host/challenge.ts): [10^(n-1), 10^n) maps to [0, 9·10^(n-1)).
  const lowest = 10 ** (body.length - 1);
  if (body.length <= 15) return (Number(body) - lowest) % issuedBitsMax;
  let folded = 0;
  for (let i = 0; i < body.length; i++) folded = (folded * 10 + body.charCodeAt(i) - 48) % issuedBitsMax;
  return folded;
}

/** Mark `index` issued for `serial`; false (nothing written) when it already was. */
export async function markIssued(store: StoreTx, serial: string, index: number): Promise<boolean> {
  const chunk = Math.floor(index / chunkBits);
  const bit = index % chunkBits;
  const stored = await store.issuedBits(serial, chunk);
  // A chunk shorter than the size (never written by this code) is read as its bytes followed by clear ones.
  const bits = stored?.length === issuedChunkBytes ? stored : new Uint8Array(issuedChunkBytes);
  if (stored && stored !== bits) bits.set(stored.subarray(0, issuedChunkBytes));
  const mask = 1 << (bit & 7);
  if ((bits[bit >> 3]! & mask) !== 0) return false;
  bits[bit >> 3]! |= mask;
  await store.putIssuedBits(serial, chunk, bits);
  return true;
}
