/**
 * The PIN sub-flows of one step: checking a PIN (a digipass card counts the try before checking and locks
 * after `wrongPinsMax`), unlocking with the code the server derives from the lock code, and choosing a new PIN
 * (refused when weak, typed twice). Called by firmware/machine.ts on OK; pure, like the rest of the firmware.
 */
import { type Draft, firstScreen, message, save, unsealSecret } from './card-state.ts';
import { isWeakPin } from './pin.ts';
import { equalBytes, equalStrings } from './compare.ts';
import { pinCheckValue } from './seal.ts';
import { messageTexts, type Screen } from './screens.ts';
import { unlockCode } from './unlock.ts';
import { entropyBytes, lockCodeDigits, pinDigits, unlockCodeDigits, unlockTriesMax, wrongPinsMax } from './types.ts';

const lockCodeModulus = 10 ** lockCodeDigits;

/** OK at PIN>: a dscplus card takes any four digits; a digipass card checks them against its PIN check value. */
export function submitPin(draft: Draft, digits: string, entropy: Uint8Array | undefined): void {
  if (digits.length < pinDigits) return message(draft, 'tooFew', messageTexts.tooFew, { type: 'pin', digits: '' });
  if (draft.part.profile === 'dscplus') {
    // Soft PIN: any four digits are accepted and hashed into the response; the server tells right from wrong.
    draft.pin = digits;
    draft.screen = { type: 'challenge', digits: '' };
    return;
  }
  // Count the try BEFORE checking, so pulling the battery after a wrong PIN can never undo the count.
  const tries = draft.memory.wrongPins + 1;
  save(draft, { wrongPins: tries }, 'wrong-PIN counter before check');
  const check = pinCheckValue(draft.deviceKey, draft.part.serial, digits);
  const right = equalBytes(check, draft.memory.pinCheck);
  check.fill(0);
  if (right) {
    save(draft, { wrongPins: 0 }, 'PIN accepted');
    draft.pin = digits;
    draft.screen = { type: 'challenge', digits: '' };
  } else if (tries >= wrongPinsMax) {
    const lockCode = drawLockCode(entropy);
    save(draft, { locked: true, lockCode }, 'locked');
    message(draft, 'lockPin', messageTexts.lockPin, firstScreen(draft));
  } else {
    message(draft, 'pinFail', messageTexts.fail(tries), { type: 'pin', digits: '' });
  }
}

function drawLockCode(entropy: Uint8Array | undefined): number {
  if (!(entropy instanceof Uint8Array) || entropy.length < entropyBytes) {
    throw new TypeError(`keyDown that locks the card expected "entropy" of ${entropyBytes} random bytes from the shell`);
  }
  // Modulo bias of 2^32 mod 10^7 is under 0.3%: irrelevant for a code that only has to differ per lock.
  return new DataView(entropy.buffer, entropy.byteOffset, entropyBytes).getUint32(0) % lockCodeModulus;
}

/** OK at the unlock prompt: the right code unlocks and asks for a new PIN; `unlockTriesMax` wrong ones block. */
export function submitUnlock(draft: Draft, digits: string): void {
  if (digits.length < unlockCodeDigits) return message(draft, 'tooFew', messageTexts.tooFew, { type: 'unlock', digits: '' });
  const tries = draft.memory.unlockTries + 1;
  save(draft, { unlockTries: tries }, 'unlock counter before check');
  const secret = unsealSecret(draft);
  let right: boolean;
  try {
    right = equalStrings(unlockCode(secret, String(draft.memory.lockCode).padStart(lockCodeDigits, '0')), digits);
  } finally {
    secret.fill(0);
  }
  if (right) {
    save(draft, { locked: false, lockCode: 0, wrongPins: 0, unlockTries: 0, mustSetPin: true }, 'unlocked');
    draft.screen = { type: 'newPin', digits: '', forced: true };
  } else if (tries >= unlockTriesMax) {
    save(draft, { blocked: true }, 'blocked');
    draft.screen = { type: 'blocked' };
  } else {
    message(draft, 'unlockFail', messageTexts.fail(tries), firstScreen(draft));
  }
}

/** OK at NEW PIN: a weak PIN is refused (`NOT SAFE`); a good one is asked again. */
export function submitNewPin(draft: Draft, screen: Extract<Screen, { type: 'newPin' }>): void {
  const again: Screen = { type: 'newPin', digits: '', forced: screen.forced };
  if (screen.digits.length < pinDigits) return message(draft, 'tooFew', messageTexts.tooFew, again);
  if (isWeakPin(screen.digits)) return message(draft, 'notSafe', messageTexts.notSafe, again);
  draft.screen = { type: 'confirmPin', digits: '', first: screen.digits, forced: screen.forced };
}

/** OK at PIN CONF: the same PIN twice sets it; otherwise back to NEW PIN. */
export function submitConfirmPin(draft: Draft, screen: Extract<Screen, { type: 'confirmPin' }>): void {
  if (screen.digits.length < pinDigits) return message(draft, 'tooFew', messageTexts.tooFew, { ...screen, digits: '' });
  if (!equalStrings(screen.digits, screen.first)) {
    return message(draft, 'pinMismatch', messageTexts.pinMismatch, { type: 'newPin', digits: '', forced: screen.forced });
  }
  const pinCheck = pinCheckValue(draft.deviceKey, draft.part.serial, screen.digits);
  save(draft, { pinCheck, pinSet: true, mustSetPin: false, wrongPins: 0 }, 'new PIN');
  draft.pin = screen.digits;
  message(draft, 'pinSet', messageTexts.pinSet, { type: 'challenge', digits: '' });
}
