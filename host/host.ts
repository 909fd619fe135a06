/**
 * The login server's verifier: enrol devices, issue challenges, verify responses, throttle and lock guessers,
 * change a DSC+ PIN, authorize withdrawals by device limits. Every decision runs in one store transaction and
 * is written to the audit table (never with the response, PIN or secret).
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { cardSuite } from '../firmware/card-suite.ts';
import { hashPin, parseSuite, prepareOcra, timeStepAt, type OcraKey, type OcraSuite } from '../firmware/ocra/index.ts';
import { unlockCode as deriveUnlockCode } from '../firmware/unlock.ts';
import { lockCodeDigits } from '../firmware/types.ts';
import { drawChallenge, questionOf, randomBelow, type Random } from './challenge.ts';
import { bytesEqual, constantTimeEqual } from './compare.ts';
import type { DeviceRecord } from '../firmware/device-record.ts';
import { enrollRecord } from './enrol-device.ts';
import { HostError } from './errors.ts';
import { checkTempCode, codeCardCodeChars, codeCardCodes, issueCodeCard, issueTempCode, type CodeCard, type FallbackCore, type TempCode, type TempCodeCheck } from './fallbacks.ts';
import { checkName, checkPin, serialCharsMax, userCharsMax } from './validate.ts';
import { keyPathFor, loadOrCreateKeyFile } from './host-key.ts';
import { businessWindowStartMs, dayStartMs, withdrawalAllowed } from './limits.ts';
import { memoryStore } from './memory-store.ts';
import { pinChangeContext, pinContext, sealer, secretContext, type Sealer } from './seal.ts';
import { openSqliteStore, type Synchronous } from './sqlite-store.ts';
import { deviceKinds, type AuditEntry, type ChallengePurpose, type ChallengeRow, type DeviceKind, type DeviceRow, type Profile, type Store } from './store.ts';
import { defaultLockLimit, failureDelayMs, lockLimitMax } from './throttle.ts';

/** How long a challenge can be answered. */
export const challengeTtlMs = 120_000;
/** The longest validity a caller may configure: a challenge is for one login, not a session. */
export const challengeTtlMaxMs = 15 * 60_000;
/** Response attempts per challenge. */
export const attemptsPerChallengeMax = 3;
/** Counter suites: how far ahead of the stored counter a response may be (the card stepped without a login). */
export const counterLookAhead = 10;
/** Time suites: accepted steps either side of the server's (clock drift, slow typing). */
export const timeStepWindow = 1;
/** Draws before giving up on finding a challenge never issued to the device (the space is nearly used up). */
export const challengeDrawsMax = 1_000;
/** Withdrawals are whole US dollars up to this amount. */
export const amountUsdMax = 1_000_000_000_000;

export type VerifyReason =
  | 'unknown user' | 'unknown challenge' | 'expired' | 'already used' | 'attempts exhausted' | 'locked'
  | 'throttled' | 'malformed response' | 'wrong response' | 'limit exceeded';

export type VerifyResult =
  | { ok: true; serial: string; purpose: ChallengePurpose; amountUsd?: number }
  | { ok: false; reason: VerifyReason; serial?: string; retryAfterMs?: number; locked?: boolean };

export interface EnrolKeyInput {
  readonly user?: string;
  readonly serial: string;
  readonly model?: string;
  readonly profile: 'dscplus' | 'digipass';
  readonly suite: string;
  /** Wiped by the caller after `enroll` returns. */
  readonly secret: Uint8Array;
  readonly pin?: string;
  readonly checkDigit?: boolean;
  readonly kind?: DeviceKind;
  readonly counter?: number;
}

export interface DeviceInfo {
  readonly serial: string;
  readonly kind: DeviceKind;
  readonly profile: Profile;
  readonly suite: string;
  readonly model: string;
  readonly active: boolean;
  readonly locked: boolean;
  readonly failures: number;
  readonly checkDigit: boolean;
  readonly expiresMs: number | null;
  readonly users: string[];
}

export interface Issued {
  readonly challenge: string;
  readonly serial: string;
  readonly expiresAtMs: number;
  /** Security Code Card: the two card positions asked (1-based). */
  readonly indexes?: readonly [number, number];
}

