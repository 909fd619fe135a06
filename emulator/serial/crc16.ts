/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor), the checksum every
 * protocol line ends with. Chosen because small microcontrollers already carry it (it is the
 * XMODEM/CCITT polynomial) and it catches every burst error of up to 16 bits in a line.
 * Catalogue entry: https://reveng.sourceforge.io/crc-catalogue/16.htm ("CRC-16/IBM-3740", check 0x29B1).
 */

/** The catalogue's check value: the CRC of the nine ASCII bytes "123456789". */
export const crc16CheckValue = 0x29b1;

const table = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  table[byte] = crc;
}

/**
 * The CRC of `bytes` (a Uint8Array, or a string whose characters are all below U+0100, taken as latin1 bytes).
 * @example
 * crc16('123456789'); // 0x29b1
 */
export function crc16(bytes: Uint8Array | string): number {
  let crc = 0xffff;
  const length = bytes.length;
  for (let i = 0; i < length; i++) {
    const byte = typeof bytes === 'string' ? bytes.charCodeAt(i) & 0xff : bytes[i]!;
    crc = ((crc << 8) & 0xffff) ^ table[((crc >> 8) ^ byte) & 0xff]!;
  }
  return crc;
}

/** The CRC as the four upper-case hex digits written after `*` on the wire. */
export function crc16Hex(text: string): string {
  return crc16(text).toString(16).toUpperCase().padStart(4, '0');
}
