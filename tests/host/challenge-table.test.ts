// The memory store's columnar challenge table against the plainest possible model (an array of rows):
// random inserts, updates and look-ups over enough rows to force every growth of the columns and of the
// open-addressing index, with short, 10+ digit and non-digit texts. Seed printed; replay with FC_SEED.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChallengeTable, digitsKey } from '../../host/_challenge-table.ts';
import type { ChallengeRow, ChallengeState } from '../../host/store.ts';
import { propertyParams } from '../support/seed.ts';

const states: ChallengeState[] = ['open', 'used', 'exhausted', 'expired'];

/** Texts drawn from a small pool so that the same text recurs across serials and users. */
const text = fc.oneof(
  fc.integer({ min: 0, max: 40 }).map((n) => String(n).padStart(6, '0')), // 6-digit, leading zeros included
  fc.integer({ min: 0, max: 5 }).map((n) => `1234567890${n}`), // 11 digits: above the 2^31 index range
  fc.integer({ min: 0, max: 5 }).map((n) => `12345678901234567${n}`), // 18 digits: not a safe digits key
  fc.constantFrom('12a456', 'CLI22220', ''),
);
const serial = fc.constantFrom('100001', '100002', '100003');
const user = fc.constantFrom('alice', 'bob');

type Op =
  | { type: 'insert'; serial: string; user: string; challenge: string; amount: number | null; payload: boolean }
  | { type: 'update'; pick: number; attempts: number; state: ChallengeState }
  | { type: 'bulk'; count: number; start: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ type: fc.constant('insert' as const), serial, user, challenge: text, amount: fc.option(fc.nat(), { nil: null }), payload: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('update' as const), pick: fc.nat(), attempts: fc.integer({ min: 0, max: 3 }), state: fc.constantFrom(...states) }) },
  // Many distinct challenges at once: pushes the table past its 1,024-row and 1,024-slot initial sizes.
  { weight: 1, arbitrary: fc.record({ type: fc.constant('bulk' as const), count: fc.integer({ min: 200, max: 1_500 }), start: fc.integer({ min: 100_000, max: 900_000 }) }) },
);

describe('memory store challenge table', () => {
  it('agrees with an array of rows on every insert, duplicate refusal, update and look-up', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const table = new ChallengeTable();
        const model: ChallengeRow[] = [];
        const insert = (row: Omit<ChallengeRow, 'id'>) => {
          const duplicate = model.some((r) => r.challenge === row.challenge && r.serial === row.serial);
          const id = table.insert(row);
          if (duplicate) expect(id).toBe(0);
          else {
            expect(id).toBe(model.length + 1);
            model.push({ ...row, id });
          }
        };
        for (const o of ops) {
          if (o.type === 'insert') {
            insert({ serial: o.serial, user: o.user, challenge: o.challenge, purpose: o.amount === null ? 'login' : 'withdrawal', sealedPayload: o.payload ? new Uint8Array([1, 2, 3]) : null, amountUsd: o.amount, issuedMs: model.length, expiresMs: model.length + 120_000, attempts: 0, state: 'open' });
          } else if (o.type === 'bulk') {
            for (let i = 0; i < o.count; i++) {
              insert({ serial: '100001', user: 'carol', challenge: String(o.start + i), purpose: 'login', sealedPayload: null, amountUsd: null, issuedMs: i, expiresMs: i + 1, attempts: 0, state: 'open' });
            }
          } else if (model.length > 0) {
            const row = model[o.pick % model.length]!;
            table.update(row.id, o.attempts, o.state);
            model[row.id - 1] = { ...row, attempts: o.attempts, state: o.state };
          }
        }
        // Every (user, text) pair of the small pools, every 50th bulk row and two unknown pairs read back newest first.
        const byPair = new Map<string, ChallengeRow[]>();
        for (const r of model) byPair.set(`${r.user}\u0000${r.challenge}`, [r, ...(byPair.get(`${r.user}\u0000${r.challenge}`) ?? [])]);
        const pairs = [...byPair.keys()].filter((pair, i) => !pair.startsWith('carol') || i % 50 === 0);
        pairs.push('alice\u0000999999', 'nobody\u0000000001');
        for (const pair of pairs) {
          const [u, t] = pair.split('\u0000') as [string, string];
          expect(table.rowsFor(u, t)).toEqual(byPair.get(pair) ?? []);
        }
      }),
      propertyParams(150),
    );
  });

  it('keys digit texts so that leading zeros matter and anything else stays out of the numeric index', () => {
    expect(digitsKey('012')).not.toBe(digitsKey('12'));
    expect(digitsKey('123456')).toBe(1_123_456);
    for (const t of ['', '12a', '1234567890123456', ' 1']) expect(digitsKey(t)).toBe(-1);
  });

  it('refuses to update a challenge it never issued', () => {
    const table = new ChallengeTable();
    expect(() => table.update(1, 0, 'used')).toThrow(/no challenge 1/);
  });
});