export interface HostOptions {
  /** A SQLite file, or ':memory:' (the default) for the in-process memory store. Ignored when `store` is given. */
  readonly dbPath?: string;
  readonly store?: Store;
  /** 32 bytes. Default: the key file `keyPath` (default `<dbPath>.key`), created 0600 with a new database; a random key for memory. */
  readonly hostKey?: Uint8Array;
  readonly keyPath?: string;
  readonly now?: () => number;
  readonly random?: Random;
  /** Consecutive failures that lock a device (default 10, at most 100). */
  readonly lockLimit?: number;
  readonly challengeTtlMs?: number;
  readonly synchronous?: Synchronous;
}

interface Material {
  readonly keyVersion: number;
  readonly key: OcraKey;
  readonly pinHash: Uint8Array | undefined;
}

/**
 * Open the verifier.
 * @example
 * const host = openHost({ dbPath: './.dsc/host.sqlite' });
 * const { challenge } = host.challenge({ user: 'trader1' });
 * host.verify({ user: 'trader1', challenge, response: '12345678' }); // { ok: false, reason: 'wrong response' }
 * host.close();
 */
export function openHost(options: HostOptions): Host {
  const now = options.now ?? Date.now;
  const random: Random = options.random ?? pooledRandom();
  const lockLimit = options.lockLimit ?? defaultLockLimit;
  if (!Number.isSafeInteger(lockLimit) || lockLimit < 1 || lockLimit > lockLimitMax) {
    throw new RangeError(`"lockLimit" expected 1..${lockLimitMax}, got ${lockLimit}`);
  }
  const ttlMs = options.challengeTtlMs ?? challengeTtlMs;
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > challengeTtlMaxMs) throw new RangeError(`"challengeTtlMs" expected 1..${challengeTtlMaxMs}, got ${ttlMs}`);
  const dbPath = options.dbPath ?? ':memory:';
  let hostKey = options.hostKey;
  if (!hostKey) {
    // An in-memory store lives as long as the process: an ephemeral key is all it needs.
    // A new key only with a new database: a missing key file beside an existing database is an error, not a
    // reason to mint a key that cannot open anything already sealed.
    hostKey = options.store || dbPath === ':memory:' ? random(32) : loadOrCreateKeyFile(options.keyPath ?? keyPathFor(dbPath), !existsSync(dbPath));
  }
  const store = options.store ?? (dbPath === ':memory:' ? memoryStore() : openSqliteStore(dbPath, { synchronous: options.synchronous ?? 'NORMAL' }));
  return new Host(store, sealer(hostKey, random), hmacKeyFrom(hostKey), now, random, lockLimit, ttlMs);
}

/** Bytes from node's CSPRNG, drawn a few KiB at a time: one system call per ~1,000 challenges, not one each. */
export const randomPoolBytes = 4_096;
function pooledRandom(): Random {
  // Filled in place (randomFillSync), so no copy of the random bytes is left behind in a discarded buffer.
  const pool = new Uint8Array(randomPoolBytes);
  let used = randomPoolBytes;
  const reserve = (n: number): number => {
    if (used + n > randomPoolBytes) {
      randomFillSync(pool);
      used = 0;
    }
    const at = used;
    used += n;
    return at;
  };
  const bytes = (n: number): Uint8Array => {
    if (n > randomPoolBytes) return new Uint8Array(randomBytes(n));
    const at = reserve(n);
    const out = pool.slice(at, at + n);
    pool.fill(0, at, at + n); // handed-out bytes do not stay behind in the pool
    return out;
  };
  // Challenges need a 32-bit number: read it straight from the pool, without a 4-byte array per draw.
  const uint32 = (): number => {
    const at = reserve(4);
    const value = ((pool[at]! << 24) | (pool[at + 1]! << 16) | (pool[at + 2]! << 8) | pool[at + 3]!) >>> 0;
    pool.fill(0, at, at + 4);
    return value;
  };
  return Object.assign(bytes, { uint32 });
}

/** Parsed suites and response patterns by suite text: parsing is pure, and every challenge and verify needs it. */
const suiteCache = new Map<string, OcraSuite>();
function suiteOf(text: string): OcraSuite {
  let suite = suiteCache.get(text);
  if (!suite) suiteCache.set(text, (suite = parseSuite(text)));
  return suite;
}
const shapeCache = new Map<string, RegExp>();

function hmacKeyFrom(hostKey: Uint8Array): Uint8Array {
  return hmac(sha256, hostKey, utf8ToBytes('dscplus-host:temp-code-mac'));
}

export class Host {
  readonly #cache = new Map<string, Material>();

