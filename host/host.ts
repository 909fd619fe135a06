/**
 * The login server's verifier, as one object a login server holds: a thin facade over the jobs in their own
 * files (enrol.ts, issue.ts, match.ts, verify.ts, withdrawal.ts, pin-change.ts, fallbacks.ts, admin.ts). Every
 * decision runs in one store transaction and is written to the audit table (never with a response, PIN or
 * secret). Every method is asynchronous (the store may be a network database): await each.
 * Open one with `openHost` or `openHostFile` (host/open.ts).
 */
import type { DeviceRecord } from '../firmware/device-record.ts';
import { auditLog, exportKeys, unlock, unlockCode } from './admin.ts';
import { inTransaction, type HostCore } from './core.ts';
import { deviceBySerial, devicesOf } from './devices.ts';
import { assign, enrollKey, enrollKeys, enrollRecord } from './enrol.ts';
import { checkTempCode, issueCodeCard, issueTempCode, type CodeCard, type TempCode, type TempCodeCheck } from './fallbacks.ts';
import { loginChallenge } from './issue.ts';
import { requestPinChange } from './pin-change.ts';
import type { AuditEntry, DeviceKind } from './store.ts';
import { hasPassword, passwordLogin, setPassword, type PasswordLogin } from './login.ts';
import type { DeviceInfo, EnrolKeyInput, ExportedKey, Issued, VerifyInput, VerifyResult } from './types.ts';
import { verify } from './verify.ts';
import { authorizeWithdrawal } from './withdrawal.ts';

export class Host {
  readonly #core: HostCore;

  constructor(core: HostCore) {
    this.#core = core;
  }

  get lockLimit(): number {
    return this.#core.lockLimit;
  }

  get challengeTtlMs(): number {
    return this.#core.challengeTtlMs;
  }

  /**
   * Enrol a card's key (from a PSKC container, or by hand) and, with `user`, assign it to that user.
   * A serial already enrolled with the same secret is only assigned (a device shared by several users).
   */
  async enrollKey(input: EnrolKeyInput): Promise<DeviceInfo> {
    return enrollKey(this.#core, input);
  }

  /** Several keys, all or nothing. */
  async enrollKeys(inputs: readonly EnrolKeyInput[]): Promise<DeviceInfo[]> {
    return enrollKeys(this.#core, inputs);
  }

  /**
   * Enrol a card from its device file (the parsed JSON of what `dsc provision` writes) for `user`.
   * @example
   * await host.enroll({ user: 'trader1', record: JSON.parse(readFileSync('card.json', 'utf8')) });
   */
  async enroll(input: { user: string; record: DeviceRecord | unknown; pin?: string; kind?: DeviceKind }): Promise<DeviceInfo> {
    return enrollRecord(this.#core, input);
  }

  /** Give an enrolled device to (another) user, or withdraw it (`active: false`). */
  async assign(input: { user: string; serial: string; active?: boolean }): Promise<DeviceInfo> {
    return assign(this.#core, input);
  }

  /** The user's devices (M2FS: a user may hold several), oldest first. */
  async devices(user: string): Promise<DeviceInfo[]> {
    return inTransaction(this.#core, (core) => devicesOf(core, user));
  }

  async device(serial: string): Promise<DeviceInfo> {
    return inTransaction(this.#core, (core) => deviceBySerial(core, serial));
  }

  /** Set or replace a user's password (the first factor). */
  async setPassword(input: { user: string; password: string; by?: string }): Promise<void> {
    return setPassword(this.#core, input);
  }

  /** Whether the user has a password (the first factor) yet. */
  async hasPassword(user: string): Promise<boolean> {
    return hasPassword(this.#core, user);
  }

  /** The user-facing login: the password first, then a login challenge for one of the user's devices. */
  async login(input: { user: string; password: string; serial?: string }): Promise<PasswordLogin> {
    return passwordLogin(this.#core, input);
  }

  /**
   * A login challenge without the first factor, for administrators and scripts (rate-limited like any
   * issue). `serial` picks the device when the user has several.
   */
  async challenge(input: { user: string; serial?: string }): Promise<Issued> {
    return loginChallenge(this.#core, input);
  }

  /**
   * Check a response to a challenge this host issued, for the purpose the caller is about to allow. Atomic:
   * the challenge is consumed and the counters updated in one transaction (one winner of a race). A login
   * returns a session, which PIN changes and withdrawals require.
   */
  async verify(input: VerifyInput): Promise<VerifyResult> {
    return verify(this.#core, input);
  }

  /** Administrator unlock of a device (and its users' accounts) or of an account (and its devices). */
  async unlock(input: { serial?: string; user?: string; by?: string }): Promise<DeviceInfo[]> {
    return unlock(this.#core, input);
  }

  /** Start a server-side PIN change (needs a live session): the answer made with the NEW PIN commits it. */
  async requestPinChange(input: { user: string; session: string; serial?: string; newPin: string; confirmPin: string }): Promise<Issued> {
    return requestPinChange(this.#core, input);
  }

  /** The code that unlocks a PIN-locked digipass card showing `lockCode`. */
  async unlockCode(input: { serial: string; lockCode: string; by?: string }): Promise<string> {
    return unlockCode(this.#core, input);
  }

  /** A challenge for a withdrawal from a device whose limits cover it; `verify` records the withdrawal. */
  async authorizeWithdrawal(input: { user: string; session: string; amountUsd: number; serial?: string }): Promise<Issued & { amountUsd: number }> {
    return authorizeWithdrawal(this.#core, input);
  }

  /** Support issues a temporary code (host/fallbacks.ts): 2 days full access, then 10 days to print a card. */
  async issueTempCode(input: { user: string; by?: string }): Promise<TempCode> {
    return issueTempCode(this.#core, input);
  }

  /** What a temporary code allows now: `full` access, only `print-card`, or nothing. */
  async checkTempCode(input: { user: string; code: string }): Promise<TempCodeCheck> {
    return checkTempCode(this.#core, input);
  }

  /** An online Security Code Card (224 codes, 21 days), with a valid temporary code. */
  async issueCodeCard(input: { user: string; tempCode: string }): Promise<CodeCard> {
    return issueCodeCard(this.#core, input);
  }

  /** The newest audit entries, optionally for one user or device. */
  async auditLog(filter: { user?: string; serial?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    return auditLog(this.#core, filter);
  }

  /** Secrets of enrolled devices for export (PSKC). The caller wipes each `secret`. */
  async exportKeys(serials?: readonly string[]): Promise<ExportedKey[]> {
    return exportKeys(this.#core, serials);
  }

  /** Let the transactions already asked for finish, then release the store and wipe the keys. */
  async close(): Promise<void> {
    await this.#core.store.close();
    this.#core.materials.clear();
    this.#core.macKey.fill(0);
  }
}
