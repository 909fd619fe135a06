// Model-based tests (fast-check fc.commands): random key, hold, wait, battery and reboot sequences on a
// real card, against a small reference model of both profiles that tracks only the entry fields, the PIN,
// the wrong-PIN count and the lock. After every command: no frame longer than 8 characters, every response
// equals the OCRA engine's answer for the device secret, the persisted wrong-PIN counter matches the model
// and never falls without a correct PIN, and a locked card never shows a response.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openCardFromRecord, type CardSession } from '../../emulator/card.ts';
import { recordImage, type DeviceRecord } from '../../firmware/device-record.ts';
import { decodeImage } from '../../firmware/memory.ts';
import { ocra } from '../../firmware/ocra/index.ts';
import { keys, lcdWidthChars, powerHoldMs, type Frame, type Key, type Profile } from '../../firmware/types.ts';
import { unlockCode } from '../../firmware/unlock.ts';
import { loadScreenTable } from '../../platform/screen-table.ts';
import { propertyParams, seed } from '../support/seed.ts';
import { countingRandom, secret, startMs, testPin, testRecord } from './support.ts';

/** The model: far simpler than the firmware. Screen ids are read from the card; the model predicts what keys do. */
interface Model {
  profile: Profile;
  /** Digits in the entry field on screen, as the model believes. */
  field: string;
  /** The PIN accepted this power-on (soft PIN on dscplus). */
  acceptedPin: string | undefined;
  /** digipass: the PIN the card will accept. */
  currentPin: string;
  firstNewPin: string;
  /** digipass: a new PIN must be set before anything else (after an unlock); ◄ cannot skip it. */
  mustSetPin: boolean;
  wrongPins: number;
  unlockTries: number;
  locked: boolean;
  blocked: boolean;
  tooFewOrigin: string;
  lockCode: string | undefined;
}

interface Real {
  card: CardSession;
  record: DeviceRecord;
  frames: Frame[];
  random: (n: number) => Uint8Array;
}

