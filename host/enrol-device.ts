/**
 * Enrolment from a device file (what `dsc provision` writes): the firmware's own parser validates it and
 * unseals the secret and the PIN chosen at ordering; the host seals them again under its own key.
 */
import { enrolmentData, parseDeviceRecord, type DeviceRecord } from '../firmware/device-record.ts';
import type { DeviceInfo, EnrolKeyInput, Host } from './host.ts';
import type { DeviceKind } from './store.ts';

/**
 * @example
 * enrollRecord(host, { user: 'trader1', record: parseDeviceRecord(JSON.parse(text)) });
 */
export function enrollRecord(host: Host, input: { user: string; record: DeviceRecord | unknown; pin?: string; kind?: DeviceKind }): DeviceInfo {
  const record = parseDeviceRecord(input.record);
  const data = enrolmentData(record);
  try {
    const pin = input.pin ?? data.pin;
    const key: EnrolKeyInput = {
      user: input.user, serial: data.serial, model: data.model, profile: data.profile, suite: data.suite, secret: data.secret,
      checkDigit: data.checkDigit, ...(pin !== undefined && { pin }), ...(input.kind && { kind: input.kind }),
    };
    return host.enrollKey(key);
  } finally {
    data.secret.fill(0);
  }
}
