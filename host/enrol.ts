/**
 * Enrolment: a card's key (from a device file, a PSKC container, or by hand) sealed under the host key, and
 * assignments of devices to users (a device may be shared; `active: false` withdraws it).
 */
import { cardSuite } from '../firmware/card-suite.ts';
import { enrolmentData, parseDeviceRecord, type DeviceRecord } from '../firmware/device-record.ts';
import type { OcraSuite } from '../firmware/ocra/index.ts';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { equalBytes } from '../firmware/compare.ts';
import { audit, inTransaction, type HostCore, type TxCore } from './core.ts';
import { deviceInfo } from './devices.ts';
import { counterMax } from './match.ts';
import { HostError } from './errors.ts';
import { pinContext, secretContext } from './seal.ts';
import { deviceKinds, type DeviceKind } from './store.ts';
import type { DeviceInfo, EnrolKeyInput } from './types.ts';
import { checkName, checkPin, serialCharsMax, userCharsMax } from './validate.ts';

/**
 * Enrol a key and, with `user`, assign it to that user. A serial already enrolled with the same secret is only
 * assigned (a device shared by several users).
 */
export function enrollKey(core: HostCore, input: EnrolKeyInput): Promise<DeviceInfo> {
  return inTransaction(core, (core) => enrollKeyIn(core, input));
}

/** `enrollKey` inside the caller's transaction. */
async function enrollKeyIn(core: TxCore, input: EnrolKeyInput): Promise<DeviceInfo> {
  const serial = checkName('device serial', input.serial, serialCharsMax);
  const user = input.user === undefined ? undefined : checkName('user', input.user, userCharsMax);
  let suite: OcraSuite;
  try {
    suite = cardSuite(input.suite, input.profile);
  } catch (error) {
    throw new HostError('bad input', (error as Error).message, true);
  }
  if (input.pin !== undefined) checkPin('PIN', input.pin);
  if (suite.pin && input.pin === undefined && input.profile === 'dscplus') {
    throw new HostError('bad input', `suite ${suite.text} mixes the PIN into the response: enrol with the PIN chosen at ordering`, true);
  }
  if (input.counter !== undefined && (!Number.isSafeInteger(input.counter) || input.counter < 0 || input.counter > counterMax)) {
    throw new HostError('bad input', `key ${serial}: the counter expected 0..${counterMax}, got ${input.counter}`, true);
  }
  const kind = input.kind ?? (input.profile === 'dscplus' ? 'dscplus' : 'dsc');
  if (!(deviceKinds as readonly string[]).includes(kind)) throw new HostError('bad input', `the device kind expected one of ${deviceKinds.join(', ')}, got ${JSON.stringify(kind)}`, true);
  const { tx: store, sealer } = core;
  const existing = await store.device(serial);
  if (existing) {
    const stored = sealer.open(secretContext(serial), existing.sealedSecret);
    const same = equalBytes(stored, input.secret);
    stored.fill(0);
    if (!same || existing.suite !== suite.text) {
      throw new HostError('serial taken', `serial ${serial} is already enrolled with a different key or suite`, true);
    }
  } else {
    await store.insertDevice({
      serial, model: input.model ?? 'DSC+', profile: input.profile, kind, suite: suite.text,
      checkDigit: input.checkDigit ?? false,
      sealedSecret: sealer.seal(secretContext(serial), input.secret),
      sealedPin: input.pin === undefined ? null : sealer.seal(pinContext(serial), utf8ToBytes(input.pin)),
      keyVersion: 1, counter: input.counter ?? 0, lastTimeStep: -1, failures: 0, locked: false, notBeforeMs: 0,
      expiresMs: null, enrolledMs: core.now(),
    });
  }
  const already = existing !== undefined && user !== undefined && (await store.usersOf(serial)).includes(user);
  if (user !== undefined) await store.assign(user, serial, true);
  await audit(core, { user: user ?? null, serial, action: 'enroll', outcome: 'ok', reason: !existing ? null : already ? 'enrolled again for the same user' : 'shared with another user' });
  return deviceInfo(core, serial, user);
}

/** Several keys, all or nothing: one bad key leaves the database as it was. */
export function enrollKeys(core: HostCore, inputs: readonly EnrolKeyInput[]): Promise<DeviceInfo[]> {
  return inTransaction(core, async (core) => {
    const out: DeviceInfo[] = [];
    for (const input of inputs) out.push(await enrollKeyIn(core, input));
    return out;
  });
}

/**
 * Enrol a card from its device file (the parsed JSON of what `dsc provision` writes): the firmware's own
 * parser validates it and unseals the secret and the PIN chosen at ordering; the host seals them again.
 */
export async function enrollRecord(core: HostCore, input: { user: string; record: DeviceRecord | unknown; pin?: string; kind?: DeviceKind }): Promise<DeviceInfo> {
  const record = parseDeviceRecord(input.record);
  let data;
  try {
    data = enrolmentData(record);
  } catch (error) {
    // A damaged field (an orderPin that does not open, a key of the wrong length) is bad input, not a crash.
    throw new HostError('bad input', `device file of ${record.serial} does not open: ${(error as Error).message}`, true);
  }
  try {
    const pin = input.pin ?? data.pin;
    return await enrollKey(core, {
      user: input.user, serial: data.serial, model: data.model, profile: data.profile, suite: data.suite, secret: data.secret,
      checkDigit: data.checkDigit, ...(pin !== undefined && { pin }), ...(input.kind && { kind: input.kind }),
    });
  } finally {
    data.secret.fill(0);
  }
}

/** Give an enrolled device to (another) user, or withdraw it (`active: false`). */
export function assign(core: HostCore, input: { user: string; serial: string; active?: boolean }): Promise<DeviceInfo> {
  const user = checkName('user', input.user, userCharsMax);
  const serial = checkName('device serial', input.serial, serialCharsMax);
  return inTransaction(core, async (core) => {
    if (!(await core.tx.device(serial))) throw new HostError('unknown device', `no device ${serial}`, true);
    await core.tx.assign(user, serial, input.active ?? true);
    await audit(core, { user, serial, action: 'assign', outcome: 'ok', reason: input.active === false ? 'deactivated' : null });
    return deviceInfo(core, serial, user);
  });
}
