/**
 * The card runtime every shell uses (Ink UI, serial bridge, headless commands, tests): it hosts the pure
 * firmware, runs its clock (virtual or real), hands it randomness, and carries out its effects — frames to
 * listeners, memory images to the device file (atomically, on every commit).
 *
 * API:
 *   openCard({ devicePath, clock: 'virtual' | 'real', startMs?, random? }) -> CardSession
 *   openCardFromRecord(record, { clock, startMs?, random?, save? }) -> CardSession   (no file; `save` gets each new record)
 *   provisionDeviceFile(path, options) -> { serial, record }
 *   CardSession: info, frame, battery, nowMs, screenId, keyDown, keyUp, advance, press, replaceBattery,
 *                setBattery, onFrame, close
 *   DeviceFileError (from emulator/device-file.ts): a device file that cannot be used; it is never rewritten.
 */
import { randomBytes } from 'node:crypto';
import { recordDeviceKey, recordImage, withImage, type DeviceRecord } from '../firmware/device-record.ts';
import { batteryRemainingOps, type CardState, type StepResult } from '../firmware/card-state.ts';
import { bootCard, cardInfo, nextDeadlineMs, screenIdOf, step } from '../firmware/machine.ts';
import { provisionRecord } from '../firmware/provision.ts';
import { defaultSecretBytes, cardSuite, defaultSuites } from '../firmware/card-suite.ts';
import { nonceBytes } from '../firmware/memory.ts';
import { checkNewPin } from '../firmware/pin.ts';
import { deviceKeyBytes } from '../firmware/seal.ts';
import { keyEntry, type ScreenId } from '../firmware/screens.ts';
import { assertNever } from '../firmware/assert.ts';
import {
  batteryCapacityOps,
  batteryLowOps,
  entropyBytes,
  shortPressMs,
  type CardEvent,
  type CardInfo,
  type Frame,
  type Key,
  type Profile,
} from '../firmware/types.ts';
import { holdDeviceFile, readDeviceFile, replaceDeviceFile, writeDeviceFile } from './device-file.ts';

export { DeviceFileError } from './device-file.ts';

export interface BatteryInfo {
  readonly remainingOps: number;
  readonly capacityOps: number;
  readonly lowOps: number;
  readonly low: boolean;
}

export interface CardSession {
  readonly info: CardInfo;
  /** The current display. */
  readonly frame: Frame;
  readonly battery: BatteryInfo;
  /** The card's clock now (virtual, or the last real time it saw). */
  readonly nowMs: number;
  /** The screen-table id of the current screen (fixtures/screens.json), for help screens and tests. */
  readonly screenId: ScreenId;
  /** Where the next key goes: the screen under any message, and the digits typed there (never the digits). */
  readonly keyEntry: { readonly id: ScreenId; readonly typed: number };
  /** Each input returns the frame it produced: a new number whenever the display changed. */
  keyDown(key: Key): Frame;
  keyUp(key: Key): Frame;
  /** Virtual clock only: let `ms` pass (hold actions, message ends, auto power-off fire on time). */
  advance(ms: number): Frame;
  /** keyDown, let `holdMs` pass, keyUp. A hold longer than a short press needs the virtual clock. */
  press(key: Key, holdMs?: number): Frame;
  replaceBattery(): Frame;
  /** Demo/test hook: a battery with this many operations left. */
  setBattery(remainingOps: number): Frame;
  /** Called with every new frame; returns the unsubscribe function. */
  onFrame(listener: (frame: Frame) => void): () => void;
  /** Stop timers and save the virtual clock. Persistence of the memory image already happened on every commit. */
  close(): void;
}

export interface SessionOptions {
  readonly clock: 'virtual' | 'real';
  /** Virtual clock start (ms since the epoch); defaults to the record's saved clock. */
  readonly startMs?: number;
  /** Random bytes (the lock code); defaults to node:crypto. */
  readonly random?: (bytes: number) => Uint8Array;
  /**
   * Test-only: a deliberately broken firmware step (`dsc bridge --fault`, emulator/faults.ts), given
   * the state before, the event and the right result. Never set outside fault tests.
   */
  readonly misstep?: (before: CardState, event: CardEvent, result: StepResult) => StepResult;
  /** Real clock source; defaults to Date.now. */
  readonly now?: () => number;
  /** Called with the updated record on every commit (and the clock at close); throwing stops the card. */
  readonly save?: (record: DeviceRecord) => void;
  /** Called once by close(), after the last save (openCard lets go of the device file's lock here). */
  readonly onClose?: () => void;
}

