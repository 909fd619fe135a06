/** PSKC containers for the transfer routes' tests: keys described as the exporting server would, written by host/pskc. */
import { writePskc } from '../../../host/pskc.ts';
import { pskcKeyOf } from '../../../host/transfer/export.ts';
import type { ExportedKey } from '../../../host/types.ts';

export const transferSuite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1';
export const containerPassword = 'container password 7f3a';

/** A deterministic secret per serial (`bytes` long: 8 is below the 128 bits an import requires). */
export function secretOf(serial: number, bytes = 20): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (serial * 31 + i * 7) & 0xff);
}

/** A key as host/transfer/export.ts describes one, PIN 2580. */
export function keyOf(serial: number, options: { user?: string; bytes?: number } = {}): ExportedKey {
  return {
    serial: String(serial), model: 'DSC+', profile: 'dscplus', kind: 'dscplus', suite: transferSuite, checkDigit: false, counter: 0,
    secret: secretOf(serial, options.bytes), pin: '2580', users: options.user ? [options.user] : [], enrolledMs: Date.UTC(2026, 0, 5), expiresMs: null,
  };
}

const random = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff);

/** A PSKC container of `keys`, under `containerPassword` (PBKDF2 at a test's cost) or in the clear. */
export function container(keys: readonly ExportedKey[], protection: 'password' | 'none' = 'password'): string {
  return writePskc(keys.map((k) => pskcKeyOf(k)), protection === 'password' ? { type: 'password', keyName: 'test', password: containerPassword, iterations: 1_000 } : { type: 'none' }, random);
}