  constructor(
    readonly store: Store,
    private readonly sealer: Sealer,
    private readonly macKey: Uint8Array,
    private readonly now: () => number,
    private readonly random: Random,
    readonly lockLimit: number,
    readonly challengeTtlMs: number,
  ) {}

  #audit(entry: Omit<AuditEntry, 'atMs'>): void {
    this.#record(this.now(), entry.user, entry.serial, entry.action, entry.outcome, entry.reason);
  }

  /** The hot paths' audit call: one entry object, built once, with the time the caller already read. */
  #record(atMs: number, user: string | null, serial: string | null, action: string, outcome: AuditEntry['outcome'], reason: string | null): void {
    this.store.audit({ atMs, user, serial, action, outcome, reason });
  }

  /**
   * Enrol a card's key (from a device file, a PSKC container, or by hand) and, with `user`, assign it to that user.
   * A serial already enrolled with the same secret is only assigned (a device shared by several users).
   */
  enrollKey(input: EnrolKeyInput): DeviceInfo {
    const serial = checkName('serial', input.serial, serialCharsMax);
    const user = input.user === undefined ? undefined : checkName('user', input.user, userCharsMax);
    let suite: OcraSuite;
    try {
      suite = cardSuite(input.suite, input.profile);
    } catch (error) {
      throw new HostError('bad input', (error as Error).message, true);
    }
    if (input.pin !== undefined) checkPin('pin', input.pin);
    if (suite.pin && input.pin === undefined && input.profile === 'dscplus') {
      throw new HostError('bad input', `suite ${suite.text} mixes the PIN into the response: enrol with the PIN chosen at ordering`, true);
    }
    const kind = input.kind ?? (input.profile === 'dscplus' ? 'dscplus' : 'dsc');
    if (!(deviceKinds as readonly string[]).includes(kind)) throw new HostError('bad input', `"kind" expected one of ${deviceKinds.join(', ')}, got ${JSON.stringify(kind)}`, true);
    return this.store.transaction(() => {
      const existing = this.store.device(serial);
      if (existing) {
        const stored = this.sealer.open(secretContext(serial), existing.sealedSecret);
        const same = bytesEqual(stored, input.secret);
        stored.fill(0);
        if (!same || existing.suite !== suite.text) {
          throw new HostError('serial taken', `serial ${serial} is already enrolled with a different key or suite`, true);
        }
      } else {
        this.store.insertDevice({
          serial, model: input.model ?? 'DSC+', profile: input.profile, kind, suite: suite.text,
          checkDigit: input.checkDigit ?? false,
          sealedSecret: this.sealer.seal(secretContext(serial), input.secret),
          sealedPin: input.pin === undefined ? null : this.sealer.seal(pinContext(serial), utf8ToBytes(input.pin)),
          keyVersion: 1, counter: input.counter ?? 0, lastTimeStep: -1, failures: 0, locked: false, notBeforeMs: 0,
          expiresMs: null, enrolledMs: this.now(),
        });
      }
      if (user !== undefined) this.store.assign(user, serial, true);
      this.#audit({ user: user ?? null, serial, action: 'enroll', outcome: 'ok', reason: existing ? 'shared with another user' : null });
      return this.#info(serial, user);
    });
  }

  /**
   * Enrol a card from its device file (the parsed JSON of what `dsc provision` writes) for `user`.
   * @example
   * host.enroll({ user: 'trader1', record: JSON.parse(readFileSync('card.json', 'utf8')) });
   */
  enroll(input: { user: string; record: DeviceRecord | unknown; pin?: string; kind?: DeviceKind }): DeviceInfo {
    return enrollRecord(this, input);
  }

  /** Give an enrolled device to (another) user, or withdraw it (`active: false`). */
  assign(input: { user: string; serial: string; active?: boolean }): DeviceInfo {
    const user = checkName('user', input.user, userCharsMax);
    const serial = checkName('serial', input.serial, serialCharsMax);
    return this.store.transaction(() => {
      if (!this.store.device(serial)) throw new HostError('unknown device', `no device ${serial}`, true);
      this.store.assign(user, serial, input.active ?? true);
      this.#audit({ user, serial, action: 'assign', outcome: 'ok', reason: input.active === false ? 'deactivated' : null });
      return this.#info(serial, user);
    });
  }

  #info(serial: string, user?: string): DeviceInfo {
    const row = this.store.device(serial)!;
    const users = this.store.usersOf(serial);
    const active = user === undefined ? true : (this.store.devicesOf(user).find((d) => d.row.serial === serial)?.active ?? false);
    return {
      serial, kind: row.kind, profile: row.profile, suite: row.suite, model: row.model, active, locked: row.locked,
      failures: row.failures, checkDigit: row.checkDigit, expiresMs: row.expiresMs, users,
    };
  }

  /** The user's devices (M2FS: a user may hold several), oldest first. */
  devices(user: string): DeviceInfo[] {
    checkName('user', user, userCharsMax);
    if (!this.store.userExists(user)) throw new HostError('unknown user', `unknown user ${JSON.stringify(user)}`, true);
    return this.store.devicesOf(user).map(({ row }) => this.#info(row.serial, user));
  }

  device(serial: string): DeviceInfo {
    checkName('serial', serial, serialCharsMax);
    if (!this.store.device(serial)) throw new HostError('unknown device', `no device ${serial}`, true);
    return this.#info(serial);
  }

  #pickDevice(user: string, serial: string | undefined, usable: (row: DeviceRow) => string | null): DeviceRow {
    const devices = this.store.devicesOf(user);
    // A user is someone with an assignment (active or not): no devices at all means no such user.
    if (devices.length === 0) throw new HostError('unknown user', `unknown user ${JSON.stringify(user)}`, true);
    // The common case, one active usable device and none named: no intermediate arrays.
    if (serial === undefined && devices.length === 1 && devices[0]!.active && usable(devices[0]!.row) === null) return devices[0]!.row;
    const all = devices.filter((d) => d.active).map((d) => d.row);
    if (serial !== undefined) {
      const row = all.find((d) => d.serial === serial);
      if (!row) throw new HostError('unknown device', `user ${user} has no active device ${serial}`, true);
      const why = usable(row);
      if (why) throw new HostError(why.startsWith('locked') ? 'locked' : 'refused', `device ${serial}: ${why}`);
      return row;
    }
    const candidates = all.filter((d) => usable(d) === null);
    if (candidates.length === 1) return candidates[0]!;
    if (candidates.length === 0) {
      const reasons = all.map((d) => `${d.serial}: ${usable(d)}`).join('; ');
      throw new HostError(all.some((d) => d.locked) ? 'locked' : 'refused', `user ${user} has no usable device (${reasons || 'none active'})`);
    }
    throw new HostError('choose device', `user ${user} has ${candidates.length} devices (${candidates.map((d) => `${d.serial} ${d.kind}`).join(', ')}): choose one`, true);
  }

  #usable(row: DeviceRow, nowMs: number): string | null {
    if (row.locked) return 'locked after too many wrong responses (an administrator must unlock it)';
    if (row.expiresMs !== null && nowMs >= row.expiresMs) return 'expired';
    return null;
  }

  /** `issuedMs`: the time the caller read once for the whole call (a clock read costs about as much as a Map lookup). */
  #issue(row: DeviceRow, user: string, purpose: ChallengePurpose, issuedMs: number, extra?: { sealedPayload?: Uint8Array; amountUsd?: number }): Issued {
    for (let draw = 0; draw < challengeDrawsMax; draw++) {
      let challenge: string;
      let indexes: [number, number] | undefined;
      if (row.profile === 'code-card') {
        const first = randomBelow(this.random, codeCardCodes);
        let second = randomBelow(this.random, codeCardCodes - 1);
        if (second >= first) second++;
        indexes = [first + 1, second + 1];
        challenge = indexes.map((i) => String(i).padStart(3, '0')).join('-');
      } else {
        const suite = suiteOf(row.suite);
        challenge = drawChallenge(this.random, suite.question.lengthMax, row.checkDigit);
      }
      // Never the same challenge twice to one card (a 6-digit space repeats after ~1,200 draws by the birthday bound).
      const expiresAtMs = issuedMs + this.challengeTtlMs;
      const id = this.store.insertChallenge({
        serial: row.serial, user, challenge, purpose, sealedPayload: extra?.sealedPayload ?? null, amountUsd: extra?.amountUsd ?? null,
        issuedMs, expiresMs: expiresAtMs, attempts: 0, state: 'open',
      });
      if (id === 0) continue; // issued to this device before: draw again
      this.#record(issuedMs, user, row.serial, purpose === 'login' ? 'challenge' : purpose, 'ok', 'challenge issued');
      return indexes ? { challenge, serial: row.serial, expiresAtMs, indexes } : { challenge, serial: row.serial, expiresAtMs };
    }
    throw new HostError('challenges exhausted', `no unused challenge found for device ${row.serial} after ${challengeDrawsMax} draws: replace the device`);
  }

  /** A fresh login challenge for one of the user's devices (`serial` picks it when the user has several). */
  challenge(input: { user: string; serial?: string }): Issued {
    const user = checkName('user', input.user, userCharsMax);
    const serial = input.serial === undefined ? undefined : checkName('serial', input.serial, serialCharsMax);
    return this.store.transaction(() => {
      const nowMs = this.now();
      return this.#issue(this.#pickDevice(user, serial, (r) => this.#usable(r, nowMs)), user, 'login', nowMs);
    });
  }

  #material(row: DeviceRow): Material {
    const cached = this.#cache.get(row.serial);
    if (cached && cached.keyVersion === row.keyVersion) return cached;
    cached?.key.destroy();
    cached?.pinHash?.fill(0);
    const suite = suiteOf(row.suite);
    const secret = this.sealer.open(secretContext(row.serial), row.sealedSecret);
    let pinHash: Uint8Array | undefined;
    try {
      if (suite.pin && row.sealedPin) {
        const pin = this.sealer.open(pinContext(row.serial), row.sealedPin);
        pinHash = hashPin(suite.pin, new TextDecoder().decode(pin));
        pin.fill(0);
      }
      // The prepared key holds the keyed HMAC state, not the secret; it lives until the key changes or close().
      const material = { keyVersion: row.keyVersion, key: prepareOcra(suite, secret), pinHash };
      this.#cache.set(row.serial, material);
      return material;
    } finally {
      secret.fill(0);
    }
  }

  /** Compare `response` with every acceptable value; returns the new counter/time state on a match. */
  #check(row: DeviceRow, challenge: ChallengeRow, response: string): { counter: number; lastTimeStep: number } | null {
    if (row.profile === 'code-card') {
      const bytes = this.sealer.open(secretContext(row.serial), row.sealedSecret);
      const codes = new TextDecoder().decode(bytes);
      bytes.fill(0);
      const [a, b] = challenge.challenge.split('-').map(Number) as [number, number];
      const expected = codes.slice((a - 1) * codeCardCodeChars, a * codeCardCodeChars) + codes.slice((b - 1) * codeCardCodeChars, b * codeCardCodeChars);
      return constantTimeEqual(expected, response) ? { counter: row.counter, lastTimeStep: row.lastTimeStep } : null;
    }
    const material = this.#material(row);
    const suite = material.key.suite;
    let pinHash = material.pinHash;
    let newPinHash: Uint8Array | undefined;
    if (challenge.purpose === 'pin-change' && challenge.sealedPayload && suite.pin) {
      const pin = this.sealer.open(pinChangeContext(row.serial), challenge.sealedPayload);
      pinHash = newPinHash = hashPin(suite.pin, new TextDecoder().decode(pin));
      pin.fill(0);
    }
    try {
      const question = questionOf(challenge.challenge, row.checkDigit);
      if (!suite.counter && suite.timeStepSeconds === undefined) {
        // The DSC+ case (QN06-PSHA1): one candidate, one HMAC.
        const expected = material.key.respond(suite.pin ? { challenge: question, pinHash: pinHash ?? hashPin(suite.pin, '') } : { challenge: question });
        return constantTimeEqual(expected, response) ? { counter: row.counter, lastTimeStep: row.lastTimeStep } : null;
      }
      const counters = suite.counter ? Array.from({ length: counterLookAhead + 1 }, (_, i) => row.counter + i) : [row.counter];
      const nowStep = suite.timeStepSeconds !== undefined ? timeStepAt(suite, this.now()) : -1;
      const steps = suite.timeStepSeconds !== undefined
        ? [nowStep - timeStepWindow, nowStep, nowStep + timeStepWindow].filter((s) => s > row.lastTimeStep && s >= 0)
        : [row.lastTimeStep];
      let match: { counter: number; lastTimeStep: number } | null = null;
      // Every candidate is computed and compared: the time taken does not depend on which one matched.
      for (const counter of counters) {
        for (const step of steps) {
          const expected = material.key.respond({
            challenge: question,
            ...(suite.pin && { pinHash: pinHash ?? hashPin(suite.pin, '') }),
            ...(suite.counter && { counter }),
            ...(suite.timeStepSeconds !== undefined && { timeStep: step }),
          });
          if (constantTimeEqual(expected, response) && match === null) {
            match = { counter: suite.counter ? counter + 1 : row.counter, lastTimeStep: suite.timeStepSeconds !== undefined ? step : row.lastTimeStep };
          }
        }
      }
      return match;
    } finally {
      newPinHash?.fill(0);
    }
  }

  #responseShape(row: DeviceRow): RegExp {
    let shape = shapeCache.get(row.suite);
    if (!shape) {
      const digits = row.profile === 'code-card' ? 2 * codeCardCodeChars : suiteOf(row.suite).digits;
      shapeCache.set(row.suite, (shape = new RegExp(`^[0-9]{${digits}}$`)));
    }
    return shape;
  }

  #refuse(user: string, serial: string, reason: VerifyReason, retryAfterMs?: number): VerifyResult {
    this.#record(this.now(), user, serial, 'verify', 'refused', reason);
    return retryAfterMs === undefined ? { ok: false, reason, serial } : { ok: false, reason, serial, retryAfterMs };
  }

  /**
   * Check a response to a challenge this host issued. Atomic: the challenge is consumed and the device's
   * counters updated in the same transaction, so two verifiers racing on one challenge give one success.
   */
  verify(input: { user: string; challenge: string; response: string }): VerifyResult {
    const user = checkName('user', input.user, userCharsMax);
    if (typeof input.challenge !== 'string' || typeof input.response !== 'string') {
      throw new HostError('bad input', '"challenge" and "response" expected strings', true);
    }
    const shown = input.challenge.trim();
    const response = input.response.trim();
    return this.store.transaction((): VerifyResult => {
      const rows = this.store.challengesFor(user, shown);
      // Challenges are only issued to existing users, and assignments are never deleted: with a row in hand
      // the user exists, so the lookup is only needed to tell "unknown user" from "unknown challenge".
      if (rows.length === 0 && !this.store.userExists(user)) return { ok: false, reason: 'unknown user' };
      let challenge = rows[0];
      for (const r of rows) {
        if (r.state === 'open') {
          challenge = r;
          break;
        }
      }
      if (!challenge) {
        this.#audit({ user, serial: null, action: 'verify', outcome: 'refused', reason: 'unknown challenge' });
        return { ok: false, reason: 'unknown challenge' };
      }
      const row = this.store.device(challenge.serial)!;
      const serial = row.serial;
      if (!this.#responseShape(row).test(response)) return { ok: false, reason: 'malformed response', serial };
      const nowMs = this.now();
      if (row.locked) return this.#refuse(user, serial, 'locked');
      if (challenge.state === 'used') return this.#refuse(user, serial, 'already used');
      if (row.expiresMs !== null && nowMs >= row.expiresMs) return this.#refuse(user, serial, 'expired');
      if (challenge.state === 'exhausted') return this.#refuse(user, serial, 'attempts exhausted');
      if (challenge.state === 'expired' || nowMs >= challenge.expiresMs) {
        if (challenge.state === 'open') this.store.updateChallenge(challenge.id, challenge.attempts, 'expired');
        return this.#refuse(user, serial, 'expired');
      }
      if (nowMs < row.notBeforeMs) return this.#refuse(user, serial, 'throttled', row.notBeforeMs - nowMs);

      const match = this.#check(row, challenge, response);
      const attempts = challenge.attempts + 1;
      if (!match) {
        const failures = row.failures + 1;
        const locked = failures >= this.lockLimit;
        this.store.updateChallenge(challenge.id, attempts, attempts >= attemptsPerChallengeMax ? 'exhausted' : 'open');
        this.store.updateDeviceState(serial, { counter: row.counter, lastTimeStep: row.lastTimeStep, failures, locked, notBeforeMs: nowMs + failureDelayMs(failures) });
        this.#audit({ user, serial, action: 'verify', outcome: 'failed', reason: locked ? `wrong response; device locked after ${failures} failures` : `wrong response (${failures} consecutive)` });
        return { ok: false, reason: 'wrong response', serial, locked };
      }
      if (challenge.purpose === 'withdrawal') {
        const amount = challenge.amountUsd ?? 0;
        const allowed = withdrawalAllowed(row.kind, amount, this.store.withdrawnSince(user, dayStartMs(nowMs)), this.store.withdrawnSince(user, businessWindowStartMs(nowMs)));
        if (!allowed.ok) {
          this.store.updateChallenge(challenge.id, attempts, 'used');
          return this.#refuse(user, serial, 'limit exceeded');
        }
        this.store.insertWithdrawal(user, serial, amount, nowMs);
      }
      if (challenge.purpose === 'pin-change' && challenge.sealedPayload) {
        const pin = this.sealer.open(pinChangeContext(serial), challenge.sealedPayload);
        this.store.updateDeviceKey(serial, row.sealedSecret, this.sealer.seal(pinContext(serial), pin));
        pin.fill(0);
      }
      this.store.updateChallenge(challenge.id, attempts, 'used');
      // Only write the device row when something changed: a DSC+ login (no counter, no clock, no failures)
      // then commits two small pages instead of three.
      if (match.counter !== row.counter || match.lastTimeStep !== row.lastTimeStep || row.failures !== 0 || row.notBeforeMs !== 0) {
        this.store.updateDeviceState(serial, { counter: match.counter, lastTimeStep: match.lastTimeStep, failures: 0, locked: false, notBeforeMs: 0 });
      }
      const temp = this.store.tempCode(user);
      if (temp?.blocksNext) this.store.putTempCode({ ...temp, blocksNext: false });
      if (challenge.purpose === 'login') {
        this.#record(nowMs, user, serial, 'verify', 'ok', null);
        return { ok: true, serial, purpose: 'login' };
      }
      this.#record(nowMs, user, serial, challenge.purpose, 'ok', challenge.purpose === 'withdrawal' ? `USD ${challenge.amountUsd} authorized` : null);
      return challenge.amountUsd === null ? { ok: true, serial, purpose: challenge.purpose } : { ok: true, serial, purpose: challenge.purpose, amountUsd: challenge.amountUsd };
    });
  }

  /** Administrator unlock: clears the failure count and the lock. */
  unlock(input: { serial: string; by?: string }): DeviceInfo {
    const serial = checkName('serial', input.serial, serialCharsMax);
    return this.store.transaction(() => {
      const row = this.store.device(serial);
      if (!row) throw new HostError('unknown device', `no device ${serial}`, true);
      this.store.updateDeviceState(serial, { counter: row.counter, lastTimeStep: row.lastTimeStep, failures: 0, locked: false, notBeforeMs: 0 });
      this.#audit({ user: input.by ?? null, serial, action: 'unlock', outcome: 'ok', reason: `administrator unlock (was ${row.failures} failures${row.locked ? ', locked' : ''})` });
      return this.#info(serial);
    });
  }

  /**
   * Server-side PIN change of a DSC+ (the card never checks its PIN: it mixes it into the response). The user
   * types the new PIN twice; the answer to the returned challenge, made with the NEW PIN, commits it in `verify`.
   */
  requestPinChange(input: { user: string; serial?: string; newPin: string; confirmPin: string }): Issued {
    const user = checkName('user', input.user, userCharsMax);
    const newPin = checkPin('newPin', input.newPin);
    if (!constantTimeEqual(newPin, checkPin('confirmPin', input.confirmPin))) throw new HostError('pins differ', 'the new PIN and its confirmation differ', true);
    const serial = input.serial === undefined ? undefined : checkName('serial', input.serial, serialCharsMax);
    return this.store.transaction(() => {
      const nowMs = this.now();
      const row = this.#pickDevice(user, serial, (r) => this.#usable(r, nowMs) ?? (r.profile !== 'dscplus' || !suiteOf(r.suite).pin ? 'its PIN is not the server\'s (only a dscplus card with a P suite changes PIN on the server)' : null));
      return this.#issue(row, user, 'pin-change', nowMs, { sealedPayload: this.sealer.seal(pinChangeContext(row.serial), utf8ToBytes(newPin)) });
    });
  }

  /** The code that unlocks a PIN-locked digipass card showing `lockCode`. */
  unlockCode(input: { serial: string; lockCode: string; by?: string }): string {
    const serial = checkName('serial', input.serial, serialCharsMax);
    if (typeof input.lockCode !== 'string' || !new RegExp(`^\\d{${lockCodeDigits}}$`).test(input.lockCode)) {
      throw new HostError('bad input', `"lockCode" expected ${lockCodeDigits} digits, got ${JSON.stringify(String(input.lockCode).slice(0, 20))}`, true);
    }
    return this.store.transaction(() => {
      const row = this.store.device(serial);
      if (!row) throw new HostError('unknown device', `no device ${serial}`, true);
      if (row.profile !== 'digipass') throw new HostError('refused', `device ${serial} is a ${row.profile} card: only digipass cards lock their PIN on the card`, true);
      const secret = this.sealer.open(secretContext(serial), row.sealedSecret);
      try {
        this.#audit({ user: input.by ?? null, serial, action: 'unlock-code', outcome: 'ok', reason: 'unlock code derived' });
        return deriveUnlockCode(secret, input.lockCode);
      } finally {
        secret.fill(0);
      }
    });
  }

  /**
   * A withdrawal needs a fresh response from a device whose limits cover the amount and the user's running
   * daily and five-business-day totals; the withdrawal is recorded when that response verifies.
   */
  authorizeWithdrawal(input: { user: string; amountUsd: number; serial?: string }): Issued & { amountUsd: number } {
    const user = checkName('user', input.user, userCharsMax);
    const amountUsd = input.amountUsd;
    if (!Number.isSafeInteger(amountUsd) || amountUsd < 1 || amountUsd > amountUsdMax) {
      throw new HostError('bad input', `"amount" expected whole US dollars 1..${amountUsdMax}, got ${amountUsd}`, true);
    }
    const serial = input.serial === undefined ? undefined : checkName('serial', input.serial, serialCharsMax);
    return this.store.transaction(() => {
      const nowMs = this.now();
      const today = this.store.userExists(user) ? this.store.withdrawnSince(user, dayStartMs(nowMs)) : 0;
      const window = this.store.userExists(user) ? this.store.withdrawnSince(user, businessWindowStartMs(nowMs)) : 0;
      const row = this.#pickDevice(user, serial, (r) => {
        const usable = this.#usable(r, nowMs);
        if (usable) return usable;
        const allowed = withdrawalAllowed(r.kind, amountUsd, today, window);
        return allowed.ok ? null : allowed.reason;
      });
      return { ...this.#issue(row, user, 'withdrawal', nowMs, { amountUsd }), amountUsd };
    });
  }

  get #core(): FallbackCore {
    return { store: this.store, sealer: this.sealer, macKey: this.macKey, now: this.now, random: this.random, audit: (entry) => this.#audit(entry) };
  }

  /** Support issues a temporary code (host/fallbacks.ts): 2 days full access, then 10 days to print a card. */
  issueTempCode(input: { user: string; by?: string }): TempCode {
    return issueTempCode(this.#core, input);
  }

  /** What a temporary code allows now: `full` access, only `print-card`, or nothing. */
  checkTempCode(input: { user: string; code: string }): TempCodeCheck {
    return checkTempCode(this.#core, input);
  }

  /** An online Security Code Card (224 codes, 21 days), with a valid temporary code. */
  issueCodeCard(input: { user: string; tempCode: string }): CodeCard {
    return issueCodeCard(this.#core, input);
  }

  /** The newest audit entries, optionally for one user or device. */
  auditLog(filter: { user?: string; serial?: string; limit?: number } = {}): AuditEntry[] {
    return this.store.auditLog({ ...filter, limit: filter.limit ?? 100 });
  }

  /** Secrets of enrolled devices for export (PSKC). The caller wipes each `secret`. */
  exportKeys(serials?: readonly string[]): { serial: string; model: string; profile: Profile; suite: string; checkDigit: boolean; counter: number; secret: Uint8Array }[] {
    return this.store.transaction(() => {
      const list = serials ?? this.store.serials().filter((serial) => this.store.device(serial)!.profile !== 'code-card');
      return list.map((serial) => {
        const row = this.store.device(serial);
        if (!row) throw new HostError('unknown device', `no device ${serial}`, true);
        if (row.profile === 'code-card') throw new HostError('refused', `device ${serial} is a Security Code Card, not an OCRA key`, true);
        this.#audit({ user: null, serial, action: 'export', outcome: 'ok', reason: 'key exported' });
        return { serial, model: row.model, profile: row.profile, suite: row.suite, checkDigit: row.checkDigit, counter: row.counter, secret: this.sealer.open(secretContext(serial), row.sealedSecret) };
      });
    });
  }

  close(): void {
    for (const material of this.#cache.values()) {
      material.key.destroy();
      material.pinHash?.fill(0);
    }
    this.#cache.clear();
    this.macKey.fill(0);
    this.store.close();
  }
}