export interface OpenCardOptions extends Omit<SessionOptions, 'save' | 'onClose'> {
  readonly devicePath: string;
  /** Who holds the card, as the lock names it to a second command that waits for it (e.g. `dsc bridge`). */
  readonly command?: string;
  /** How long to wait for another command to let go of the device file (default deviceLockWaitMs). */
  readonly lockWaitMs?: number;
}

/**
 * Open a device file as a running card. Throws DeviceFileError (file untouched) when it cannot be used.
 * @example
 * const card = openCard({ devicePath: 'card.json', clock: 'virtual' });
 * card.press('PRESS', 2000).text; // 'PIN>'
 * card.close();
 */
export function openCard(options: OpenCardOptions): CardSession {
  const held = holdDeviceFile(options.devicePath, { command: options.command ?? 'dsc', ...(options.lockWaitMs !== undefined && { waitMs: options.lockWaitMs }) });
  try {
    return openCardFromRecord(held.record, { ...options, save: (next) => held.save(next), onClose: () => held.release() });
  } catch (error) {
    held.release();
    throw error;
  }
}

/**
 * A running card on a device record held in memory (`save` receives every new record).
 * @example
 * const card = openCardFromRecord(record, { clock: 'virtual', save: (r) => (saved = r) });
 */
export function openCardFromRecord(initial: DeviceRecord, options: SessionOptions): CardSession {
  const now = options.now ?? Date.now;
  const random = options.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const virtual = options.clock === 'virtual';
  let record = initial;
  const deviceKey = recordDeviceKey(record);
  let state: CardState = bootCard(recordImage(record), deviceKey, virtual ? (options.startMs ?? record.clockMs) : now());
  const listeners = new Set<(frame: Frame) => void>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let savedClockMs = record.clockMs;

  function save(next: DeviceRecord): void {
    options.save?.(next);
    record = next;
    savedClockMs = next.clockMs;
  }

  function apply(event: CardEvent): Frame {
    if (closed) throw new Error('card session is closed');
    const right = step(state, event);
    const result = options.misstep ? options.misstep(state, event, right) : right;
    state = result.state;
    // Effects in order; a failed write stops the card here, as a power loss would.
    for (const effect of result.effects) {
      switch (effect.type) {
        case 'persist':
          try {
            save(withImage(record, effect.image, state.nowMs));
          } catch (error) {
            close();
            throw error;
          }
          break;
        case 'display':
          for (const listener of listeners) listener(effect.frame);
          break;
        default:
          assertNever(effect, 'effect');
      }
    }
    if (!virtual) schedule();
    return state.frame;
  }

  function realNow(): number {
    return Math.max(state.nowMs, now());
  }

  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const deadline = nextDeadlineMs(state);
    if (deadline === undefined || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) apply({ type: 'tick', atMs: Math.max(deadline, realNow()) });
    }, Math.max(0, deadline - now()));
    timer.unref?.();
  }

  function at(): number {
    return virtual ? state.nowMs : realNow();
  }

  function close(): void {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    listeners.clear();
    if (virtual && state.nowMs !== savedClockMs) {
      try {
        save({ ...record, clockMs: state.nowMs });
      } catch {
        // The clock is a convenience; the memory image was already saved on every commit.
      }
    }
    deviceKey.fill(0);
    options.onClose?.();
  }

  const session: CardSession = {
    get info() {
      return cardInfo(state);
    },
    get frame() {
      return state.frame;
    },
    get battery() {
      const remainingOps = batteryRemainingOps(state);
      return { remainingOps, capacityOps: batteryCapacityOps, lowOps: batteryLowOps, low: remainingOps <= batteryLowOps };
    },
    get nowMs() {
      return state.nowMs;
    },
    get screenId() {
      return screenIdOf(state);
    },
    get keyEntry() {
      return keyEntry(state.screen);
    },
    keyDown: (key) => apply({ type: 'keyDown', key, atMs: at(), entropy: random(entropyBytes) }),
    keyUp: (key) => apply({ type: 'keyUp', key, atMs: at() }),
    advance(ms) {
      if (!virtual) throw new Error('advance() needs the virtual clock; the real clock runs by itself');
      if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`"ms" expected a non-negative integer, got ${ms}`);
      return apply({ type: 'tick', atMs: state.nowMs + ms });
    },
    press(key, holdMs = shortPressMs) {
      session.keyDown(key);
      if (virtual) session.advance(holdMs);
      else if (holdMs > shortPressMs) throw new Error('press() with a hold needs the virtual clock; use keyDown/keyUp');
      return session.keyUp(key);
    },
    replaceBattery: () => apply({ type: 'batteryReplaced', atMs: at() }),
    setBattery: (remainingOps) => apply({ type: 'batterySet', remainingOps, atMs: at() }),
    onFrame(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close,
  };
  if (!virtual) schedule();
  return session;
}

