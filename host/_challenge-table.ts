/**
 * The memory store's challenge table, kept in columns (typed arrays indexed by id) rather than one object per
 * challenge. A server keeps every challenge it ever issued ("never the same challenge twice to one card"), so
 * a long run holds hundreds of thousands of them: as objects, each is copied and promoted by the garbage
 * collector and visited by every full collection; in typed arrays it costs neither. Rows are built on read,
 * for the transaction that asked, as the Store contract allows.
 */
import type { ChallengePurpose, ChallengeRow, ChallengeState } from './store.ts';

const states: readonly ChallengeState[] = ['open', 'used', 'exhausted', 'expired'];
const purposes: readonly ChallengePurpose[] = ['login', 'pin-change', 'withdrawal'];
const initialCapacityRows = 1_024;

/** Digits read as a number below 2^53, with a leading 1 so "012" and "12" differ; -1 for any other text. */
const digitsKeyCharsMax = 15;
export function digitsKey(text: string): number {
  if (text.length === 0 || text.length > digitsKeyCharsMax) return -1;
  let key = 1;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    key = key * 10 + digit;
  }
  return key;
}

/**
 * Digit keys below 2^31 (every challenge up to 9 digits) -> newest id, open addressing with linear probing in
 * one Int32Array of [key, id] pairs: a lookup among hundreds of thousands of challenges is one cache miss here,
 * where a Map takes two or three (its bucket, its entry, the entry's key), and 8 bytes a slot keep the table
 * small enough to stay mostly in cache. Keys are ≥ 1 (digitsKey), so 0 marks an empty slot; longer keys go to
 * a Map.
 */
const smallKeyMax = 0x7fff_ffff;
const initialSlots = 1_024;
class DigitsIndex {
  #slots = new Int32Array(2 * initialSlots);
  #mask = initialSlots - 1;
  #size = 0;
  #large = new Map<number, number>();

  #slotOf(key: number): number {
    let slot = Math.imul(key, 0x9e37_79b1) >>> 0;
    for (;;) {
      slot &= this.#mask;
      const at = this.#slots[2 * slot]!;
      if (at === key || at === 0) return slot;
      slot++;
    }
  }

  get(key: number): number {
    if (key > smallKeyMax) return this.#large.get(key) ?? 0;
    const slot = this.#slotOf(key);
    return this.#slots[2 * slot] === key ? this.#slots[2 * slot + 1]! : 0;
  }

  set(key: number, id: number): void {
    if (key > smallKeyMax) {
      this.#large.set(key, id);
      return;
    }
    const slot = this.#slotOf(key);
    if (this.#slots[2 * slot] === 0) {
      this.#size++;
      this.#slots[2 * slot] = key;
    }
    this.#slots[2 * slot + 1] = id;
    // Kept at most half full, so probe runs stay short.
    if (2 * this.#size > this.#mask) this.#rehash(2 * (this.#mask + 1));
  }

  clear(): void {
    this.#slots = new Int32Array(2 * initialSlots);
    this.#mask = initialSlots - 1;
    this.#size = 0;
    this.#large.clear();
  }

  #rehash(capacity: number): void {
    const old = this.#slots;
    this.#slots = new Int32Array(2 * capacity);
    this.#mask = capacity - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0) {
        const slot = this.#slotOf(old[i]!);
        this.#slots[2 * slot] = old[i]!;
        this.#slots[2 * slot + 1] = old[i + 1]!;
      }
    }
  }
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(column: T, capacity: number): T {
  const next = new (column.constructor as new (length: number) => T)(capacity);
  next.set(column);
  return next;
}

/**
 * @example
 * const table = new ChallengeTable();
 * const id = table.insert({ serial: '1', user: 'u', challenge: '123456', purpose: 'login', sealedPayload: null,
 *   amountUsd: null, issuedMs: 0, expiresMs: 120_000, attempts: 0, state: 'open' }); // 1
 * table.rowsFor('u', '123456')[0]!.id; // 1
 */
