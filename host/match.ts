/**
 * Response matching: every value a device could show for a challenge (counter look-ahead, time-step window,
 * the PIN mixed in), compared in constant time by the engine's one matcher (firmware/ocra/match.ts) with the
 * login server's window; the code card's two codes are looked up here. The unsealed keys are cached per serial while the host is open.
 */
import { hashPin, matchResponse as matchOcraResponse, prepareOcra, timeStepAt, type MatchWindow, type OcraKey } from '../firmware/ocra/index.ts';
import { questionOf } from './challenge.ts';
import { equalStrings } from '../firmware/compare.ts';
import { suiteOf } from './suites.ts';
import { codeCardCodeChars } from './code-card.ts';
import { pinChangeContext, pinContext, secretContext, type Sealer } from './seal.ts';
import type { ChallengeRow, DeviceRow } from './store.ts';

/** Counter suites: how far ahead of the stored counter a response may be (the card stepped without a login). */
export const counterLookAhead = 10;
/**
 * The largest counter a device may be enrolled with: the look-ahead and the next counter stay safe integers
 * (a counter past 2^53 from a PSKC file would otherwise make every later verification throw).
 */
export const counterMax = Number.MAX_SAFE_INTEGER - counterLookAhead - 1;
/** Time suites: accepted steps either side of the server's (clock drift, slow typing). */
export const timeStepWindow = 1;
/** The login server's window for the engine's matcher: narrow, since each candidate is a guess it grants. */
const hostWindow: MatchWindow = { counterLookAhead, timeStepWindow };

/** One decoder for every unsealed PIN and code card (a fresh one per miss was measurable). */
const utf8 = new TextDecoder();

interface Material {
  readonly keyVersion: number;
  readonly key: OcraKey;
  readonly pinHash: Uint8Array | undefined;
}

/**
 * Devices whose prepared keys stay cached at most: a long-lived verifier (dsc host serve) would otherwise keep
 * one entry (a few KiB of HMAC state) for every device that ever logged in, without bound. A miss costs two
 * unseals and a key preparation; the bound keeps the cache to tens of MiB.
 */
export const materialCacheEntriesMax = 20_000;

/**
 * Prepared keys (keyed HMAC states, not secrets) by serial, least recently used first out; stale entries are
 * replaced when the key changes.
 */
export class MaterialCache {
  readonly #cache = new Map<string, Material>();

  constructor(private readonly sealer: Sealer, private readonly entriesMax = materialCacheEntriesMax) {
    if (!Number.isSafeInteger(entriesMax) || entriesMax < 1) throw new RangeError(`"entriesMax" expected a positive integer, got ${entriesMax}`);
  }

  get size(): number {
    return this.#cache.size;
  }

  of(row: DeviceRow): Material {
    const cached = this.#cache.get(row.serial);
    // A Map keeps insertion order: moving a hit to the end makes the first entry the least recently used.
    this.#cache.delete(row.serial);
    if (cached && cached.keyVersion === row.keyVersion) {
      this.#cache.set(row.serial, cached);
      return cached;
    }
    cached?.key.destroy();
    cached?.pinHash?.fill(0);
    if (this.#cache.size >= this.entriesMax) {
      const [oldest, evicted] = this.#cache.entries().next().value!;
      this.#cache.delete(oldest);
      evicted.key.destroy();
      evicted.pinHash?.fill(0);
    }
    const suite = suiteOf(row.suite);
    const secret = this.sealer.open(secretContext(row.serial), row.sealedSecret);
    let pinHash: Uint8Array | undefined;
    try {
      if (suite.pin && row.sealedPin) {
        const pin = this.sealer.open(pinContext(row.serial), row.sealedPin);
        pinHash = hashPin(suite.pin, utf8.decode(pin));
        pin.fill(0);
      }
      const material = { keyVersion: row.keyVersion, key: prepareOcra(suite, secret), pinHash };
      this.#cache.set(row.serial, material);
      return material;
    } finally {
      secret.fill(0);
    }
  }

  clear(): void {
    for (const material of this.#cache.values()) {
      material.key.destroy();
      material.pinHash?.fill(0);
    }
    this.#cache.clear();
  }
}

const shapeCache = new Map<string, RegExp>();
/** The digits a device of this row shows: a response of any other shape is malformed, not wrong. */
export function responseShape(row: DeviceRow): RegExp {
  let shape = shapeCache.get(row.suite);
  if (!shape) {
    const digits = row.profile === 'code-card' ? 2 * codeCardCodeChars : suiteOf(row.suite).digits;
    shapeCache.set(row.suite, (shape = new RegExp(`^[0-9]{${digits}}$`)));
  }
  return shape;
}

export interface MatchState {
  readonly counter: number;
  readonly lastTimeStep: number;
}

/** Compare `response` with every acceptable value; returns the new counter/time state on a match, else null. */
export function matchResponse(sealer: Sealer, materials: MaterialCache, nowMs: number, row: DeviceRow, challenge: ChallengeRow, response: string): MatchState | null {
  if (row.profile === 'code-card') {
    const bytes = sealer.open(secretContext(row.serial), row.sealedSecret);
    const codes = utf8.decode(bytes);
    bytes.fill(0);
    const [a, b] = challenge.challenge.split('-').map(Number) as [number, number];
    const expected = codes.slice((a - 1) * codeCardCodeChars, a * codeCardCodeChars) + codes.slice((b - 1) * codeCardCodeChars, b * codeCardCodeChars);
    return equalStrings(expected, response) ? { counter: row.counter, lastTimeStep: row.lastTimeStep } : null;
  }
  const material = materials.of(row);
  const suite = material.key.suite;
  let pinHash = material.pinHash;
  let newPinHash: Uint8Array | undefined;
  if (challenge.purpose === 'pin-change' && challenge.sealedPayload && suite.pin) {
    const pin = sealer.open(pinChangeContext(row.serial), challenge.sealedPayload);
    pinHash = newPinHash = hashPin(suite.pin, utf8.decode(pin));
    pin.fill(0);
  }
  try {
    const base = { challenge: questionOf(challenge.challenge, row.checkDigit), ...(suite.pin && { pinHash: pinHash ?? hashPin(suite.pin, '') }) };
    // The same step as the last login is fine (afterStep is the one before it): each challenge is fresh and
    // answers once, which is what makes a response unique (requiring a later step would refuse an honest second
    // login within the same step).
    const at = { counter: row.counter, afterStep: row.lastTimeStep - 1, ...(suite.timeStepSeconds !== undefined && { nowStep: timeStepAt(suite, nowMs) }) };
    const match = matchOcraResponse(material.key, base, response, at, hostWindow);
    if (match === null) return null;
    return { counter: match.counter !== undefined ? match.counter + 1 : row.counter, lastTimeStep: match.timeStep ?? row.lastTimeStep };
  } finally {
    newPinHash?.fill(0);
  }
}
