/**
 * The card's firmware: one pure transition, `step(state, event) → { state, effects }`.
 *
 * Nothing here reads a clock, draws randomness or touches a file: time arrives in events (`atMs`), the
 * lock code's randomness arrives in the keyDown that locks, the memory image and the device key are
 * handed in at boot, and every write comes out as a `persist` effect for the shell to carry out in order.
 * Screens and transitions are listed in fixtures/screens.json and docs/screens.md.
 */
import { assertNever, assertBytes } from './assert.ts';
import { batteryRemainingOps, firstScreen, message, offScreen, powerOff, save, unsealSecret, type CardState, type Draft, type StepResult } from './card-state.ts';
import { cardSuite } from './card-suite.ts';
import { luhnValid } from './luhn.ts';
import { decodeImage } from './memory.ts';
import { ocra, timeStepAt, type OcraInputs } from './ocra/index.ts';
import { submitConfirmPin, submitNewPin, submitPin, submitUnlock } from './pin-flow.ts';
import { deviceKeyBytes } from './seal.ts';
import { messageTexts, nextTurnMs, render, screenId, type Screen, type ScreenId } from './screens.ts';
import {
  batteryCapacityOps,
  batteryLowOps,
  cardModel,
  firmwareVersion,
  idleTimeoutMs,
  lcdWidthChars,
  pinDigits,
  powerHoldMs,
  unlockCodeDigits,
  type CardEvent,
  type CardInfo,
  type Indicators,
  type Key,
} from './types.ts';

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
    screen: offScreen,
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