export interface ProvisionOptions {
  readonly profile?: Profile;
  readonly suite?: string;
  readonly serial?: number;
  readonly pin?: string;
  /** The OCRA secret ("seed"); random when not given. */
  readonly secret?: Uint8Array;
  readonly checkDigit?: boolean;
  /** The card's clock at provisioning; defaults to now. */
  readonly clockMs?: number;
  readonly random?: (bytes: number) => Uint8Array;
  /** Replace an existing file (default: refuse). */
  readonly overwrite?: boolean;
}

/** The lowest and span of random 8-digit serial numbers. */
const serialLow = 10_000_000;
const serialSpan = 90_000_000;

/**
 * Build a device record with fresh randomness (the pure part is firmware/provision.ts).
 * @example
 * const record = newDeviceRecord({ profile: 'digipass', pin: '2580' });
 */
export function newDeviceRecord(options: ProvisionOptions = {}): DeviceRecord {
  const random = options.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const profile = options.profile ?? 'dscplus';
  const suite = cardSuite(options.suite ?? defaultSuites[profile], profile);
  const secret = options.secret ? options.secret.slice() : random(defaultSecretBytes[suite.hash]);
  const deviceKey = random(deviceKeyBytes);
  const serialBytes = random(4);
  const serial = options.serial ?? serialLow + (new DataView(serialBytes.buffer, serialBytes.byteOffset, 4).getUint32(0) % serialSpan);
  try {
    return provisionRecord({
      profile,
      suite: suite.text,
      serial,
      secret,
      ...(options.pin !== undefined && { pin: options.pin }),
      checkDigit: options.checkDigit ?? false,
      deviceKey,
      nonce: random(nonceBytes),
      pinNonce: random(nonceBytes),
      clockMs: options.clockMs ?? Date.now(),
    });
  } finally {
    secret.fill(0);
    deviceKey.fill(0);
  }
}

/**
 * Create a device file (refusing to overwrite one unless `overwrite`), returning its serial and record.
 * The PIN is being chosen here, so a weak one is refused (RangeError naming "pin", nothing written) by the
 * rule the keypad and `dsc provision` apply (firmware/pin.ts `checkNewPin`). `newDeviceRecord` does not
 * apply it: the tester rebuilds cards whose PIN was chosen elsewhere.
 * @example
 * const { serial } = provisionDeviceFile('card.json', { pin: '2580' });
 */
export function provisionDeviceFile(path: string, options: ProvisionOptions = {}): { serial: string; record: DeviceRecord } {
  if (options.pin !== undefined) checkNewPin('"pin"', options.pin);
  const record = newDeviceRecord(options);
  if (options.overwrite) replaceDeviceFile(path, record, 'dsc provision --force');
  else writeDeviceFile(path, record, { exclusive: true });
  return { serial: record.serial, record };
}

export { holdDeviceFile, readDeviceFile, writeDeviceFile };
