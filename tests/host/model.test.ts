/**
 * Model-based test (fast-check commands): random sequences of logins, wrong answers, replays, waiting and
 * administrator unlocks against a model far simpler than the host — { failures, locked, used challenges,
 * open challenges with their attempts and age }. After every command the host must agree with the model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attemptsPerChallengeMax, challengeTtlMs, failureDelayMs, type LoginHost } from '../../host/index.ts';
import type { DeviceRecord } from '../../firmware/device-record.ts';
import { propertyParams } from '../support/seed.ts';
import { testHost, type Clock } from './support/clock.ts';
import { cardResponse, makeRecord } from './support/devices.ts';

const lockLimit = 4;

interface Model {
  failures: number;
  locked: boolean;
  notBeforeMs: number;
  open: { challenge: string; issuedMs: number; attempts: number }[];
  used: string[];
  /** Which situations this run reached (reported, so a weak generator shows up). */
  seen: Set<string>;
}

interface Real {
  host: LoginHost;
  clock: Clock;
  record: DeviceRecord;
}

const wrongOf = (r: string) => r.slice(0, -1) + String((Number(r.at(-1)) + 1) % 10);

class Issue implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => !m.locked;
  async run(m: Model, r: Real): Promise<void> {
    const { challenge } = await r.host.challenge({ user: 'u' });
    expect(m.used).not.toContain(challenge);
    expect(m.open.map((o) => o.challenge)).not.toContain(challenge);
    m.open.push({ challenge, issuedMs: r.clock.ms, attempts: 0 });
  }
  toString = () => 'issue';
}

class Answer implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number, readonly right: boolean) {}
  check = (m: Readonly<Model>) => m.open.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const index = this.pick % m.open.length;
    const open = m.open[index]!;
    const correct = cardResponse(r.record, open.challenge, '1234');
    const result = await r.host.verify({ user: 'u', challenge: open.challenge, response: this.right ? correct : wrongOf(correct), purpose: 'login' });
    const now = r.clock.ms;
    if (m.locked) return void expect(result).toMatchObject({ ok: false, reason: 'locked' });
    if (open.attempts >= attemptsPerChallengeMax) return void expect(result).toMatchObject({ ok: false, reason: 'attempts exhausted' });
    if (now >= open.issuedMs + challengeTtlMs) return void expect(result).toMatchObject({ ok: false, reason: 'expired' });
    if (now < m.notBeforeMs) {
      m.seen.add('throttled');
      return void expect(result).toMatchObject({ ok: false, reason: 'throttled' });
    }
    open.attempts++;
    if (this.right) {
      expect(result).toMatchObject({ ok: true });
      m.failures = 0;
      m.notBeforeMs = 0;
      m.open.splice(index, 1);
      m.used.push(open.challenge);
    } else {
      expect(result).toMatchObject({ ok: false, reason: 'wrong response' });
      m.failures++;
      m.notBeforeMs = now + failureDelayMs(m.failures);
      m.locked = m.failures >= lockLimit;
      if (m.locked) m.seen.add('locked');
    }
  }
  toString = () => `answer(${this.pick}, ${this.right ? 'right' : 'wrong'})`;
}

class Replay implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.used.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const challenge = m.used[this.pick % m.used.length]!;
    const result = await r.host.verify({ user: 'u', challenge, response: cardResponse(r.record, challenge, '1234'), purpose: 'login' });
    expect(result).toMatchObject({ ok: false, reason: m.locked ? 'locked' : 'already used' });
  }
  toString = () => `replay(${this.pick})`;
}

class Wait implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_m: Model, r: Real): Promise<void> {
    r.clock.advance(this.ms);
  }
  toString = () => `wait(${this.ms})`;
}

class Unlock implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.host.unlock({ serial: r.record.serial });
    m.failures = 0;
    m.locked = false;
    m.notBeforeMs = 0;
  }
  toString = () => 'unlock';
}

// Weighted so that runs often reach the lock (wrong answers are frequent, unlocks rare); waits land exactly
// on and 1 ms before the throttle and expiry boundaries (999 ms, 1 s, 2 s, 4 s; 120 s).
const commands = [
  fc.constant(new Issue()),
  fc.constant(new Issue()),
  fc.tuple(fc.nat(), fc.constantFrom(true, false, false, false)).map(([pick, right]) => new Answer(pick, right)),
  fc.tuple(fc.nat(), fc.constantFrom(true, false, false, false)).map(([pick, right]) => new Answer(pick, right)),
  fc.tuple(fc.nat(), fc.constantFrom(true, false, false, false)).map(([pick, right]) => new Answer(pick, right)),
  fc.nat().map((pick) => new Replay(pick)),
  fc.constantFrom(999, 1_000, 2_000, 4_000, 30_000, 120_000, 130_000).map((ms) => new Wait(ms)),
  fc.constant(new Unlock()),
];

describe('the host agrees with a simple model', () => {
  it('over random command sequences (lock holds at the limit, no replay, attempts, expiry, throttling)', async () => {
    let runs = 0;
    const reached = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 80, size: 'max' }), async (cmds) => {
        const { host, clock } = await testHost({ lockLimit });
        const record = makeRecord({ serial: 2718 });
        await host.enroll({ user: 'u', record });
        const model: Model = { failures: 0, locked: false, notBeforeMs: 0, open: [], used: [], seen: new Set() };
        await fc.asyncModelRun(() => ({ model, real: { host, clock, record } }), cmds);
        runs++;
        for (const situation of model.seen) reached.set(situation, (reached.get(situation) ?? 0) + 1);
        expect((await host.devices('u'))[0]).toMatchObject({ failures: model.failures, locked: model.locked });
        await host.close();
      }),
      propertyParams(400),
    );
    console.log(`model runs ${runs}; reached: ${[...reached].map(([k, v]) => `${k} in ${v}`).join(', ')}`);
    // The generator must actually reach the lock and the throttle, or this test proves little.
    expect(reached.get('locked') ?? 0).toBeGreaterThan(runs / 40);
    expect(reached.get('throttled') ?? 0).toBeGreaterThan(runs / 40);
  });
});
