/**
 * The store contract: the same cases against every `Store` (host/store.ts), so the verifier means the same on
 * each. Every case gets a store of its own (a new PostgreSQL database each), so cases and files run in parallel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryStore } from '../../host/memory-store.ts';
import { openPgStore } from '../../host/pg-store.ts';
import { openSqliteStore } from '../../host/sqlite-store.ts';
import type { DeviceRow, Store, StoreTx } from '../../host/store.ts';
import { postgresSkipReason, testDatabase, testPostgres, type TestPostgres } from '../support/postgres.ts';

interface StoreUnderTest {
  readonly name: string;
  readonly skip: string | null;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  open(): Promise<{ store: Store; dispose(): Promise<void> }>;
}

let server: TestPostgres | undefined;
const dir = mkdtempSync(join(tmpdir(), 'dsc-store-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const stores: StoreUnderTest[] = [
  {
    name: 'memory',
    skip: null,
    async open() {
      const store = memoryStore();
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: 'SQLite',
    skip: null,
    async open() {
      const store = openSqliteStore(join(dir, `contract-${files++}.sqlite`));
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: 'PostgreSQL',
    skip: postgresSkipReason,
    async setup() {
      server = await testPostgres();
    },
    async teardown() {
      server?.stop();
    },
    async open() {
      const db = await testDatabase(server!);
      const store = await openPgStore(db.url);
      return {
        store,
        async dispose() {
          await store.close();
          await db.drop();
        },
      };
    },
  },
];

/**
 * Rows as plain values: SQLite gives bytes as Buffers, PostgreSQL and memory as Uint8Arrays; both are
 * Uint8Arrays, which is all the interface promises, but deep equality tells the classes apart.
 */
function plain<T>(value: T): T {
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  if (Array.isArray(value)) return value.map(plain) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])) as T;
  return value;
}

/** The transaction's handle with every result made `plain`. */
function plainTx(tx: StoreTx): StoreTx {
  return new Proxy(tx, {
    get: (target, name) => async (...args: unknown[]) => plain(await (target[name as keyof StoreTx] as (...a: unknown[]) => Promise<unknown>)(...args)),
  });
}

const t0 = 1_764_000_000_000; // a millisecond time past 2^32, as real ones are

function device(serial: string, over: Partial<DeviceRow> = {}): DeviceRow {
  return {
    serial, model: 'DSC+', profile: 'dscplus', kind: 'dscplus', suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', checkDigit: true,
    sealedSecret: new Uint8Array([1, 2, 3, serial.length]), sealedPin: new Uint8Array([9, 8]), keyVersion: 1, counter: 0,
    lastTimeStep: -1, failures: 0, locked: false, notBeforeMs: 0, expiresMs: null, enrolledMs: t0, ...over,
  };
}

const challenge = (serial: string, user: string, text: string, issuedMs = t0) => ({
  serial, user, challenge: text, purpose: 'login' as const, sealedPayload: null, amountUsd: null,
  issuedMs, expiresMs: issuedMs + 120_000, attempts: 0, state: 'open' as const,
});

