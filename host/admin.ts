/** Administrator actions: unlock a device, derive a digipass unlock code, read the audit log, export keys. */
import { unlockCode as deriveUnlockCode } from '../firmware/unlock.ts';
import { lockCodeDigits } from '../firmware/types.ts';
import type { HostCore } from './core.ts';
import { deviceInfo } from './devices.ts';
import { HostError } from './errors.ts';
import { secretContext } from './seal.ts';
import type { AuditEntry } from './store.ts';
import type { DeviceInfo, ExportedKey } from './types.ts';
import { checkName, serialCharsMax } from './validate.ts';

/** Administrator unlock: clears the failure count and the lock. */
export function unlock(core: HostCore, input: { serial: string; by?: string }): DeviceInfo {
  const serial = checkName('serial', input.serial, serialCharsMax);
  return core.store.transaction(() => {
    const row = core.store.device(serial);
    if (!row) throw new HostError('unknown device', `no device ${serial}`, true);
    core.store.updateDeviceState(serial, { counter: row.counter, lastTimeStep: row.lastTimeStep, failures: 0, locked: false, notBeforeMs: 0 });
    core.audit({ user: input.by ?? null, serial, action: 'unlock', outcome: 'ok', reason: `administrator unlock (was ${row.failures} failures${row.locked ? ', locked' : ''})` });
    return deviceInfo(core, serial);
  });
}

/** The code that unlocks a PIN-locked digipass card showing `lockCode`. */
export function unlockCode(core: HostCore, input: { serial: string; lockCode: string; by?: string }): string {
  const serial = checkName('serial', input.serial, serialCharsMax);
  if (typeof input.lockCode !== 'string' || !new RegExp(`^\\d{${lockCodeDigits}}$`).test(input.lockCode)) {
    throw new HostError('bad input', `"lockCode" expected ${lockCodeDigits} digits, got ${JSON.stringify(String(input.lockCode).slice(0, 20))}`, true);
  }
  return core.store.transaction(() => {
    const row = core.store.device(serial);
    if (!row) throw new HostError('unknown device', `no device ${serial}`, true);
    if (row.profile !== 'digipass') throw new HostError('refused', `device ${serial} is a ${row.profile} card: only digipass cards lock their PIN on the card`, true);
    const secret = core.sealer.open(secretContext(serial), row.sealedSecret);
    try {
      core.audit({ user: input.by ?? null, serial, action: 'unlock-code', outcome: 'ok', reason: 'unlock code derived' });
      return deriveUnlockCode(secret, input.lockCode);
    } finally {
      secret.fill(0);
    }
  });
}

/** The newest audit entries, optionally for one user or device. */
export function auditLog(core: HostCore, filter: { user?: string; serial?: string; limit?: number } = {}): AuditEntry[] {
  return core.store.auditLog({ ...filter, limit: filter.limit ?? 100 });
}

/** Secrets of enrolled devices for export (PSKC). The caller wipes each `secret`. */
export function exportKeys(core: HostCore, serials?: readonly string[]): ExportedKey[] {
  const { store } = core;
  return store.transaction(() => {
    const list = serials ?? store.serials().filter((serial) => store.device(serial)!.profile !== 'code-card');
    return list.map((serial) => {
      const row = store.device(serial);
      if (!row) throw new HostError('unknown device', `no device ${serial}`, true);
      if (row.profile === 'code-card') throw new HostError('refused', `device ${serial} is a Security Code Card, not an OCRA key`, true);
      core.audit({ user: null, serial, action: 'export', outcome: 'ok', reason: 'key exported' });
      return { serial, model: row.model, profile: row.profile, suite: row.suite, checkDigit: row.checkDigit, counter: row.counter, secret: core.sealer.open(secretContext(serial), row.sealedSecret) };
    });
  });
}
