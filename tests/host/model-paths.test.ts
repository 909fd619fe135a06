/**
 * Model test over every path of the verifier: random sequences of password logins (right and
 * wrong), administrator challenges, answers (right, wrong, offered under another user or for another
 * purpose), PIN changes and withdrawals (with and without a session), temporary codes (issued, right, wrong),
 * administrator unlocks and time passing, over two accounts with two devices each. After every step:
 * - no wrong value (response, password, temporary code) is ever accepted;
 * - no answer is accepted for another purpose, user or device;
 * - a PIN change or a withdrawal without a live session of that user is refused;
 * - an account never gets more than `lockLimit` consecutive wrong guesses (of any factor) before it locks.
 * Seed printed; replay with FC_SEED.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../firmware/device-record.ts';
import { HostError, sessionTtlMs, type LoginHost } from '../../host/index.ts';
import { propertyParams } from '../support/seed.ts';
import { testHost, type Clock } from './support/clock.ts';
import { cardResponse, makeRecord } from './support/devices.ts';

const lockLimit = 5;
const users = ['ann', 'bob'] as const;
type User = (typeof users)[number];
const passwords: Record<User, string> = { ann: 'ann password 1', bob: 'bob password 2' };
const pins = ['4731', '5820', '6093', '7164'];

type Action =
  | { type: 'login'; user: number; right: boolean; device: number }
  | { type: 'challenge'; user: number; device: number }
  | { type: 'answer'; pick: number; how: 'right' | 'wrong' | 'other user' | 'other purpose' | 'other device' }
  | { type: 'pin-change'; user: number; session: 'own' | 'none' | 'other user'; pin: number }
  | { type: 'withdraw'; user: number; session: 'own' | 'none' | 'other user'; amount: number }
  | { type: 'temp-issue'; user: number }
  | { type: 'temp-check'; user: number; right: boolean }
  | { type: 'unlock'; user: number }
  | { type: 'wait'; ms: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('login' as const), user: fc.nat(1), right: fc.boolean(), device: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('challenge' as const), user: fc.nat(1), device: fc.nat(1) }) },
  { weight: 5, arbitrary: fc.record({ type: fc.constant('answer' as const), pick: fc.nat(), how: fc.constantFrom('right' as const, 'right' as const, 'right' as const, 'wrong' as const, 'wrong' as const, 'other user' as const, 'other purpose' as const, 'other device' as const) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('pin-change' as const), user: fc.nat(1), session: fc.constantFrom('own' as const, 'own' as const, 'none' as const, 'other user' as const), pin: fc.nat(pins.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('withdraw' as const), user: fc.nat(1), session: fc.constantFrom('own' as const, 'own' as const, 'none' as const, 'other user' as const), amount: fc.integer({ min: 1, max: 300_000 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('temp-issue' as const), user: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('temp-check' as const), user: fc.nat(1), right: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('unlock' as const), user: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('wait' as const), ms: fc.constantFrom(1_000, 8_000, 60_000, 300_000, sessionTtlMs) }) },
);

interface Open {
  readonly user: User;
  readonly serial: string;
  readonly challenge: string;
  readonly purpose: 'login' | 'pin-change' | 'withdrawal';
  /** For a PIN change: the new PIN the right answer uses. */
  readonly newPin?: string;
}

interface World {
  host: LoginHost;
  clock: Clock;
  cards: Record<User, DeviceRecord[]>;
  /** The PIN each card's server record holds now. */
  pin: Map<string, string>;
  open: Open[];
  session: Partial<Record<User, string>>;
  temp: Partial<Record<User, string>>;
  /** Consecutive wrong guesses the host reported per account since its last completed login or unlock. */
  guesses: Record<User, number>;
  seen: Set<string>;
}

const wrongOf = (r: string) => r.slice(0, -1) + String((Number(r.at(-1)) + 1) % 10);
const guessReasons = new Set(['wrong response', 'wrong password', 'wrong code', 'wrong purpose']);

function counted(w: World, user: User, result: { ok: boolean; reason?: string }): void {
  if (result.ok) return;
  if (guessReasons.has(result.reason!)) {
    w.guesses[user]++;
    w.seen.add('guess');
    // The property: never more wrong guesses in a row than the limit.
    expect(w.guesses[user], `${user}: consecutive wrong guesses`).toBeLessThanOrEqual(lockLimit);
    if (w.guesses[user] === lockLimit) w.seen.add('account at the limit');
  }
  if (result.reason === 'locked') w.seen.add('locked');
}

/** Run `fn`; a HostError (a refusal thrown, e.g. locked, rate or session) comes back as its reason. */
async function attempt<T>(fn: () => Promise<T>): Promise<T | { ok: false; reason: string; thrown: true }> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof HostError) return { ok: false, reason: error.reason, thrown: true };
    throw error;
  }
}