export class ChallengeTable {
  #next = 1; // ids start at 1, like SQLite's; 0 means "none"
  #issuedMs = new Float64Array(initialCapacityRows);
  #expiresMs = new Float64Array(initialCapacityRows);
  #attempts = new Int32Array(initialCapacityRows);
  /** The next older id issued with the same text (a chain per text), 0 at the end. */
  #older = new Int32Array(initialCapacityRows);
  #state = new Uint8Array(initialCapacityRows);
  #purpose = new Uint8Array(initialCapacityRows);
  // Strings the caller already holds (serials and users repeat): arrays of references, no new objects.
  #serial: string[] = [''];
  #user: string[] = [''];
  // Only PIN changes and withdrawals carry these: sparse.
  #payload = new Map<number, Uint8Array>();
  #amount = new Map<number, number>();
  // Like the SQLite index UNIQUE (challenge, serial): the newest id per text. All-digit texts are keyed by
  // their value (a small integer hashes and compares without reading a string); others by text.
  #byDigits = new DigitsIndex();
  #byText = new Map<string, number>();

  #newest(text: string, key: number): number {
    return key < 0 ? (this.#byText.get(text) ?? 0) : this.#byDigits.get(key);
  }

  /** The new id, or 0 (nothing written) when `row.challenge` was already issued to `row.serial`. */
  insert(row: Omit<ChallengeRow, 'id'>): number {
    const key = digitsKey(row.challenge);
    const newest = this.#newest(row.challenge, key);
    for (let id = newest; id !== 0; id = this.#older[id]!) if (this.#serial[id] === row.serial) return 0;
    const id = this.#next++;
    if (id === this.#state.length) this.#grow();
    this.#issuedMs[id] = row.issuedMs;
    this.#expiresMs[id] = row.expiresMs;
    this.#attempts[id] = row.attempts;
    this.#older[id] = newest;
    this.#state[id] = states.indexOf(row.state);
    this.#purpose[id] = purposes.indexOf(row.purpose);
    this.#serial.push(row.serial);
    this.#user.push(row.user);
    if (row.sealedPayload !== null) this.#payload.set(id, row.sealedPayload);
    if (row.amountUsd !== null) this.#amount.set(id, row.amountUsd);
    if (key < 0) this.#byText.set(row.challenge, id);
    else this.#byDigits.set(key, id);
    return id;
  }

  /** Every challenge issued to `user` with this text, newest first. */
  rowsFor(user: string, text: string): ChallengeRow[] {
    const out: ChallengeRow[] = [];
    for (let id = this.#newest(text, digitsKey(text)); id !== 0; id = this.#older[id]!) {
      if (this.#user[id] !== user) continue;
      out.push({
        id, serial: this.#serial[id]!, user, challenge: text, purpose: purposes[this.#purpose[id]!]!,
        sealedPayload: this.#payload.size === 0 ? null : (this.#payload.get(id) ?? null),
        amountUsd: this.#amount.size === 0 ? null : (this.#amount.get(id) ?? null),
        issuedMs: this.#issuedMs[id]!, expiresMs: this.#expiresMs[id]!, attempts: this.#attempts[id]!, state: states[this.#state[id]!]!,
      });
    }
    return out;
  }

  update(id: number, attempts: number, state: ChallengeState): void {
    if (!Number.isSafeInteger(id) || id < 1 || id >= this.#next) throw new Error(`store: no challenge ${id}`);
    this.#attempts[id] = attempts;
    this.#state[id] = states.indexOf(state);
  }

  clear(): void {
    this.#byDigits.clear();
    this.#byText.clear();
    this.#payload.clear();
    this.#amount.clear();
    this.#serial.length = 1;
    this.#user.length = 1;
    this.#next = 1;
  }

  #grow(): void {
    const capacity = 2 * this.#state.length;
    this.#issuedMs = grown(this.#issuedMs, capacity);
    this.#expiresMs = grown(this.#expiresMs, capacity);
    this.#attempts = grown(this.#attempts, capacity);
    this.#older = grown(this.#older, capacity);
    this.#state = grown(this.#state, capacity);
    this.#purpose = grown(this.#purpose, capacity);
  }
}
