/** Administrator actions: unlock a device, derive a digipass unlock code, read the audit log, export keys. */
import { unlockCode as deriveUnlockCode } from '../firmware/unlock.ts';
import { lockCodeDigits } from '../firmware/types.ts';
import { audit, inTransaction, type HostCore, type TxCore } from './core.ts';
import { deviceInfo } from './devices.ts';
import { HostError } from './errors.ts';
import { pinContext, secretContext } from './seal.ts';
import type { AuditEntry } from './store.ts';
import type { DeviceInfo, ExportedKey } from './types.ts';
import { accountUnlock } from './lockout.ts';
import { checkName, serialCharsMax, userCharsMax } from './validate.ts';

async function unlockDevice(core: TxCore, serial: string, by: string | undefined): Promise<void> {
  const row = (await core.tx.device(serial))!;
  await core.tx.updateDeviceState(serial, { counter: row.counter, lastTimeStep: row.lastTimeStep, failures: 0, locked: false, notBeforeMs: 0 });
  await audit(core, { user: null, serial, action: 'unlock', outcome: 'ok', reason: `administrator unlock by ${by ?? 'administrator'} (was ${row.failures} failures${row.locked ? ', locked' : ''})` });
}

async function unlockAccount(core: TxCore, user: string, by: string | undefined): Promise<void> {
  const was = await accountUnlock(core, user);
  await audit(core, { user, serial: null, action: 'unlock', outcome: 'ok', reason: `administrator unlock by ${by ?? 'administrator'} (account was ${was.failures} failures${was.locked ? ', locked' : ''})` });
}

/**
 * Administrator unlock, clearing both counts: of a device and the accounts of its users (`serial`), or of an
 * account and all its devices (`user`).
 */
export function unlock(core: HostCore, input: { serial?: string; user?: string; by?: string }): Promise<DeviceInfo[]> {
  const serial = input.serial === undefined ? undefined : checkName('device serial', input.serial, serialCharsMax);
  const user = input.user === undefined ? undefined : checkName('user', input.user, userCharsMax);
  if ((serial === undefined) === (user === undefined)) throw new HostError('bad input', 'unlock expected a device or a user (one of them)', true);
  return inTransaction(core, async (core) => {
    if (serial !== undefined) {
      if (!(await core.tx.device(serial))) throw new HostError('unknown device', `no device ${serial}`, true);
      await unlockDevice(core, serial, input.by);
      for (const owner of await core.tx.usersOf(serial)) await unlockAccount(core, owner, input.by);
      return [await deviceInfo(core, serial)];
    }
    if (!(await core.tx.userExists(user!))) throw new HostError('unknown user', `unknown user ${JSON.stringify(user)}`, true);
    await unlockAccount(core, user!, input.by);
    const serials = (await core.tx.devicesOf(user!)).map((d) => d.row.serial);
    for (const s of serials) await unlockDevice(core, s, input.by);
    const out: DeviceInfo[] = [];
    for (const s of serials) out.push(await deviceInfo(core, s, user));
    return out;
  });
}

/**
 * The code that unlocks a PIN-locked digipass card showing `lockCode`, accepted as the card shows it
 * (`L1406204`: the L, spaces and dashes are ignored).
 */
export function unlockCode(core: HostCore, input: { serial: string; lockCode: string; by?: string }): Promise<string> {
  const serial = checkName('device serial', input.serial, serialCharsMax);
  const lockCode = typeof input.lockCode === 'string' ? input.lockCode.trim().replace(/^L/i, '').replace(/[\s-]/g, '') : '';
  if (!new RegExp(`^\\d{${lockCodeDigits}}$`).test(lockCode)) {
    throw new HostError('bad input', `the lock code expected ${lockCodeDigits} digits as the card shows them (L and the digits), got ${JSON.stringify(String(input.lockCode).slice(0, 20))}`, true);
  }
  return inTransaction(core, async (core) => {
    const row = await core.tx.device(serial);
    if (!row) throw new HostError('unknown device', `no device ${serial}`, true);
    if (row.profile !== 'digipass') throw new HostError('refused', `device ${serial} is a ${row.profile} card: only digipass cards lock their PIN on the card`, true);
    await audit(core, { user: input.by ?? null, serial, action: 'unlock-code', outcome: 'ok', reason: 'unlock code derived' });
    const secret = core.sealer.open(secretContext(serial), row.sealedSecret);
    try {
      return deriveUnlockCode(secret, lockCode);
    } finally {
      secret.fill(0);
    }
  });
}

/** The newest audit entries, optionally for one user or device. */
export function auditLog(core: HostCore, filter: { user?: string; serial?: string; limit?: number } = {}): Promise<AuditEntry[]> {
  return inTransaction(core, (core) => core.tx.auditLog({ ...filter, limit: filter.limit ?? 100 }));
}

/** Secrets of enrolled devices for export (PSKC). The caller wipes each `secret`. */
export function exportKeys(core: HostCore, serials?: readonly string[]): Promise<ExportedKey[]> {
  return inTransaction(core, async (core) => {
    const store = core.tx;
    let list = serials;
    if (!list) {
      const all: string[] = [];
      for (const serial of await store.serials()) if ((await store.device(serial))!.profile !== 'code-card') all.push(serial);
      list = all;
    }
    const keys: ExportedKey[] = [];
    for (const serial of list) {
      const row = await store.device(serial);
      if (!row) throw new HostError('unknown device', `no device ${serial}`, true);
      if (row.profile === 'code-card') throw new HostError('refused', `device ${serial} is a Security Code Card, not an OCRA key`, true);
      await audit(core, { user: null, serial, action: 'export', outcome: 'ok', reason: 'key exported' });
      const users = await store.usersOf(serial);
      const pin = row.sealedPin ? core.sealer.open(pinContext(serial), row.sealedPin) : undefined;
      const pinText = pin ? new TextDecoder().decode(pin) : undefined;
      pin?.fill(0);
      keys.push({
        serial, model: row.model, profile: row.profile, kind: row.kind, suite: row.suite, checkDigit: row.checkDigit, counter: row.counter,
        secret: core.sealer.open(secretContext(serial), row.sealedSecret), ...(pinText !== undefined && { pin: pinText }),
        users, enrolledMs: row.enrolledMs, expiresMs: row.expiresMs,
      });
    }
    return keys;
  });
}
