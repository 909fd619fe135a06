/**
 * The card's state and the writes every part of one step shares (committing the persistent state, showing a
 * message, powering off, choosing the first screen, unsealing the secret). The transition that uses them is
 * firmware/machine.ts; the PIN sub-flows are firmware/pin-flow.ts. Pure, like the rest of the firmware.
 */
import { commit, sealAad, type Persistent, type StaticPart } from './memory.ts';
import type { OcraSuite } from './ocra/index.ts';
import { unseal } from './seal.ts';
import type { MessageId, Screen } from './screens.ts';
import { batteryCapacityOps, lockCodeDigits, messageMs, type CardEffect, type Frame, type PersistReason } from './types.ts';

export interface CardState {
  /** Handed in by the shell at boot; never written to the image. */
  readonly deviceKey: Uint8Array;
  readonly image: Uint8Array;
  readonly part: StaticPart;
  readonly suite: OcraSuite;
  readonly memory: Persistent;
  readonly slot: 0 | 1;
  readonly screen: Screen;
  /**
   * The PIN accepted this session, kept in RAM until power-off because the soft-PIN suite hashes it into
   * every response. (A JS string cannot be wiped; it is dropped at power-off and never logged.)
   */
  readonly pin: string | undefined;
  /** PRESS is held down since `sinceMs`; `done` once its hold action fired. */
  readonly hold: { readonly sinceMs: number; readonly done: boolean } | undefined;
  readonly lastInputMs: number;
  readonly nowMs: number;
  readonly frame: Frame;
}

export interface StepResult {
  readonly state: CardState;
  readonly effects: readonly CardEffect[];
}

/** The screen of a card that is off. */
export const offScreen: Screen = { type: 'off' };

/**
 * @example
 * batteryRemainingOps(state) // 10000 on a new battery
 */
export function batteryRemainingOps(state: CardState): number {
  return Math.max(0, batteryCapacityOps - state.memory.batteryUsedOps);
}

/** A working copy inside one step; `step` never mutates its input. */
export type Draft = { -readonly [K in keyof CardState]: CardState[K] } & { effects: CardEffect[] };

/** The screen after power-on, and after leaving the lock or unlock screens. */
export function firstScreen(draft: Draft): Screen {
  const m = draft.memory;
  if (draft.part.profile === 'dscplus') return { type: 'pin', digits: '' };
  if (m.blocked) return { type: 'blocked' };
  if (m.locked) return { type: 'lockCode', lockCode: String(m.lockCode).padStart(lockCodeDigits, '0') };
  if (m.mustSetPin) return { type: 'newPin', digits: '', forced: true };
  return { type: 'pin', digits: '' };
}

export function powerOff(draft: Draft): void {
  draft.screen = offScreen;
  draft.pin = undefined;
}

/** Commit a change to the persistent state: the shell writes the image before anything after it happens. */
export function save(draft: Draft, change: Partial<Omit<Persistent, 'seq'>>, reason: PersistReason): void {
  const { seq, ...current } = draft.memory;
  const committed = commit(draft.image, draft.slot, seq, { ...current, ...change });
  draft.image = committed.image;
  draft.slot = committed.slot;
  draft.memory = committed.state;
  draft.effects.push({ type: 'persist', image: committed.image, reason });
}

export function message(draft: Draft, id: MessageId, text: string, next: Screen): void {
  draft.screen = { type: 'message', id, text, untilMs: draft.nowMs + messageMs, next };
}

/** The OCRA secret, unsealed for one use: the caller wipes it. */
export function unsealSecret(draft: Draft): Uint8Array {
  return unseal(draft.deviceKey, draft.part.nonce, sealAad(draft.image), draft.part.sealed);
}
