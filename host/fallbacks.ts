/**
 * Fallbacks when the card is not at hand (IBKR KB70, KB69, KB1873):
 * - a temporary code issued by support after identity checks: full access for 2 days, then only printing an
 *   online Security Code Card for 10 more days; never two in a row (a device login must come in between);
 * - the online Security Code Card: 224 three-digit codes, valid 21 days, enrolled as a device of kind
 *   `security-code-card` (its withdrawal limits apply); the login asks for two of its indexes.
 * The temporary code is never stored: only its HMAC under a key derived from the host key.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { randomBelow } from './challenge.ts';
import { audit, inTransaction, type HostCore } from './core.ts';
import { accountFailure, accountGate, accountSuccess } from './lockout.ts';
import { equalBytes } from '../firmware/compare.ts';
import { HostError } from './errors.ts';
import { secretContext } from './seal.ts';
import { checkName, serialCharsMax, userCharsMax } from './validate.ts';

import { codeCardCodeChars, codeCardCodes, codeCardValidMs } from './code-card.ts';

export { codeCardCodeChars, codeCardCodes, codeCardValidMs };
/** Temporary code: full access for 2 days, then only printing an online card for 10 more days. */
export const tempCodeFullMs = 2 * 86_400_000;
export const tempCodePrintMs = 10 * 86_400_000;
export const tempCodeChars = 10;
const tempCodeAlphabet = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'; // no 0/O, 1/I: read over the phone



export interface TempCode {
  readonly code: string;
  readonly fullUntilMs: number;
  readonly printUntilMs: number;
}

export type TempCodeCheck =
  | { ok: true; access: 'full' | 'print-card' }
  | { ok: false; reason: 'unknown user' | 'no temporary code' | 'wrong code' | 'expired' | 'locked' | 'throttled'; retryAfterMs?: number; locked?: boolean };

export interface CodeCard {
  readonly serial: string;
  readonly codes: string[];
  readonly expiresMs: number;
}

function tempMac(core: HostCore, user: string, code: string): Uint8Array {
  return hmac(sha256, core.macKey, utf8ToBytes(`${user}\u0000${code}`));
}

/**
 * Support issues a temporary code after identity checks (IBKR KB70/KB69): full access for 2 days, then only
 * printing an online Security Code Card for 10 more days. Never two in a row: a second one needs a login with
 * a device in between.
 */
export function issueTempCode(core: HostCore, input: { user: string; by?: string }): Promise<TempCode> {
  const user = checkName('user', input.user, userCharsMax);
  return inTransaction(core, async (core) => {
    if (!(await core.tx.userExists(user))) throw new HostError('unknown user', `unknown user ${JSON.stringify(user)}`, true);
    const previous = await core.tx.tempCode(user);
    if (previous?.blocksNext) {
      await audit(core, { user, serial: null, action: 'temp-code', outcome: 'refused', reason: 'two temporary codes in a row' });
      throw new HostError('refused', `user ${user} already had a temporary code and has not logged in with a device since: never two in a row`);
    }
    let code = '';
    while (code.length < tempCodeChars) code += tempCodeAlphabet[randomBelow(core.random, tempCodeAlphabet.length)];
    const issuedMs = core.now();
    const fullUntilMs = issuedMs + tempCodeFullMs;
    const printUntilMs = fullUntilMs + tempCodePrintMs;
    await core.tx.putTempCode({ user, codeMac: tempMac(core, user, code), issuedMs, fullUntilMs, printUntilMs, blocksNext: true });
    await audit(core, { user, serial: null, action: 'temp-code', outcome: 'ok', reason: `issued by ${input.by ?? 'support'}` });
    return { code, fullUntilMs, printUntilMs };
  });
}

/** What a temporary code allows now: `full` access, only `print-card`, or nothing. */
export function checkTempCode(core: HostCore, input: { user: string; code: string }): Promise<TempCodeCheck> {
  const user = checkName('user', input.user, userCharsMax);
  return inTransaction(core, async (core): Promise<TempCodeCheck> => {
    if (!(await core.tx.userExists(user))) return { ok: false, reason: 'unknown user' } as const;
    const row = await core.tx.tempCode(user);
    const nowMs = core.now();
    // Guesses count toward the account's lockout, with its delays, like every other factor.
    const gate = await accountGate(core, user, nowMs);
    if (!gate.ok) {
      await audit(core, { user, serial: null, action: 'temp-code-login', outcome: 'refused', reason: gate.reason });
      return gate.reason === 'locked' ? { ok: false, reason: 'locked', locked: true } : { ok: false, reason: 'throttled', retryAfterMs: gate.retryAfterMs };
    }
    if (!row) return { ok: false, reason: 'no temporary code' } as const;
    const mac = tempMac(core, user, String(input.code).trim().toUpperCase());
    const result = !equalBytes(mac, row.codeMac) ? ({ ok: false, reason: 'wrong code' } as const)
      : nowMs < row.fullUntilMs ? ({ ok: true, access: 'full' } as const)
      : nowMs < row.printUntilMs ? ({ ok: true, access: 'print-card' } as const)
      : ({ ok: false, reason: 'expired' } as const);
    await audit(core, { user, serial: null, action: 'temp-code-login', outcome: result.ok ? 'ok' : 'refused', reason: result.ok ? `access ${result.access}` : result.reason });
    if (result.ok) {
      await accountSuccess(core, user);
      return result;
    }
    if (result.reason === 'wrong code') return { ...result, locked: (await accountFailure(core, user, nowMs, 'wrong temporary code')).locked };
    return result;
  });
}

/**
 * The online Security Code Card (IBKR KB1873): 224 three-digit codes, valid 21 days, enrolled as a device of
 * kind `security-code-card`. Needs a valid temporary code (either phase). The codes are returned once, to print.
 */
export async function issueCodeCard(core: HostCore, input: { user: string; tempCode: string }): Promise<CodeCard> {
  const user = checkName('user', input.user, userCharsMax);
  // Its own transaction first: a refused code's failure is counted (committed) even though this call throws.
  const check = await checkTempCode(core, { user, code: input.tempCode });
  if (!check.ok) throw new HostError(check.reason, `no online card: temporary code refused (${check.reason})`, check.reason === 'unknown user');
  return inTransaction(core, async (core) => {
    const codes = Array.from({ length: codeCardCodes }, () => String(randomBelow(core.random, 1000)).padStart(codeCardCodeChars, '0'));
    const secret = utf8ToBytes(codes.join(''));
    const nowMs = core.now();
    const serial = `SCC-${user}-${nowMs}`.slice(0, serialCharsMax);
    const expiresMs = nowMs + codeCardValidMs;
    await core.tx.insertDevice({
      serial, model: 'Security Code Card (online)', profile: 'code-card', kind: 'security-code-card', suite: 'SCC', checkDigit: false,
      sealedSecret: core.sealer.seal(secretContext(serial), secret), sealedPin: null, keyVersion: 1, counter: 0, lastTimeStep: -1,
      failures: 0, locked: false, notBeforeMs: 0, expiresMs, enrolledMs: nowMs,
    });
    secret.fill(0);
    await core.tx.assign(user, serial, true);
    await audit(core, { user, serial, action: 'code-card', outcome: 'ok', reason: 'online Security Code Card issued' });
    return { serial, codes, expiresMs };
  });
}

