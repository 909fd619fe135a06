/**
 * The screens of the card and what each shows. Pure rendering: a screen in, at most
 * `lcdWidthChars` characters out. The table of screens and transitions for people and tests is
 * fixtures/screens.json (docs/screens.md shows it); the ids here are its ids.
 */
import { assertNever } from './assert.ts';
import { lcdWidthChars, lockCodeDigits, pinDigits, turnMs } from './types.ts';

export type MessageId = 'tooFew' | 'badCheck' | 'pinFail' | 'lockPin' | 'unlockFail' | 'notSafe' | 'pinMismatch' | 'pinSet';

export type Screen =
  | { readonly type: 'off' }
  | { readonly type: 'pin'; readonly digits: string }
  | { readonly type: 'challenge'; readonly digits: string }
  | { readonly type: 'response'; readonly response: string; readonly sinceMs: number }
  /** A message that ends after `messageMs` or at the next key, then shows `next`. */
  | { readonly type: 'message'; readonly id: MessageId; readonly text: string; readonly untilMs: number; readonly next: Screen }
  | { readonly type: 'lockCode'; readonly lockCode: string }
  | { readonly type: 'unlock'; readonly digits: string }
  | { readonly type: 'blocked' }
  | { readonly type: 'newPin'; readonly digits: string; readonly forced: boolean }
  | { readonly type: 'confirmPin'; readonly digits: string; readonly first: string; readonly forced: boolean };

export type ScreenId = Exclude<Screen['type'], 'message'> | MessageId;

/**
 * The screen-table id of a screen.
 * @example
 * screenId({ type: 'pin', digits: '12' }) // 'pin'
 */
export function screenId(screen: Screen): ScreenId {
  return screen.type === 'message' ? screen.id : screen.type;
}

/**
 * Where the next key goes: the screen id under a message (any key ends a message and acts on the screen that
 * follows it) and how many digits are typed there.
 * @example
 * keyEntry({ type: 'message', id: 'tooFew', text: 'TOO FEW', untilMs: 0, next: { type: 'newPin', digits: '', forced: false } })
 * // { id: 'newPin', typed: 0 }
 */
export function keyEntry(screen: Screen): { readonly id: ScreenId; readonly typed: number } {
  const under = screen.type === 'message' ? screen.next : screen;
  return { id: screenId(under), typed: 'digits' in under ? under.digits.length : 0 };
}

export const prompts = {
  pin: 'PIN>',
  challenge: 'CHALLNG>',
  unlock: 'UNLOCK>',
  newPin: 'NEW PIN',
  confirmPin: 'PIN CONF',
  blocked: 'BLOCKED',
  lockCodePrefix: 'L',
} as const;

export const messageTexts = {
  tooFew: 'TOO FEW',
  badCheck: 'BAD CHK',
  lockPin: 'LOCK PIN',
  notSafe: 'NOT SAFE',
  pinMismatch: 'FAIL',
  pinSet: 'PIN SET',
  /** `FAIL n`, n the wrong PINs (or wrong unlock codes) in a row. */
  fail: (n: number) => `FAIL ${n}`,
} as const;

/**
 * Split a text longer than the display into turns of `lcdWidthChars`.
 * @example
 * turnsOf('1234567890') // ['12345678', '90']
 */
export function turnsOf(text: string): string[] {
  const turns: string[] = [];
  for (let i = 0; i < text.length; i += lcdWidthChars) turns.push(text.slice(i, i + lcdWidthChars));
  return turns.length > 0 ? turns : [''];
}

const mask = (digits: string) => '-'.repeat(digits.length);

/**
 * What the display shows for `screen` at `nowMs`; never longer than `lcdWidthChars`.
 * @example
 * render({ type: 'pin', digits: '12' }, 0) // 'PIN>--'
 */
export function render(screen: Screen, nowMs: number): string {
  switch (screen.type) {
    case 'off':
      return '';
    case 'pin':
      return prompts.pin + mask(screen.digits).slice(0, pinDigits);
    case 'challenge':
      // Typed digits replace the prompt; a challenge longer than the display shows its last 8 digits.
      return screen.digits === '' ? prompts.challenge : screen.digits.slice(-lcdWidthChars);
    case 'response': {
      const turns = turnsOf(screen.response);
      return turns[Math.floor((nowMs - screen.sinceMs) / turnMs) % turns.length]!;
    }
    case 'message':
      return screen.text.slice(0, lcdWidthChars);
    case 'lockCode':
      return (prompts.lockCodePrefix + screen.lockCode.padStart(lockCodeDigits, '0')).slice(0, lcdWidthChars);
    case 'unlock':
      return screen.digits === '' ? prompts.unlock : screen.digits.slice(-lcdWidthChars);
    case 'blocked':
      return prompts.blocked;
    case 'newPin':
      return screen.digits === '' ? prompts.newPin : mask(screen.digits);
    case 'confirmPin':
      return screen.digits === '' ? prompts.confirmPin : mask(screen.digits);
    default:
      return assertNever(screen, 'screen');
  }
}

/**
 * When a rendered text next changes by itself (the next turn of a long response), or undefined.
 * @example
 * nextTurnMs({ type: 'response', response: '1234567890', sinceMs: 0 }, 500) // 2000
 */
export function nextTurnMs(screen: Screen, nowMs: number): number | undefined {
  if (screen.type !== 'response' || screen.response.length <= lcdWidthChars) return undefined;
  return screen.sinceMs + (Math.floor((nowMs - screen.sinceMs) / turnMs) + 1) * turnMs;
}
