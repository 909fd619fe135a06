/**
 * The card's firmware: one pure transition, `step(state, event) → { state, effects }`.
 *
 * Nothing here reads a clock, draws randomness or touches a file: time arrives in events (`atMs`), the
 * lock code's randomness arrives in the keyDown that locks, the memory image and the device key are
 * handed in at boot, and every write comes out as a `persist` effect for the shell to carry out in order.
 * Screens and transitions are listed in fixtures/screens.json and docs/screens.md.
 */
import { assertNever, assertBytes } from './assert.ts';
import { cardSuite } from './card-suite.ts';
import { isWeakPin } from './pin.ts';
import { luhnValid } from './luhn.ts';
import { commit, decodeImage, sealAad, type Persistent, type StaticPart } from './memory.ts';
import { ocra, timeStepAt, type OcraInputs, type OcraSuite } from './ocra/index.ts';
import { deviceKeyBytes, equalBytesConstantTime, equalDigitsConstantTime, pinCheckValue, unseal } from './seal.ts';
import { messageTexts, nextTurnMs, render, screenId, type MessageId, type Screen, type ScreenId } from './screens.ts';
import { unlockCode } from './unlock.ts';
import {
  batteryCapacityOps,
  batteryLowOps,
  cardModel,
  entropyBytes,
  firmwareVersion,
  idleTimeoutMs,
  lcdWidthChars,
  lockCodeDigits,
  messageMs,
  pinDigits,
  powerHoldMs,
  unlockCodeDigits,
  unlockTriesMax,
  wrongPinsMax,
  type CardEffect,
  type CardEvent,
  type CardInfo,
  type Frame,
  type Indicators,
  type Key,
  type PersistReason,
} from './types.ts';

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

const lockCodeModulus = 10 ** lockCodeDigits;
const off: Screen = { type: 'off' };

/**
 * Boot the firmware on a memory image with the device key, powered off, at `atMs`.
 * Throws MemoryImageError when the image is unusable.
 * @example
 * let card = bootCard(image, deviceKey, 0);
 * ({ state: card } = step(card, { type: 'keyDown', key: 'PRESS', atMs: 0 }));
 */
export function bootCard(image: Uint8Array, deviceKey: Uint8Array, atMs: number, frameNumber = 0): CardState {
  const decoded = decodeImage(image);
  assertBytes('deviceKey', deviceKey, deviceKeyBytes);
  return {
    deviceKey,
    image: image.slice(),
    part: decoded.part,
    suite: cardSuite(decoded.part.suite, decoded.part.profile),
    memory: decoded.state,
    slot: decoded.slot,
    screen: off,
    pin: undefined,
    hold: undefined,
    lastInputMs: atMs,
    nowMs: atMs,
    frame: { number: frameNumber, text: '', indicators: { lowBattery: false, locked: false }, atMs },
  };
}

/**
 * What a shell may show about the card.
 * @example
 * cardInfo(state).profile // 'dscplus'
 */
export function cardInfo(state: CardState): CardInfo {
  return {
    serial: String(state.part.serial),
    model: cardModel,
    profile: state.part.profile,
    suite: state.part.suite,
    firmwareVersion,
    checkDigit: state.part.checkDigit,
  };
}

/**
 * @example
 * batteryRemainingOps(state) // 10000 on a new battery
 */
export function batteryRemainingOps(state: CardState): number {
  return Math.max(0, batteryCapacityOps - state.memory.batteryUsedOps);
}

/**
 * The screen-table id of the current screen (fixtures/screens.json).
 * @example
 * screenIdOf(state) // 'pin' after power-on
 */
export function screenIdOf(state: CardState): ScreenId {
  return screenId(state.screen);
}

/**
 * Digits a challenge must have: the suite's question length, plus the Luhn digit when configured.
 * @example
 * challengeDigits(state) // 6 for QN06, 7 with a Luhn check digit
 */
export function challengeDigits(state: CardState): number {
  return state.suite.question.lengthMax + (state.part.checkDigit ? 1 : 0);
}

/**
 * The next time something happens by itself (hold action, end of a message, a turn, auto power-off).
 * @example
 * const due = nextDeadlineMs(state); // the shell schedules a tick event for `due`; the firmware never reads a clock
 */
