/**
 * The bench's devices' secrets: 20 bytes (an HMAC-SHA1 key), distinct for every index, the same in every run
 * so that runs compare.
 * @example
 * secretOf(0) // 00 00 00 01 00 … 00
 */
export function secretOf(i: number): Uint8Array {
  const s = new Uint8Array(20);
  new DataView(s.buffer).setUint32(0, i + 1);
  return s;
}
