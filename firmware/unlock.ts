/**
 * The digipass unlock code: a locked card shows a random lock code; the server, which knows the card's
 * secret, derives the unlock code from it; typing it on the card proves the user spoke to the server.
 * Host and firmware both call this one function, so they cannot disagree.
 *
 * unlockCode = HOTP truncation (RFC 4226 §5.3) to 8 digits of HMAC-SHA256(secret, "dscplus-unlock:" ‖ lockCode).
 * The label keeps this MAC apart from every OCRA DataInput (which begins with "OCRA-1:"), so an unlock
 * code never equals a login response under the same secret by construction.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { assertBytes, assertString, describe } from './assert.ts';
import { truncate } from './ocra/index.ts';
import { lockCodeDigits, unlockCodeDigits } from './types.ts';

const unlockLabel = 'dscplus-unlock:';

/**
 * The unlock code for `lockCode` under the card's secret.
 * @example
 * unlockCode(secret, '4811270') // 8 digits, e.g. '03917262'
 */
export function unlockCode(secret: Uint8Array, lockCode: string): string {
  assertBytes('secret', secret);
  if (secret.length === 0) throw new RangeError('"secret" expected at least 1 byte, got 0');
  const code = assertString('lockCode', lockCode);
  if (!new RegExp(`^[0-9]{${lockCodeDigits}}$`).test(code)) {
    throw new RangeError(`"lockCode" expected ${lockCodeDigits} digits, got ${describe(code)}`);
  }
  const mac = hmac(sha256, secret, utf8ToBytes(unlockLabel + code));
  try {
    return truncate(mac, unlockCodeDigits);
  } finally {
    mac.fill(0);
  }
}