export function nextDeadlineMs(state: CardState): number | undefined {
  const candidates: number[] = [];
  if (state.hold && !state.hold.done) candidates.push(state.hold.sinceMs + powerHoldMs);
  if (state.screen.type !== 'off') candidates.push(state.lastInputMs + idleTimeoutMs);
  if (state.screen.type === 'message') candidates.push(state.screen.untilMs);
  const turn = nextTurnMs(state.screen, state.nowMs);
  if (turn !== undefined) candidates.push(turn);
  return candidates.length === 0 ? undefined : Math.min(...candidates);
}

/** A working copy inside one step; `step` never mutates its input. */
type Draft = { -readonly [K in keyof CardState]: CardState[K] } & { effects: CardEffect[] };

/**
 * The one transition of the firmware.
 * @example
 * const { state, effects } = step(card, { type: 'tick', atMs: card.nowMs + 31_000 });
 */
export function step(state: CardState, event: CardEvent): StepResult {
  if (!Number.isSafeInteger(event.atMs) || event.atMs < state.nowMs) {
    throw new RangeError(`event "atMs" expected an integer >= ${state.nowMs} (time never goes backwards), got ${event.atMs}`);
  }
  const draft: Draft = { ...state, effects: [] };
  runDeadlines(draft, event.atMs);
  draft.nowMs = event.atMs;
  switch (event.type) {
    case 'tick':
      break;
    case 'keyDown':
      keyDown(draft, event.key, event.entropy);
      break;
    case 'keyUp':
      if (event.key === 'PRESS') draft.hold = undefined;
      if (draft.screen.type !== 'off') draft.lastInputMs = event.atMs;
      break;
    case 'batteryReplaced':
      // Taking the battery out clears RAM: the card is off; the memory image keeps everything else.
      powerOff(draft);
      draft.hold = undefined;
      save(draft, { batteryUsedOps: 0 }, 'battery');
      break;
    case 'batterySet': {
      const remaining = event.remainingOps;
      if (!Number.isSafeInteger(remaining) || remaining < 0 || remaining > batteryCapacityOps) {
        throw new RangeError(`"remainingOps" expected 0..${batteryCapacityOps}, got ${remaining}`);
      }
      save(draft, { batteryUsedOps: batteryCapacityOps - remaining }, 'battery');
      if (remaining === 0) powerOff(draft);
      break;
    }
    default:
      assertNever(event, 'event');
  }
  refresh(draft);
  const { effects, ...next } = draft;
  return { state: next, effects };
}

function runDeadlines(draft: Draft, untilMs: number): void {
  for (let deadline = nextDeadlineMs(draft); deadline !== undefined && deadline <= untilMs; deadline = nextDeadlineMs(draft)) {
    draft.nowMs = deadline;
    fire(draft, deadline);
    refresh(draft);
  }
}

function fire(draft: Draft, atMs: number): void {
  if (draft.hold && !draft.hold.done && draft.hold.sinceMs + powerHoldMs <= atMs) {
    draft.hold = { ...draft.hold, done: true };
    holdAction(draft, atMs);
  } else if (draft.screen.type !== 'off' && draft.lastInputMs + idleTimeoutMs <= atMs) {
    powerOff(draft);
  } else if (draft.screen.type === 'message' && draft.screen.untilMs <= atMs) {
    draft.screen = draft.screen.next;
  }
  // Otherwise a turn of a long response is due: the refresh after this call shows it.
}

function holdAction(draft: Draft, atMs: number): void {
  if (draft.screen.type === 'off') {
    powerOn(draft, atMs);
  } else if (draft.part.profile === 'digipass' && draft.screen.type === 'challenge') {
    // DIGIPASS-style PIN change: after a correct PIN, hold the power button at the challenge prompt.
    draft.screen = { type: 'newPin', digits: '', forced: false };
    draft.lastInputMs = atMs;
  } else {
    powerOff(draft);
  }
}

function powerOn(draft: Draft, atMs: number): void {
  // An empty battery shows nothing and does nothing.
  if (batteryRemainingOps(draft) === 0) return;
  save(draft, { batteryUsedOps: draft.memory.batteryUsedOps + 1 }, 'power on');
  draft.lastInputMs = atMs;
  draft.pin = undefined;
  draft.screen = firstScreen(draft);
}

