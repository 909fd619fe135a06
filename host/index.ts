/**
 * host/: the login server's side of dscplus, as a library a login server embeds (and `dsc host …` uses).
 *
 * @example
 * import { openHost } from './host/index.ts';
 * const host = await openHost({ dbPath: './.dsc/host.sqlite' });
 * await host.enroll({ user: 'trader1', record });          // a parsed device file
 * const { challenge } = await host.challenge({ user: 'trader1' });
 * await host.verify({ user: 'trader1', challenge, response, purpose: 'login' }); // { ok: true, serial, purpose: 'login', session }
 * await host.close();
 */
import type { Host } from './host.ts';

export { Host } from './host.ts';
export { openHost, openHostFile, type HostOptions, type HostFileOptions, type HostFile } from './open.ts';
export type { DeviceInfo, EnrolKeyInput, ExportedKey, Issued, VerifyInput, VerifyReason, VerifyResult } from './types.ts';
export type { PasswordLogin } from './login.ts';
export { passwordCostDefault, passwordCharsMin, passwordCharsMax, passwordChecksMax, type ScryptCost } from './password.ts';
export { issueLimitsDefault, type IssueLimits } from './rate-limit.ts';
export { sessionTtlMs, sessionsPerUserMax, type Session } from './session.ts';
export { challengePurposes, type ChallengePurpose } from './store.ts';
export { counterMax } from './match.ts';
export { issuedBitsMax } from './issued-bits.ts';
export { challengeTtlMs, challengeTtlMaxMs, challengeDrawsMax, challengeRowKeepMs } from './issue.ts';
export { attemptsPerChallengeMax } from './verify.ts';
export { auditKeepMsDefault, auditKeepMsMin, auditKeepMsMax } from './core.ts';
export { counterLookAhead, timeStepWindow } from './match.ts';
export { amountUsdMax } from './withdrawal.ts';
export { randomPoolBytes } from './random.ts';
export { codeCardCodes, tempCodeFullMs, tempCodePrintMs, codeCardValidMs, type TempCode, type TempCodeCheck, type CodeCard } from './fallbacks.ts';
export { HostError } from './errors.ts';
export { SealError } from './seal.ts';
export { StoreError, openSqliteStore } from './sqlite-store.ts';
export { memoryStore } from './memory-store.ts';
export { HostKeyError, keyPathFor } from './host-key.ts';
export { withdrawalLimits, businessWindowStartMs, dayMs } from './limits.ts';
export { defaultLockLimit, lockLimitMax, failureDelayMs } from './throttle.ts';
export { deviceKinds } from './store.ts';
export type { Store, StoreTx, StoreStats, DeviceKind, AuditEntry } from './store.ts';
export { StoreRefusal } from './store.ts';
export { batchCallsMax, queueCallsMax } from './transaction-queue.ts';

/** The contract's name for the verifier the emulator's login page and `dsc host` use. */
export type LoginHost = Host;
