/** Reading devices: what a caller may see of one, and which of a user's devices a challenge goes to. */
import type { TxCore } from './core.ts';
import { HostError } from './errors.ts';
import type { DeviceInfo } from './types.ts';
import type { DeviceRow } from './store.ts';
import { checkName, serialCharsMax, userCharsMax } from './validate.ts';

export async function deviceInfo(core: TxCore, serial: string, user?: string): Promise<DeviceInfo> {
  const row = (await core.tx.device(serial))!;
  const users = await core.tx.usersOf(serial);
  const active = user === undefined ? true : ((await core.tx.devicesOf(user)).find((d) => d.row.serial === serial)?.active ?? false);
  return {
    serial, kind: row.kind, profile: row.profile, suite: row.suite, model: row.model, active, locked: row.locked,
    failures: row.failures, checkDigit: row.checkDigit, expiresMs: row.expiresMs, users,
  };
}

/** The user's devices (M2FS: a user may hold several), oldest first. */
export async function devicesOf(core: TxCore, user: string): Promise<DeviceInfo[]> {
  checkName('user', user, userCharsMax);
  if (!(await core.tx.userExists(user))) throw new HostError('unknown user', `unknown user ${JSON.stringify(user)}`, true);
  const out: DeviceInfo[] = [];
  for (const { row } of await core.tx.devicesOf(user)) out.push(await deviceInfo(core, row.serial, user));
  return out;
}

export async function deviceBySerial(core: TxCore, serial: string): Promise<DeviceInfo> {
  checkName('device serial', serial, serialCharsMax);
  if (!(await core.tx.device(serial))) throw new HostError('unknown device', `no device ${serial}`, true);
  return deviceInfo(core, serial);
}

/** Why a device cannot take a challenge now, or null. */
export function unusable(row: DeviceRow, nowMs: number): string | null {
  if (row.locked) return 'locked after too many wrong responses (an administrator must unlock it)';
  if (row.expiresMs !== null && nowMs >= row.expiresMs) return 'expired';
  return null;
}

/**
 * The device a challenge goes to: `serial` when given, else the user's only usable active device. `usable`
 * says why a device cannot serve this purpose, or null.
 */
export async function pickDevice(core: TxCore, user: string, serial: string | undefined, usable: (row: DeviceRow) => string | null): Promise<DeviceRow> {
  const devices = await core.tx.devicesOf(user);
  // A user is someone with an assignment (active or not): no devices at all means no such user.
  if (devices.length === 0) throw new HostError('unknown user', `unknown user ${JSON.stringify(user)}`, true);
  const all = devices.filter((d) => d.active).map((d) => d.row);
  if (serial !== undefined) {
    const row = all.find((d) => d.serial === serial);
    if (!row) throw new HostError('unknown device', `user ${user} has no active device ${serial}`, true);
    const why = usable(row);
    if (why) throw new HostError(why.startsWith('locked') ? 'locked' : 'refused', `device ${serial}: ${why}`);
    return row;
  }
  const candidates = all.filter((d) => usable(d) === null);
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    const reasons = all.map((d) => `${d.serial}: ${usable(d)}`).join('; ');
    throw new HostError(all.some((d) => d.locked) ? 'locked' : 'refused', `user ${user} has no usable device (${reasons || 'none active'})`);
  }
  throw new HostError('choose device', `user ${user} has ${candidates.length} devices (${candidates.map((d) => `${d.serial} ${d.kind}`).join(', ')}): choose one`, true);
}
