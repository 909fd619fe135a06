/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the integrity check of each memory slot.
 * It catches torn writes (power lost mid-write), which is its job here; tampering is not its job
 * (the secret is sealed with an AEAD, and the device key never leaves the shell).
 */
const table = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  table[n] = c >>> 0;
}

/**
 * @example
 * crc32(new TextEncoder().encode('123456789')) // 0xcbf43926 (the standard check value)
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
