/**
 * What `--explore` does to a card, one user action at a time, and how a sequence of them is printed in
 * `dsc press` syntax. The actions are those of a person at the keypad: runs of digits, OK, ◄, a short
 * PRESS, PRESS held, waiting, typing the PIN (or a wrong one) and OK, and typing the unlock code for the
 * lock code shown. On a real clock, holds and waits are kept clear of the card's deadlines (and the
 * 30 s auto power-off is left out) so that the card's timers and the reference's cannot disagree on
 * which came first, and a run stays short.
 */
import fc from 'fast-check';
import { realClockMarginMs } from '../driver.ts';
import type { DisplayFacts } from '../../platform/screen-table.ts';

export type Step =
  | { readonly type: 'digits'; readonly digits: string }
  /** A whole challenge of the card's length, then OK. */
  | { readonly type: 'challenge'; readonly digits: string }
  | { readonly type: 'key'; readonly key: 'OK' | 'BACK' | 'PRESS' }
  | { readonly type: 'hold'; readonly ms: number }
  | { readonly type: 'wait'; readonly ms: number }
  | { readonly type: 'pin' }
  | { readonly type: 'wrongPin' }
  | { readonly type: 'unlock' };

export interface StepSpace {
  /** Virtual clock (TM lines): any time, boundaries included. Real clock: times clear of every deadline. */
  readonly virtual: boolean;
  readonly display: DisplayFacts;
  /** Digits of a whole challenge on this card (the question, plus the Luhn digit when configured). */
  readonly challengeDigits: number;
  readonly pinDigits: number;
  /** The card locks (digipass): the unlock action is worth generating. */
  readonly locks: boolean;
}

/** A short wait: well inside every deadline of the card. */
const shortWaitMs = 100;
/** A hold that is not long enough for a hold action (a short press, held). */
const shortHoldMs = 500;

/** The holds a sequence may use, simplest first (fast-check shrinks towards the first). */
export function holdsOf(space: StepSpace): number[] {
  const power = space.display.powerHoldMs;
  return space.virtual ? [power, shortHoldMs, power - 1] : [power + realClockMarginMs, shortHoldMs];
}

/** The waits a sequence may use, simplest first. */
export function waitsOf(space: StepSpace): number[] {
  const { messageMs, turnMs, idleTimeoutMs } = space.display;
  return space.virtual
    ? [shortWaitMs, messageMs, idleTimeoutMs, turnMs, messageMs - 1, idleTimeoutMs - 1]
    : [shortWaitMs, messageMs + realClockMarginMs, turnMs + realClockMarginMs];
}

/**
 * One random user action on a card described by `space`.
 * @example
 * fc.sample(stepArbitrary(space), 3) // [{ type: 'wrongPin' }, { type: 'key', key: 'OK' }, { type: 'digits', digits: '42' }]
 */
export function stepArbitrary(space: StepSpace): fc.Arbitrary<Step> {
  const digitRun = fc.oneof(
    fc.constant(1),
    fc.constant(space.challengeDigits),
    fc.constant(space.pinDigits),
    fc.integer({ min: 1, max: space.challengeDigits + 2 }),
  ).chain((length) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length }));
  const challenge = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: space.challengeDigits, maxLength: space.challengeDigits });
  // Simplest first: with cross-shrinking an action may shrink into a wrong PIN, the commonest culprit.
  // A card that locks gets more wrong PINs and fewer right ones, so that sequences reach the lock.
  const choices: fc.WeightedArbitrary<Step>[] = [
    { weight: space.locks ? 14 : 8, arbitrary: fc.constant({ type: 'wrongPin' } as const) },
    { weight: 12, arbitrary: fc.constantFrom<'OK' | 'BACK' | 'PRESS'>('OK', 'BACK', 'PRESS').map((key) => ({ type: 'key', key }) as const) },
    { weight: 12, arbitrary: fc.constantFrom(...holdsOf(space)).map((ms) => ({ type: 'hold', ms }) as const) },
    { weight: space.locks ? 6 : 8, arbitrary: fc.constant({ type: 'pin' } as const) },
    { weight: 8, arbitrary: challenge.map((digits) => ({ type: 'challenge', digits }) as const) },
    { weight: 8, arbitrary: digitRun.map((digits) => ({ type: 'digits', digits }) as const) },
    { weight: 6, arbitrary: fc.constantFrom(...waitsOf(space)).map((ms) => ({ type: 'wait', ms }) as const) },
  ];
  return fc.oneof({ withCrossShrink: true }, ...choices);
}

/** Placeholders printed instead of a secret: the card's PIN and the unlock code of the lock code shown. */
export const pinToken = '{PIN}';
export const unlockToken = '{UNLOCK}';

/** One digit of the PIN typed into NEW PIN or PIN CONF (digit `index`, from 0), printed in a placeholder. */
export function pinDigitToken(index: number): string {
  return `{PIN#${index}}`;
}

const pinDigitPattern = /^\{PIN#(\d)\}$/;

/**
 * The keys actually pressed, as `dsc press` tokens: runs of digits joined into one token (`1111`), PIN
 * digits typed one by one joined into `{PIN}` (or `{PIN digits 1-2}` for part of it).
 * @example
 * joinTokens(['PRESS:2000', '1', '1', '1', '1', 'OK']) // ['PRESS:2000', '1111', 'OK']
 */
export function joinTokens(pressed: readonly string[], pinDigits: number): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < pressed.length; i++) {
    const token = pressed[i]!;
    const last = tokens.at(-1);
    const pinDigit = pinDigitPattern.exec(token);
    if (pinDigit !== null) {
      let end = i;
      while (end + 1 < pressed.length && pinDigitPattern.exec(pressed[end + 1]!)?.[1] === String(Number(pinDigitPattern.exec(pressed[end]!)![1]) + 1)) end++;
      const from = Number(pinDigit[1]) + 1;
      const to = Number(pinDigitPattern.exec(pressed[end]!)![1]) + 1;
      tokens.push(from === 1 && to === pinDigits ? pinToken : `{PIN digits ${from}-${to}}`);
      i = end;
    } else if (/^[0-9]$/.test(token) && last !== undefined && /^[0-9]+$/.test(last)) {
      tokens[tokens.length - 1] = last + token;
    } else {
      tokens.push(token);
    }
  }
  return tokens;
}