function firstScreen(draft: Draft): Screen {
  const m = draft.memory;
  if (draft.part.profile === 'dscplus') return { type: 'pin', digits: '' };
  if (m.blocked) return { type: 'blocked' };
  if (m.locked) return { type: 'lockCode', lockCode: String(m.lockCode).padStart(lockCodeDigits, '0') };
  if (m.mustSetPin) return { type: 'newPin', digits: '', forced: true };
  return { type: 'pin', digits: '' };
}

function powerOff(draft: Draft): void {
  draft.screen = off;
  draft.pin = undefined;
}

/** Commit a change to the persistent state: the shell writes the image before anything after it happens. */
function save(draft: Draft, change: Partial<Omit<Persistent, 'seq'>>, reason: PersistReason): void {
  const { seq, ...current } = draft.memory;
  const committed = commit(draft.image, draft.slot, seq, { ...current, ...change });
  draft.image = committed.image;
  draft.slot = committed.slot;
  draft.memory = committed.state;
  draft.effects.push({ type: 'persist', image: committed.image, reason });
}

function message(draft: Draft, id: MessageId, text: string, next: Screen): void {
  draft.screen = { type: 'message', id, text, untilMs: draft.nowMs + messageMs, next };
}

function isDigit(key: Key): boolean {
  return key.length === 1;
}

/** Type a digit into a field of at most `max` digits, or take one back; BACK on an empty field returns `back`. */
function edit(digits: string, key: Key, max: number): string | 'empty-back' {
  if (key === 'BACK') return digits === '' ? 'empty-back' : digits.slice(0, -1);
  if (isDigit(key) && digits.length < max) return digits + key;
  return digits;
}

function keyDown(draft: Draft, key: Key, entropy: Uint8Array | undefined): void {
  if (key === 'PRESS' && !draft.hold) draft.hold = { sinceMs: draft.nowMs, done: false };
  if (draft.screen.type === 'off') return;
  draft.lastInputMs = draft.nowMs;
  // Any key ends a message at once and acts on the screen that follows it.
  if (draft.screen.type === 'message') draft.screen = draft.screen.next;
  if (key === 'PRESS') return; // a short PRESS does nothing while on; a hold acts through its deadline
  const screen = draft.screen;
  switch (screen.type) {
    case 'off':
    case 'message':
    case 'blocked':
      return;
    case 'pin': {
      if (key === 'OK') return submitPin(draft, screen.digits, entropy);
      const digits = edit(screen.digits, key, pinDigits);
      if (digits !== 'empty-back') draft.screen = { type: 'pin', digits }; // ◄ on an empty PIN: nothing before it
      return;
    }
    case 'challenge': {
      if (key === 'OK') return submitChallenge(draft, screen.digits);
      const digits = edit(screen.digits, key, challengeDigits(draft));
      draft.screen = digits === 'empty-back' ? { type: 'pin', digits: '' } : { type: 'challenge', digits };
      if (digits === 'empty-back') draft.pin = undefined;
      return;
    }
    case 'response':
      if (key === 'OK' || key === 'BACK') draft.screen = { type: 'challenge', digits: '' };
      return;
    case 'lockCode':
      if (key === 'OK') draft.screen = { type: 'unlock', digits: '' };
      return;
    case 'unlock': {
      if (key === 'OK') return submitUnlock(draft, screen.digits);
      const digits = edit(screen.digits, key, unlockCodeDigits);
      draft.screen = digits === 'empty-back' ? firstScreen(draft) : { type: 'unlock', digits };
      return;
    }
    case 'newPin': {
      if (key === 'OK') return submitNewPin(draft, screen);
      const digits = edit(screen.digits, key, pinDigits);
      if (digits !== 'empty-back') draft.screen = { ...screen, digits };
      else if (!screen.forced) draft.screen = { type: 'challenge', digits: '' }; // a forced new PIN cannot be skipped
      return;
    }
    case 'confirmPin': {
      if (key === 'OK') return submitConfirmPin(draft, screen);
      const digits = edit(screen.digits, key, pinDigits);
      draft.screen = digits === 'empty-back' ? { type: 'newPin', digits: '', forced: screen.forced } : { ...screen, digits };
      return;
    }
    default:
      assertNever(screen, 'screen');
  }
}