const entryMax: Record<string, number> = { pin: 4, challenge: 6, unlock: 8, newPin: 4, confirmPin: 4 };
const suites: Record<Profile, string> = { dscplus: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', digipass: 'OCRA-1:HOTP-SHA1-8:QN06' };
const weak = (pin: string) => /^(\d)\1{3}$/.test(pin) || '0123456789'.includes(pin) || '9876543210'.includes(pin);

const decoded = new WeakMap<DeviceRecord, ReturnType<typeof decodeImage>['state']>();
/** The card's persistent state as the device record holds it (decoded once per record). */
function persisted(real: Real) {
  let state = decoded.get(real.record);
  if (!state) decoded.set(real.record, (state = decodeImage(recordImage(real.record)).state));
  return state;
}

function open(real: Real): void {
  real.card = openCardFromRecord(real.record, { clock: 'virtual', startMs: real.card?.nowMs ?? startMs, random: real.random, save: (r) => (real.record = r) });
  real.card.onFrame((frame) => real.frames.push(frame));
}

/** The screen a key acts on: a message ends at the key and the key acts on what follows it. */
function effective(model: Model, before: string): string {
  switch (before) {
    case 'pinFail':
      return 'pin';
    case 'tooFew':
      return model.tooFewOrigin;
    case 'lockPin':
    case 'unlockFail':
      return 'lockCode';
    case 'notSafe':
    case 'pinMismatch':
      return 'newPin';
    case 'pinSet':
    case 'badCheck':
      return 'challenge';
    default:
      return before;
  }
}

function firstScreen(model: Model): string {
  if (model.profile === 'dscplus') return 'pin';
  if (model.blocked) return 'blocked';
  if (model.locked) return 'lockCode';
  return 'pin';
}

/** Predict the screen after `key` on `screen` and update the model; checks that need the outcome run here. */
function predictKey(model: Model, screen: string, key: Key): string {
  const field = model.field;
  if (key === 'PRESS') return screen;
  if (screen in entryMax) {
    if (key === 'BACK') {
      if (field !== '') return (model.field = field.slice(0, -1)), screen;
      model.field = '';
      return { pin: 'pin', challenge: 'pin', unlock: 'lockCode', newPin: model.mustSetPin ? 'newPin' : 'challenge', confirmPin: 'newPin' }[screen]!;
    }
    if (key !== 'OK') {
      model.field = field.length < entryMax[screen]! ? field + key : field;
      return screen;
    }
    model.field = '';
    if (field.length < entryMax[screen]!) return (model.tooFewOrigin = screen), 'tooFew';
    switch (screen) {
      case 'pin':
        if (model.profile === 'dscplus') return (model.acceptedPin = field), 'challenge';
        if (field === model.currentPin) return (model.wrongPins = 0), (model.acceptedPin = field), 'challenge';
        model.wrongPins++;
        if (model.wrongPins >= 5) return (model.locked = true), 'lockPin';
        return 'pinFail';
      case 'challenge':
        return 'response';
      case 'unlock':
        if (model.lockCode !== undefined && field === unlockCode(secret(), model.lockCode)) {
          Object.assign(model, { locked: false, wrongPins: 0, unlockTries: 0, mustSetPin: true });
          return 'newPin';
        }
        model.unlockTries++;
        if (model.unlockTries >= 3) return (model.blocked = true), 'blocked';
        return 'unlockFail';
      case 'newPin':
        if (weak(field)) return 'notSafe';
        model.firstNewPin = field;
        return 'confirmPin';
      case 'confirmPin':
        if (field !== model.firstNewPin) return 'pinMismatch';
        model.currentPin = field;
        model.acceptedPin = field;
        model.mustSetPin = false;
        return 'pinSet';
    }
  }
  if (screen === 'response' && (key === 'OK' || key === 'BACK')) return 'challenge';
  if (screen === 'lockCode' && key === 'OK') return 'unlock';
  return screen;
}
/** A plain assertion: these run hundreds of thousands of times, so no matcher objects. */
function ensure(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}

function same<T>(actual: T, expected: T, what: string): void {
  ensure(actual === expected, () => `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function checkInvariants(model: Model, real: Real, correctSecretAccepted: boolean, before: { wrongPins: number }): void {
  for (const frame of real.frames) ensure(frame.text.length <= lcdWidthChars, () => `frame ${JSON.stringify(frame.text)} is longer than ${lcdWidthChars}`);
  const memory = persisted(real);
  if (model.profile === 'digipass') {
    same(memory.wrongPins, model.wrongPins, 'persisted wrong-PIN counter');
    if (!correctSecretAccepted) ensure(memory.wrongPins >= before.wrongPins, () => `wrong-PIN counter fell from ${before.wrongPins} to ${memory.wrongPins} without a correct PIN`);
    same(memory.locked, model.locked, 'persisted lock');
    same(memory.blocked, model.blocked, 'persisted block');
  }
  if (memory.locked || memory.blocked) ensure(real.card.screenId !== 'response', () => 'a locked card shows a response');
  const lock = /^L(\d{7})$/.exec(real.card.frame.text);
  if (lock) model.lockCode = lock[1];
  real.frames.length = 0;
  seen.add(real.card.screenId);
}
/** Screens the random runs reached: the test fails if the runs never reach the deep ones. */
const seen = new Set<string>();

/** One key press: predicted outcome, and for a response the OCRA engine's value. */
class KeyCommand implements fc.Command<Model, Real> {
  constructor(readonly key: Key) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const before = real.card.screenId;
    const wrongBefore = persisted(real).wrongPins;
    const screen = before === 'off' ? 'off' : effective(model, before);
    if (screen !== before) model.field = '';
    const challenge = model.field;
    const expected = screen === 'off' ? 'off' : predictKey(model, screen, this.key);
    if (screen === 'off') model.field = '';
    real.card.press(this.key);
    if (expected === 'response' && screen !== 'response') {
      same(model.locked, false, 'model lock at a response');
      const pin = model.profile === 'dscplus' ? { pin: model.acceptedPin! } : {};
      same(real.card.frame.text, ocra(suites[model.profile], secret(), { challenge, ...pin }), `response to ${challenge}`);
    }
    same(real.card.screenId, expected, `${this.toString()} on ${before}`);
    if (!(real.card.screenId in entryMax)) model.field = '';
    const accepted = (screen === 'pin' && expected === 'challenge') || (screen === 'unlock' && expected === 'newPin');
    checkInvariants(model, real, accepted, { wrongPins: wrongBefore });
  }
  toString = () => `press ${this.key}`;
}

class TypeCommand implements fc.Command<Model, Real> {
  constructor(readonly digits: string, readonly what: 'digits' | 'right PIN' | 'unlock code') {}
  check = () => true;
  run(model: Model, real: Real): void {
    const digits = this.what === 'right PIN' ? model.currentPin : this.what === 'unlock code' ? (model.lockCode ? unlockCode(secret(), model.lockCode) : '0') : this.digits;
    for (const digit of digits) new KeyCommand(digit as Key).run(model, real);
  }
  toString = () => (this.what === 'digits' ? `type ${this.digits}` : `type the ${this.what}`);
}

/** A user-level action: a run of keys ending in OK (a PIN, a challenge, an unlock code). */
class EnterCommand implements fc.Command<Model, Real> {
  constructor(readonly what: 'right PIN' | 'wrong PIN' | 'weak PIN' | 'new PIN' | 'challenge' | 'unlock code' | 'wrong unlock code', readonly digits: string) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const digits =
      this.what === 'right PIN' ? model.currentPin
      : this.what === 'wrong PIN' ? (this.digits === model.currentPin ? '0000' : this.digits)
      : this.what === 'new PIN' ? model.firstNewPin || this.digits
      : this.what === 'unlock code' ? (model.lockCode ? unlockCode(secret(), model.lockCode) : this.digits)
      : this.digits;
    // A user entering an unlock code first presses OK at the lock code to reach UNLOCK>.
    if (this.what.includes('unlock') && ['lockCode', 'unlockFail', 'lockPin'].includes(real.card.screenId)) new KeyCommand('OK').run(model, real);
    for (const digit of digits) new KeyCommand(digit as Key).run(model, real);
    new KeyCommand('OK').run(model, real);
  }
  toString = () => `enter ${this.what}${['right PIN', 'unlock code'].includes(this.what) ? '' : ` ${this.digits}`}`;
}

class HoldCommand implements fc.Command<Model, Real> {
  check = () => true;
  run(model: Model, real: Real): void {
    const before = real.card.screenId;
    const wrongBefore = persisted(real).wrongPins;
    const screen = before === 'off' ? 'off' : effective(model, before);
    const expected = screen === 'off' ? firstScreenFor(model) : model.profile === 'digipass' && screen === 'challenge' ? 'newPin' : 'off';
    real.card.press('PRESS', powerHoldMs);
    same(real.card.screenId, expected, `hold on ${before}`);
    model.field = '';
    if (expected === 'off') model.acceptedPin = undefined;
    checkInvariants(model, real, false, { wrongPins: wrongBefore });
  }
  toString = () => 'hold PRESS 2 s';
}

function firstScreenFor(model: Model): string {
  return model.profile === 'digipass' && model.mustSetPin && !model.locked && !model.blocked ? 'newPin' : firstScreen(model);
}

/** Time passes: the model only observes (messages end, auto power-off); invariants still hold. */
class WaitCommand implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const before = real.card.screenId;
    const wrongBefore = persisted(real).wrongPins;
    real.card.advance(this.ms);
    if (real.card.screenId !== before) model.field = '';
    if (real.card.screenId === 'off') model.acceptedPin = undefined;
    if (this.ms >= 30_000) same(real.card.screenId, 'off', `screen after ${this.ms} ms`);
    checkInvariants(model, real, false, { wrongPins: wrongBefore });
  }
  toString = () => `wait ${this.ms} ms`;
}

/** Battery out and in, or the whole runtime restarted from the saved device record: RAM is lost, memory stays. */
class PowerLossCommand implements fc.Command<Model, Real> {
  constructor(readonly how: 'battery' | 'reboot') {}
  check = () => true;
  run(model: Model, real: Real): void {
    const wrongBefore = persisted(real).wrongPins;
    if (this.how === 'battery') real.card.replaceBattery();
    else {
      real.card.close();
      open(real);
    }
    same(real.card.screenId, 'off', this.toString());
    model.field = '';
    model.acceptedPin = undefined;
    checkInvariants(model, real, false, { wrongPins: wrongBefore });
  }
  toString = () => (this.how === 'battery' ? 'replace battery' : 'reboot from device record');
}

const commands: fc.Arbitrary<fc.Command<Model, Real>>[] = [
  fc.constantFrom(...keys).map((key) => new KeyCommand(key)),
  fc.constantFrom('OK', 'BACK').map((key) => new KeyCommand(key as Key)),
  fc.stringMatching(/^[0-9]{1,7}$/).map((digits) => new TypeCommand(digits, 'digits')),
  fc.constant(new TypeCommand('', 'right PIN')),
  fc.constant(new TypeCommand('', 'unlock code')),
  fc.constant(new HoldCommand()),
  fc.constant(new EnterCommand('right PIN', '')),
  fc.stringMatching(/^[0-9]{4}$/).map((d) => new EnterCommand('wrong PIN', d)),
  fc.constantFrom('1111', '1234', '9876', '0123').map((d) => new EnterCommand('weak PIN', d)),
  fc.constantFrom('4827', '3061').map((d) => new EnterCommand('new PIN', d)),
  fc.stringMatching(/^[0-9]{6}$/).map((d) => new EnterCommand('challenge', d)),
  fc.constant(new EnterCommand('unlock code', '12345678')),
  fc.stringMatching(/^[0-9]{8}$/).map((d) => new EnterCommand('wrong unlock code', d)),
  // Wrong PINs and wrong unlock codes twice as likely: locking takes 5 in a row and blocking 3 more.
  fc.stringMatching(/^[0-9]{4}$/).map((d) => new EnterCommand('wrong PIN', d)),
  fc.stringMatching(/^[0-9]{8}$/).map((d) => new EnterCommand('wrong unlock code', d)),
  fc.constantFrom(100, 1_500, 2_000, 29_000, 30_000).map((ms) => new WaitCommand(ms)),
  fc.constantFrom('battery' as const, 'reboot' as const).map((how) => new PowerLossCommand(how)),
];

function runModel(profile: Profile, numRuns: number): void {
  fc.assert(
    fc.property(fc.commands(commands, { maxCommands: 40, size: 'max' }), (cmds) => {
      const real = { record: testRecord(profile, 'default', countingRandom(7)), frames: [], random: countingRandom(11) } as unknown as Real;
      open(real);
      const model: Model = {
        profile, field: '', acceptedPin: undefined, currentPin: testPin, firstNewPin: '', mustSetPin: false, wrongPins: 0, unlockTries: 0,
        locked: false, blocked: false, tooFewOrigin: 'pin', lockCode: undefined,
      };
      fc.modelRun(() => ({ model, real }), cmds);
    }),
    propertyParams(numRuns),
  );
}

const table = loadScreenTable();

describe(`firmware against a reference model (seed ${seed})`, () => {
  // Each profile's runs must reach every screen of that profile in the table (but BAD CHK, which needs a
  // check-digit card), so the properties are known to hold deep in the state machine, not only near power-on.
  it.each([
    ['dscplus' as const, 1_000, 'soft PIN, responses, power and time'],
    ['digipass' as const, 2_000, 'PIN check, FAIL n, lock, unlock, block, PIN change'],
  ])('%s (%i runs): %s', (profile, numRuns, _what) => {
    seen.clear();
    runModel(profile, numRuns);
    const expected = table.screens.filter((s) => s.profiles === 'both' || s.profiles === profile).map((s) => s.id).filter((id) => id !== 'badCheck');
    expect([...seen].sort(), `screens reached: ${[...seen].join(' ')}`).toEqual(expected.sort());
  });
});
