/**
 * Independent oracles for the serial tests, sharing no code with emulator/serial:
 * a bit-by-bit CRC-16/CCITT-FALSE straight from its definition (poly 0x1021, init 0xFFFF,
 * no reflection, no final xor) and a line sealer built on it.
 */
export function referenceCrc16(text: string): number {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'latin1')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function referenceLine(body: string): string {
  return `${body}*${referenceCrc16(body).toString(16).toUpperCase().padStart(4, '0')}\r\n`;
}
