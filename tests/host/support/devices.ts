/** Device records made with the firmware's own provisioning, and responses from the firmware's OCRA engine. */
import { hexToBytes } from '@noble/hashes/utils.js';
import { enrolmentData, type DeviceRecord } from '../../../firmware/device-record.ts';
import { ocra } from '../../../firmware/ocra/index.ts';
import { provisionRecord } from '../../../firmware/provision.ts';
import type { Profile } from '../../../firmware/types.ts';

export const secret20 = hexToBytes('3132333435363738393031323334353637383930');

let nonceCounter = 1;
function bytes(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

export function makeRecord(options: { serial: number; profile?: Profile; suite?: string; secret?: Uint8Array; pin?: string; checkDigit?: boolean }): DeviceRecord {
  const profile = options.profile ?? 'dscplus';
  nonceCounter = (nonceCounter + 1) % 250;
  return provisionRecord({
    profile,
    ...(options.suite !== undefined && { suite: options.suite }),
    serial: options.serial,
    secret: options.secret ?? secret20,
    ...((options.pin ?? (profile === 'dscplus' ? '1234' : undefined)) !== undefined && { pin: options.pin ?? '1234' }),
    checkDigit: options.checkDigit ?? false,
    deviceKey: bytes(32, 7),
    nonce: bytes(24, nonceCounter),
    pinNonce: bytes(24, nonceCounter + 1),
    clockMs: Date.UTC(2026, 0, 5),
  });
}

/** What the card would answer: the firmware engine over the challenge without its check digit. */
export function cardResponse(record: DeviceRecord, shown: string, pin?: string, extra: { counter?: number; timeStep?: number } = {}): string {
  const data = enrolmentData(record);
  try {
    const challenge = data.checkDigit ? shown.slice(0, -1) : shown;
    const usesPin = /-PSHA/.test(data.suite);
    return ocra(data.suite, data.secret, { challenge, ...(usesPin && { pin: pin ?? data.pin ?? '' }), ...extra });
  } finally {
    data.secret.fill(0);
  }
}
