/**
 * The reference card for `--explore`: the firmware itself, in process, on a record provisioned with the
 * card's own secret, profile, suite, PIN, check digit and counter, in virtual time. It is driven action by
 * action in lockstep with the card under test, and can be replayed from the start, which is how it takes
 * over the card's lock code: a lock code is random by design, so the card's is the right one, and the
 * reference replays its history with the keyDown that locked drawing exactly that code.
 */
import { assertNever } from '../../firmware/assert.ts';
import { commit, decodeImage, type Persistent } from '../../firmware/memory.ts';
import { recordImage, withImage, type DeviceRecord } from '../../firmware/device-record.ts';
import { entropyBytes, type Frame, type Key } from '../../firmware/types.ts';
import { newDeviceRecord, openCardFromRecord, type CardSession } from '../../emulator/card.ts';
import type { Target } from '../target.ts';

export type RefAction =
  | { readonly type: 'down'; readonly key: Key }
  | { readonly type: 'up'; readonly key: Key }
  | { readonly type: 'advance'; readonly ms: number };

/** The record a conforming card in the tester's known state (off, its PIN set, nothing counted) would hold. */
export function referenceRecord(target: Target, clockMs: number): DeviceRecord {
  const record = newDeviceRecord({
    profile: target.profile,
    suite: target.suite.text,
    serial: Number(target.serial),
    pin: target.pin,
    secret: target.secret,
    checkDigit: target.checkDigit,
    clockMs,
  });
  if (target.counter === 0) return record;
  const image = recordImage(record);
  const decoded = decodeImage(image);
  const { seq, ...rest } = decoded.state;
  return withImage(record, commit(image, decoded.slot, seq, { ...rest, counter: target.counter }).image, clockMs);
}

/**
 * @example
 * const reference = new Reference(referenceRecord(target, Date.now()));
 * reference.apply({ type: 'down', key: 'PRESS' }); reference.apply({ type: 'advance', ms: 2000 });
 */
export class Reference {
  readonly #record: DeviceRecord;
  readonly #log: RefAction[] = [];
  /** Lock codes taken over from the card: keyDowns from `fromDown` on draw `code`. */
  readonly #codes: { fromDown: number; code: number }[] = [];
  /** KeyDowns so far, and how many there were when the last lock code was taken over. */
  #downs = 0;
  #downsAtAdoption = 0;
  #drawn = 0;
  #session: CardSession;
  #latest: DeviceRecord;

  constructor(record: DeviceRecord) {
    this.#record = record;
    this.#latest = record;
    this.#session = this.#open();
  }

  #open(): CardSession {
    this.#drawn = 0;
    this.#latest = this.#record;
    return openCardFromRecord(this.#record, {
      clock: 'virtual',
      random: (bytes) => this.#entropy(bytes),
      save: (next) => (this.#latest = next),
    });
  }

  #entropy(bytes: number): Uint8Array {
    const index = this.#drawn++;
    const entropy = new Uint8Array(Math.max(bytes, entropyBytes));
    let code: number | undefined;
    for (const entry of this.#codes) if (entry.fromDown <= index) code = entry.code;
    if (code !== undefined) new DataView(entropy.buffer).setUint32(0, code);
    return entropy;
  }

  get frame(): Frame {
    return this.#session.frame;
  }

  get screenId(): string {
    return this.#session.screenId;
  }

  /** Where the next key goes (the screen under any message) and how many digits are typed there. */
  get keyEntry(): CardSession['keyEntry'] {
    return this.#session.keyEntry;
  }

  /** What the reference's memory holds now (the image it last committed). */
  get memory(): Persistent {
    return decodeImage(recordImage(this.#latest)).state;
  }

  /** Wrong unlock codes counted so far. */
  get unlockTries(): number {
    return this.memory.unlockTries;
  }

  apply(action: RefAction): Frame {
    this.#log.push(action);
    return this.#run(action);
  }

  #run(action: RefAction): Frame {
    switch (action.type) {
      case 'down':
        this.#downs++;
        return this.#session.keyDown(action.key);
      case 'up':
        return this.#session.keyUp(action.key);
      case 'advance':
        return this.#session.advance(action.ms);
      default:
        return assertNever(action, 'action');
    }
  }

  /** Take over the lock code the card shows: replay everything with the locking keyDown drawing `code`. */
  adoptLockCode(code: number): Frame {
    // The keyDown that locked came after the last lock code was shown (the card was unlocked in between).
    this.#codes.push({ fromDown: this.#downsAtAdoption, code });
    this.#downsAtAdoption = this.#downs;
    this.#session.close();
    this.#session = this.#open();
    this.#downs = 0;
    for (const action of this.#log) this.#run(action);
    return this.#session.frame;
  }

  close(): void {
    this.#session.close();
  }
}