for (const kind of stores) {
  describe.skipIf(kind.skip !== null)(`store contract: ${kind.name}`, () => {
    beforeAll(async () => kind.setup?.());
    afterAll(async () => kind.teardown?.());

    /** Run `body` with a fresh store; `tx(fn)` is one transaction. */
    const withStore = (body: (tx: <T>(fn: (t: StoreTx) => Promise<T>) => Promise<T>, store: Store) => Promise<void>) => async () => {
      const { store, dispose } = await kind.open();
      try {
        await body((fn) => store.transaction((t) => fn(plainTx(t))), store);
      } finally {
        await dispose();
      }
    };

    it('starts empty', withStore(async (tx) => {
      await tx(async (t) => {
        expect(await t.serials()).toEqual([]);
        expect(await t.device('1')).toBeUndefined();
        expect(await t.account('u')).toBeUndefined();
        expect(await t.meta('k')).toBeUndefined();
        expect(await t.userExists('u')).toBe(false);
        expect(await t.auditLog({ limit: 10 })).toEqual([]);
        expect(await t.withdrawnSince('u', 0)).toBe(0);
      });
    }));

    it('gives a device back as written: bytes as Uint8Array, times and counters as numbers, booleans, nulls', withStore(async (tx, store) => {
      const a = device('1001', { counter: 2 ** 40, lastTimeStep: 58_800_000, notBeforeMs: t0 + 5, expiresMs: t0 + 21 * 86_400_000, locked: true, failures: 3 });
      const b = device('1002', { sealedPin: null, checkDigit: false, kind: 'gold', profile: 'digipass' });
      await tx(async (t) => {
        await t.insertDevice(a);
        await t.insertDevice(b);
      });
      const [gotA, gotB] = await tx(async (t) => [await t.device('1001'), await t.device('1002')]);
      expect(gotA).toEqual(a);
      expect(gotB).toEqual(b);
      expect(await store.transaction(async (t) => (await t.device('1001'))!.sealedSecret)).toBeInstanceOf(Uint8Array);
      expect(typeof gotA!.counter).toBe('number');
    }));

    it('orders serials by enrolment time, then byte order (not the locale\'s)', withStore(async (tx) => {
      await tx(async (t) => {
        for (const serial of ['a', 'B', '9', '10']) await t.insertDevice(device(serial));
        await t.insertDevice(device('0', { enrolledMs: t0 + 1 }));
      });
      expect(await tx((t) => t.serials())).toEqual(['10', '9', 'B', 'a', '0']);
    }));

    it('updates device state and key; the key version counts up', withStore(async (tx) => {
      await tx((t) => t.insertDevice(device('1')));
      await tx(async (t) => {
        await t.updateDeviceState('1', { counter: 7, lastTimeStep: 12, failures: 2, locked: true, notBeforeMs: t0 + 9 });
        await t.updateDeviceKey('1', new Uint8Array([5, 5]), null);
      });
      const row = await tx(async (t) => t.device('1'));
      expect(row).toEqual(device('1', { counter: 7, lastTimeStep: 12, failures: 2, locked: true, notBeforeMs: t0 + 9, sealedSecret: new Uint8Array([5, 5]), sealedPin: null, keyVersion: 2 }));
    }));

    it('assigns devices to users: active flags, orders, re-assigning changes the flag only', withStore(async (tx) => {
      await tx(async (t) => {
        await t.insertDevice(device('2', { enrolledMs: t0 + 1 }));
        await t.insertDevice(device('1'));
        await t.assign('zoe', '1', true);
        await t.assign('adam', '1', true);
        await t.assign('Zed', '1', true);
        await t.assign('zoe', '2', true);
        await t.assign('zoe', '2', false);
      });
      await tx(async (t) => {
        expect((await t.devicesOf('zoe')).map((d) => [d.row.serial, d.active])).toEqual([['1', true], ['2', false]]);
        expect(await t.usersOf('1')).toEqual(['Zed', 'adam', 'zoe']);
        expect([await t.activeAssignment('zoe', '1'), await t.activeAssignment('zoe', '2'), await t.activeAssignment('eve', '1'), await t.activeAssignment('zoe', '3')]).toEqual([true, false, false, false]);
        expect(await t.userExists('zoe')).toBe(true);
        expect(await t.userExists('eve')).toBe(false);
      });
    }));

    it('issues a challenge text once per device (0 and nothing written the second time); newest first per user', withStore(async (tx) => {
      await tx(async (t) => {
        await t.insertDevice(device('1'));
        await t.insertDevice(device('2'));
      });
      const ids = await tx(async (t) => [
        await t.insertChallenge(challenge('1', 'u', '123456')),
        await t.insertChallenge(challenge('1', 'u', '123456', t0 + 1)),
        await t.insertChallenge(challenge('2', 'u', '123456', t0 + 2)),
        await t.insertChallenge(challenge('1', 'v', '123456', t0 + 3)),
      ]);
      expect(ids[0]).toBeGreaterThan(0);
      expect(ids[1]).toBe(0);
      expect(ids[2]).toBeGreaterThan(ids[0]!);
      expect(ids[3]).toBe(0);
      const rows = await tx((t) => t.challengesFor('u', '123456'));
      expect(rows.map((r) => [r.id, r.serial, r.issuedMs])).toEqual([[ids[2], '2', t0 + 2], [ids[0], '1', t0]]);
      expect(rows[1]).toEqual({ id: ids[0], ...challenge('1', 'u', '123456') });
      await tx((t) => t.updateChallenge(ids[0]!, 2, 'used'));
      const after = await tx((t) => t.challengesFor('u', '123456'));
      expect(after[1]).toMatchObject({ attempts: 2, state: 'used' });
      expect(await tx((t) => t.challengesFor('v', '123456'))).toEqual([]);
    }));

    it('keeps a challenge\'s payload and amount', withStore(async (tx) => {
      await tx((t) => t.insertDevice(device('1')));
      const row = { ...challenge('1', 'u', '654321'), purpose: 'withdrawal' as const, amountUsd: 25_000, sealedPayload: new Uint8Array([4, 2]) };
      const id = await tx((t) => t.insertChallenge(row));
      expect(await tx((t) => t.challengesFor('u', '654321'))).toEqual([{ ...row, id }]);
    }));

    it('prunes, among the oldest rows it is given, only challenges that expired before the given time', withStore(async (tx) => {
      await tx(async (t) => {
        await t.insertDevice(device('1'));
        await t.insertChallenge({ ...challenge('1', 'u', '000001'), expiresMs: t0 + 10 });
        await t.insertChallenge({ ...challenge('1', 'u', '000002'), expiresMs: t0 + 20 });
        await t.insertChallenge({ ...challenge('1', 'u', '000003'), expiresMs: t0 + 5 });
        await t.pruneChallenges(t0 + 20, 2);
      });
      const left = async () => (await Promise.all(['000001', '000002', '000003'].map((c) => tx((t) => t.challengesFor('u', c))))).map((rows) => rows.length);
      // Ids below the oldest + 2 were looked at: the first had expired; the third, though expired, was past the bound.
      expect(await left()).toEqual([0, 1, 1]);
      await tx((t) => t.pruneChallenges(t0 + 20, 10));
      expect(await left()).toEqual([0, 1, 0]);
    }));

    it('keeps the audit newest first, filtered by user or serial, up to a limit', withStore(async (tx) => {
      await tx(async (t) => {
        await t.audit({ atMs: t0, user: 'u', serial: '1', action: 'verify', outcome: 'ok', reason: null });
        await t.audit({ atMs: t0 + 1, user: 'v', serial: '2', action: 'verify', outcome: 'failed', reason: 'wrong response' });
        await t.audit({ atMs: t0 + 2, user: null, serial: null, action: 'import', outcome: 'refused', reason: 'x' });
      });
      await tx(async (t) => {
        expect((await t.auditLog({ limit: 10 })).map((e) => e.atMs)).toEqual([t0 + 2, t0 + 1, t0]);
        expect((await t.auditLog({ limit: 2 })).map((e) => e.atMs)).toEqual([t0 + 2, t0 + 1]);
        expect(await t.auditLog({ user: 'v', limit: 10 })).toEqual([{ atMs: t0 + 1, user: 'v', serial: '2', action: 'verify', outcome: 'failed', reason: 'wrong response' }]);
        expect((await t.auditLog({ serial: '1', limit: 10 })).map((e) => e.user)).toEqual(['u']);
      });
    }));

    it('prunes, among the oldest audit entries it is given, only those stamped before the given time; a throw undoes it', withStore(async (tx) => {
      const entry = (atMs: number) => ({ atMs, user: 'u', serial: '1', action: 'verify', outcome: 'ok' as const, reason: null });
      await tx(async (t) => {
        for (const atMs of [t0, t0 + 1, t0 + 2, t0 + 9, t0 + 3]) await t.audit(entry(atMs));
      });
      const stamps = () => tx(async (t) => (await t.auditLog({ limit: 10 })).map((e) => e.atMs - t0));
      await expect(tx(async (t) => {
        await t.pruneAudit(t0 + 5, 10);
        throw new Error('refused half-way');
      })).rejects.toThrow('refused half-way');
      expect(await stamps()).toEqual([3, 9, 2, 1, 0]);
      await tx((t) => t.pruneAudit(t0 + 5, 2));
      expect(await stamps()).toEqual([3, 9, 2]);
      // The entry stamped t0 + 9 is kept and the one after it, though old enough, is looked at and pruned too.
      await tx((t) => t.pruneAudit(t0 + 5, 10));
      expect(await stamps()).toEqual([9]);
      await tx((t) => t.audit(entry(t0 + 10)));
      expect(await stamps()).toEqual([10, 9]);
    }));

    it('sums withdrawals since a time', withStore(async (tx) => {
      await tx(async (t) => {
        await t.insertWithdrawal('u', '1', 100, t0);
        await t.insertWithdrawal('u', '1', 250, t0 + 10);
        await t.insertWithdrawal('v', '1', 999, t0 + 10);
      });
      expect(await tx((t) => t.withdrawnSince('u', t0 + 1))).toBe(250);
      expect(await tx((t) => t.withdrawnSince('u', t0))).toBe(350);
    }));

    it('replaces temporary codes, accounts, rate windows, issued bits and meta values by key', withStore(async (tx) => {
      const code = { user: 'u', codeMac: new Uint8Array([1, 1]), issuedMs: t0, fullUntilMs: t0 + 1, printUntilMs: t0 + 2, blocksNext: true };
      await tx(async (t) => {
        await t.putTempCode(code);
        await t.putTempCode({ ...code, blocksNext: false, codeMac: new Uint8Array([2]) });
        await t.putAccount({ user: 'u', passwordHash: null, failures: 1, locked: false, notBeforeMs: 0 });
        await t.putAccount({ user: 'u', passwordHash: 'scrypt$x', failures: 4, locked: true, notBeforeMs: t0 });
        await t.putRateWindow('issue:user:u', { windowStartMs: t0, count: 1 });
        await t.putRateWindow('issue:user:u', { windowStartMs: t0, count: 2 });
        await t.putIssuedBits('1', 3, new Uint8Array([0, 1]));
        await t.putIssuedBits('1', 3, new Uint8Array([0, 3]));
        await t.putMeta('k', new Uint8Array([7]));
        await t.putMeta('k', new Uint8Array([8, 8]));
      });
      await tx(async (t) => {
        expect(await t.tempCode('u')).toEqual({ ...code, blocksNext: false, codeMac: new Uint8Array([2]) });
        expect(await t.tempCode('v')).toBeUndefined();
        expect(await t.account('u')).toEqual({ user: 'u', passwordHash: 'scrypt$x', failures: 4, locked: true, notBeforeMs: t0 });
        expect(await t.rateWindow('issue:user:u')).toEqual({ windowStartMs: t0, count: 2 });
        expect(await t.rateWindow('issue:user:v')).toBeUndefined();
        expect(await t.issuedBits('1', 3)).toEqual(new Uint8Array([0, 3]));
        expect(await t.issuedBits('1', 4)).toBeUndefined();
        expect(await t.meta('k')).toEqual(new Uint8Array([8, 8]));
      });
    }));

    it('keeps sessions by token hash, and trims a user\'s to the expired ones gone and the few that expire last', withStore(async (tx) => {
      const s = (n: number, createdMs: number, expiresMs: number, user = 'u') => ({ tokenHash: new Uint8Array([n, n]), user, serial: '1', createdMs, expiresMs });
      const all = [s(1, t0, t0 + 10), s(2, t0 + 1, t0 + 20), s(3, t0 + 2, t0 + 30), s(4, t0 + 2, t0 + 30), s(5, t0, t0 + 10, 'v'), s(6, t0, t0 + 50, 'v')];
      await tx(async (t) => {
        for (const row of all) await t.insertSession(row);
      });
      expect(await tx((t) => t.session(new Uint8Array([2, 2])))).toEqual(s(2, t0 + 1, t0 + 20));
      const present = () => tx(async (t) => (await Promise.all(all.map((row) => t.session(row.tokenHash)))).map((row) => row?.tokenHash[0]));
      // 1 has expired; of the live ones 4 and 3 expire last (their tie goes to the higher hash, 4), then 2.
      await tx((t) => t.trimSessions('u', t0 + 10, 2));
      expect(await present()).toEqual([undefined, undefined, 3, 4, 5, 6]);
      await tx((t) => t.trimSessions('u', t0 + 10, 1));
      expect(await present()).toEqual([undefined, undefined, undefined, 4, 5, 6]);
      // Another user's sessions are not touched by the first's trim, and `keep` 0 empties a user's.
      await tx((t) => t.trimSessions('v', t0, 0));
      expect(await present()).toEqual([undefined, undefined, undefined, 4, undefined, undefined]);
    }));

    it('rolls back everything of a transaction whose function throws, and rethrows its error', withStore(async (tx) => {
      const boom = new Error('refused half-way');
      await expect(tx(async (t) => {
        await t.insertDevice(device('1'));
        await t.putMeta('k', new Uint8Array([1]));
        await t.audit({ atMs: t0, user: 'u', serial: '1', action: 'enroll', outcome: 'ok', reason: null });
        throw boom;
      })).rejects.toBe(boom);
      await tx(async (t) => {
        expect(await t.serials()).toEqual([]);
        expect(await t.meta('k')).toBeUndefined();
        expect(await t.auditLog({ limit: 10 })).toEqual([]);
      });
    }));

    it('settles a transaction\'s promise after its commit: a second transaction sees the first', withStore(async (tx) => {
      await tx((t) => t.putMeta('a', new Uint8Array([1])));
      expect(await tx((t) => t.meta('a'))).toEqual(new Uint8Array([1]));
    }));
  });
}