async function step(w: World, a: Action): Promise<void> {
  const { host } = w;
  switch (a.type) {
    case 'login': {
      const user = users[a.user]!;
      const result = await attempt(() => host.login({ user, password: a.right ? passwords[user] : `${passwords[user]}!`, serial: w.cards[user][a.device]!.serial }));
      if (!a.right) expect(result.ok, 'a wrong password accepted').toBe(false);
      counted(w, user, result as { ok: boolean; reason?: string });
      if (result.ok && 'issued' in result) w.open.push({ user, serial: result.issued.serial, challenge: result.issued.challenge, purpose: 'login' });
      return;
    }
    case 'challenge': {
      const user = users[a.user]!;
      const result = await attempt(() => host.challenge({ user, serial: w.cards[user][a.device]!.serial }));
      if ('challenge' in result) w.open.push({ user, serial: result.serial, challenge: result.challenge, purpose: 'login' });
      return;
    }
    case 'answer': {
      if (w.open.length === 0) return;
      const open = w.open[a.pick % w.open.length]!;
      const card = w.cards[open.user].find((c) => c.serial === open.serial)!;
      const right = cardResponse(card, open.challenge, open.newPin ?? w.pin.get(open.serial)!);
      const otherUser = users.find((u) => u !== open.user)!;
      const user = a.how === 'other user' ? otherUser : open.user;
      const purpose = a.how === 'other purpose' ? (open.purpose === 'login' ? 'withdrawal' : 'login') : open.purpose;
      const otherCard = w.cards[open.user].find((c) => c.serial !== open.serial)!;
      const response = a.how === 'wrong' ? wrongOf(right) : a.how === 'other device' ? cardResponse(otherCard, open.challenge, w.pin.get(otherCard.serial)!) : right;
      const result = await host.verify({ user, challenge: open.challenge, response, purpose });
      if (a.how !== 'right') expect(result.ok, `accepted: ${a.how}`).toBe(false);
      counted(w, user, result);
      if (result.ok) {
        w.seen.add(`ok ${open.purpose}`);
        expect(result.purpose).toBe(open.purpose);
        expect(result.serial).toBe(open.serial);
        w.guesses[open.user] = 0;
        if (result.session) w.session[open.user] = result.session.token;
        if (open.purpose === 'pin-change') w.pin.set(open.serial, open.newPin!);
        w.open = w.open.filter((o) => o !== open);
      }
      return;
    }
    case 'pin-change':
    case 'withdraw': {
      const user = users[a.user]!;
      const other = users.find((u) => u !== user)!;
      const session = a.session === 'own' ? w.session[user] : a.session === 'other user' ? w.session[other] : undefined;
      const result = await attempt(() =>
        a.type === 'pin-change'
          ? host.requestPinChange({ user, session: session ?? '', newPin: pins[a.pin]!, confirmPin: pins[a.pin]! })
          : host.authorizeWithdrawal({ user, session: session ?? '', amountUsd: a.amount, serial: w.cards[user][0]!.serial }));
      if (a.session !== 'own' || session === undefined) {
        expect('challenge' in result, `${a.type} without a session of ${user}`).toBe(false);
        expect((result as { reason: string }).reason).toBe('no session');
      }
      if ('challenge' in result) {
        w.seen.add(`issued ${a.type}`);
        w.open.push({ user, serial: result.serial, challenge: result.challenge, purpose: a.type === 'pin-change' ? 'pin-change' : 'withdrawal', ...(a.type === 'pin-change' && { newPin: pins[a.pin]! }) });
      }
      return;
    }
    case 'temp-issue': {
      const user = users[a.user]!;
      const result = await attempt(() => host.issueTempCode({ user }));
      if ('code' in result) w.temp[user] = result.code;
      return;
    }
    case 'temp-check': {
      const user = users[a.user]!;
      const code = w.temp[user];
      if (code === undefined) return;
      const result = await host.checkTempCode({ user, code: a.right ? code : 'ZZZZZZZZZZ' });
      if (!a.right) expect(result.ok, 'a wrong temporary code accepted').toBe(false);
      counted(w, user, result);
      if (result.ok) w.guesses[user] = 0;
      return;
    }
    case 'unlock': {
      const user = users[a.user]!;
      await host.unlock({ user });
      w.guesses[user] = 0;
      return;
    }
    case 'wait':
      w.clock.advance(a.ms);
      return;
  }
}

describe('every path of the verifier against a model', () => {
  it('no wrong value, purpose, user or device is accepted; sessions are required; at most the lock limit of guesses per account', async () => {
    const reached = new Map<string, number>();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 20, maxLength: 120 }), async (actions) => {
        const { host, clock } = await testHost({ lockLimit });
        const cards = {
          ann: [makeRecord({ serial: 1, pin: '1357' }), makeRecord({ serial: 2, profile: 'digipass' })],
          bob: [makeRecord({ serial: 3, pin: '2468' }), makeRecord({ serial: 4, profile: 'digipass', secret: new Uint8Array(20).fill(4) })],
        } satisfies Record<User, DeviceRecord[]>;
        const pin = new Map<string, string>();
        for (const user of users) {
          for (const card of cards[user]) {
            await host.enroll({ user, record: card, ...(card.profile === 'digipass' && { kind: 'dsc' as const }) });
            pin.set(card.serial, card.serial === '1' ? '1357' : card.serial === '3' ? '2468' : '1234');
          }
          await host.setPassword({ user, password: passwords[user] });
        }
        const world: World = { host, clock, cards, pin, open: [], session: {}, temp: {}, guesses: { ann: 0, bob: 0 }, seen: new Set() };
        for (const a of actions) await step(world, a);
        await host.close();
        runs++;
        for (const s of world.seen) reached.set(s, (reached.get(s) ?? 0) + 1);
      }),
      propertyParams(250),
    );
    console.log(`model-paths runs ${runs}; reached: ${[...reached].map(([k, v]) => `${k} in ${v}`).join(', ')}`);
    // The generator must reach the interesting states, or the properties prove little.
    for (const s of ['guess', 'account at the limit', 'locked', 'ok login', 'issued pin-change', 'ok pin-change', 'issued withdraw', 'ok withdrawal']) {
      expect(reached.get(s) ?? 0, `runs reaching ${s}`).toBeGreaterThan(0);
    }
  });
});
