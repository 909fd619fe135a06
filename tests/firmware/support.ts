/** Test cards for the firmware tests: fixed secret and PINs, deterministic randomness, no files. */
import { hexToBytes } from '@noble/hashes/utils.js';
import { newDeviceRecord, openCardFromRecord, type CardSession } from '../../emulator/card.ts';
import { parseKeyScript, runKeyScript } from '../../emulator/key-script.ts';
import type { DeviceRecord } from '../../firmware/device-record.ts';
import { unlockCode } from '../../firmware/unlock.ts';
import type { Profile } from '../../firmware/types.ts';

/** RFC 6287 Appendix C's 20-byte key ("12345678901234567890"). */
export const secretHex = '3132333435363738393031323334353637383930';
export const secret = (): Uint8Array => hexToBytes(secretHex);
/** The digipass test PIN: not weak (no run, not all equal). */
export const testPin = '2580';
export const startMs = Date.UTC(2026, 0, 1);
/** A counter suite for the dscplus profile (RFC 6287 §6: C steps on every response). */
export const counterSuite = 'OCRA-1:HOTP-SHA1-8:C-QN06-PSHA1';

export type TestDevice = 'default' | 'check-digit' | 'no-pin' | '10-digit' | 'counter';

/** A counter-based byte source: deterministic, yet every call differs. */
export function countingRandom(seed = 1): (n: number) => Uint8Array {
  let next = seed;
  return (n) => Uint8Array.from({ length: n }, () => (next = (next * 1103515245 + 12345) >>> 0) >>> 24);
}

export function testRecord(profile: Profile, device: TestDevice = 'default', random = countingRandom()): DeviceRecord {
  return newDeviceRecord({
    profile,
    serial: 12345678,
    secret: secret(),
    ...(device !== 'no-pin' && { pin: testPin }),
    ...(device === '10-digit' && { suite: 'OCRA-1:HOTP-SHA1-10:QN06-PSHA1' }),
    ...(device === 'counter' && { suite: profile === 'dscplus' ? counterSuite : 'OCRA-1:HOTP-SHA256-8:C-QN08' }),
    checkDigit: device === 'check-digit',
    clockMs: startMs,
    random,
  });
}

export interface TestCard {
  readonly card: CardSession;
  readonly record: () => DeviceRecord;
  /** The last lock code the display showed. */
  readonly lockCode: () => string | undefined;
  /** Run a key script; `{unlock}` is replaced by the unlock code of the lock code shown. */
  run(script: string): void;
  readonly texts: string[];
}

export function openTestCard(profile: Profile, device: TestDevice = 'default'): TestCard {
  let saved = testRecord(profile, device);
  const card = openCardFromRecord(saved, { clock: 'virtual', random: countingRandom(99), save: (r) => (saved = r) });
  let lockCode: string | undefined;
  const texts: string[] = [];
  card.onFrame((frame) => {
    texts.push(frame.text);
    const match = /^L([0-9]{7})$/.exec(frame.text);
    if (match) lockCode = match[1];
  });
  return {
    card,
    record: () => saved,
    lockCode: () => lockCode,
    texts,
    run(script) {
      const tokens = script.split(' ').filter((t) => t !== '');
      for (const token of tokens) {
        const resolved = token === '{unlock}' ? unlockCode(secret(), lockCode ?? '') : token;
        runKeyScript(card, parseKeyScript([resolved]));
      }
    },
  };
}
