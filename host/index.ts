/**
 * host/: the login server's side of dscplus, as a library a login server embeds (and `dsc host …` uses).
 *
 * @example
 * import { openHost } from './host/index.ts';
 * const host = openHost({ dbPath: './.dsc/host.sqlite' });
 * host.enroll({ user: 'trader1', record });          // a parsed device file
 * const { challenge } = host.challenge({ user: 'trader1' });
 * host.verify({ user: 'trader1', challenge, response }); // { ok: true, serial, purpose: 'login' }
 * host.close();
 */
import type { DeviceRecord } from '../firmware/device-record.ts';
import { enrollRecord } from './enrol-device.ts';
import { Host, openHost as openBare, type DeviceInfo, type HostOptions } from './host.ts';
import type { DeviceKind } from './store.ts';

export { Host, type DeviceInfo, type EnrolKeyInput, type HostOptions, type Issued, type VerifyReason, type VerifyResult } from './host.ts';
export { challengeTtlMs, attemptsPerChallengeMax, counterLookAhead, timeStepWindow } from './host.ts';
export { codeCardCodes, tempCodeFullMs, tempCodePrintMs, codeCardValidMs, type TempCode, type TempCodeCheck, type CodeCard } from './fallbacks.ts';
export { HostError } from './errors.ts';
export { SealError } from './seal.ts';
export { StoreError, openSqliteStore } from './sqlite-store.ts';
export { memoryStore } from './memory-store.ts';
export { HostKeyError, keyPathFor } from './host-key.ts';
export { withdrawalLimits, businessWindowStartMs } from './limits.ts';
export { defaultLockLimit, lockLimitMax, failureDelayMs } from './throttle.ts';
export type { Store, DeviceKind, AuditEntry } from './store.ts';

/** The contract's Host: the verifier plus enrolment straight from a device record. */
export interface LoginHost extends Host {
  enroll(input: { user: string; record: DeviceRecord | unknown; pin?: string; kind?: DeviceKind }): DeviceInfo;
}

/**
 * Open the verifier on a SQLite file (or ':memory:').
 * @example
 * const host = openHost({ dbPath: ':memory:', now: () => clock.ms });
 */
export function openHost(options: HostOptions): LoginHost {
  const host = openBare(options) as LoginHost;
  host.enroll = (input) => enrollRecord(host, input);
  return host;
}