function submitPin(draft: Draft, digits: string, entropy: Uint8Array | undefined): void {
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
  const right = equalBytesConstantTime(check, draft.memory.pinCheck);
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

function submitChallenge(draft: Draft, digits: string): void {
  const retype: Screen = { type: 'challenge', digits: '' };
  if (digits.length < challengeDigits(draft)) return message(draft, 'tooFew', messageTexts.tooFew, retype);
  if (draft.part.checkDigit && !luhnValid(digits)) return message(draft, 'badCheck', messageTexts.badCheck, retype);
  if (batteryRemainingOps(draft) === 0) return powerOff(draft);
  const challenge = draft.part.checkDigit ? digits.slice(0, -1) : digits;
  const counter = draft.memory.counter;
  // Step the counter BEFORE the response is shown: a response is never shown twice for one counter value.
  save(draft, { batteryUsedOps: draft.memory.batteryUsedOps + 1, ...(draft.suite.counter && { counter: counter + 1 }) }, draft.suite.counter ? 'counter before response' : 'response');
  const inputs: OcraInputs = {
    challenge,
    ...(draft.suite.pin && { pin: draft.pin ?? '' }),
    ...(draft.suite.counter && { counter }),
    ...(draft.suite.timeStepSeconds !== undefined && { timeStep: timeStepAt(draft.suite, draft.nowMs) }),
  };
  const secret = unsealSecret(draft);
  try {
    draft.screen = { type: 'response', response: ocra(draft.suite, secret, inputs), sinceMs: draft.nowMs };
  } finally {
    secret.fill(0);
  }
}

function unsealSecret(draft: Draft): Uint8Array {
  return unseal(draft.deviceKey, draft.part.nonce, sealAad(draft.image), draft.part.sealed);
}

function submitUnlock(draft: Draft, digits: string): void {
  if (digits.length < unlockCodeDigits) return message(draft, 'tooFew', messageTexts.tooFew, { type: 'unlock', digits: '' });
  const tries = draft.memory.unlockTries + 1;
  save(draft, { unlockTries: tries }, 'unlock counter before check');
  const secret = unsealSecret(draft);
  let right: boolean;
  try {
    right = equalDigitsConstantTime(unlockCode(secret, String(draft.memory.lockCode).padStart(lockCodeDigits, '0')), digits);
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

function submitNewPin(draft: Draft, screen: Extract<Screen, { type: 'newPin' }>): void {
  const again: Screen = { type: 'newPin', digits: '', forced: screen.forced };
  if (screen.digits.length < pinDigits) return message(draft, 'tooFew', messageTexts.tooFew, again);
  if (isWeakPin(screen.digits)) return message(draft, 'notSafe', messageTexts.notSafe, again);
  draft.screen = { type: 'confirmPin', digits: '', first: screen.digits, forced: screen.forced };
}

function submitConfirmPin(draft: Draft, screen: Extract<Screen, { type: 'confirmPin' }>): void {
  if (screen.digits.length < pinDigits) return message(draft, 'tooFew', messageTexts.tooFew, { ...screen, digits: '' });
  if (!equalDigitsConstantTime(screen.digits, screen.first)) {
    return message(draft, 'pinMismatch', messageTexts.pinMismatch, { type: 'newPin', digits: '', forced: screen.forced });
  }
  const pinCheck = pinCheckValue(draft.deviceKey, draft.part.serial, screen.digits);
  save(draft, { pinCheck, pinSet: true, mustSetPin: false, wrongPins: 0 }, 'new PIN');
  draft.pin = screen.digits;
  message(draft, 'pinSet', messageTexts.pinSet, { type: 'challenge', digits: '' });
}

function indicators(draft: Draft): Indicators {
  if (draft.screen.type === 'off') return { lowBattery: false, locked: false };
  return {
    lowBattery: batteryRemainingOps(draft) <= batteryLowOps,
    locked: draft.part.profile === 'digipass' && (draft.memory.locked || draft.memory.blocked),
  };
}

/** Emit a new frame when the display (text or indicators) changed. */
function refresh(draft: Draft): void {
  const text = render(draft.screen, draft.nowMs);
  if (text.length > lcdWidthChars) throw new Error(`frame text ${JSON.stringify(text)} is longer than ${lcdWidthChars} characters`);
  const shown = indicators(draft);
  const last = draft.frame;
  if (text === last.text && shown.lowBattery === last.indicators.lowBattery && shown.locked === last.indicators.locked) return;
  draft.frame = { number: last.number + 1, text, indicators: shown, atMs: draft.nowMs };
  draft.effects.push({ type: 'display', frame: draft.frame });
}
