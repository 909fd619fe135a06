/**
 * The stores' transaction queue (host/transaction-queue.ts) on a real SQLite file with synchronous=FULL and on
 * the memory store: calls asked for together share one commit; a call that throws rolls back only its own
 * writes and rejects only its caller; each caller hears back only after the commit that holds its write (a
 * second connection sees it by then); calls never interleave; the queue is bounded; close lets the queued
 * calls finish and refuses later ones. And the password checks' own bound (host/password.ts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { HostError, memoryStore, openSqliteStore } from '../../host/index.ts';
import { passwordChecksMax } from '../../host/password.ts';
import { StoreRefusal, type Store, type StoreTx } from '../../host/store.ts';
import { queueCallsMax, TransactionQueue, type BatchSteps } from '../../host/transaction-queue.ts';
import { testHost } from './support/clock.ts';
import { makeRecord } from './support/devices.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsc-group-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const bytes = (n: number) => new Uint8Array([n]);
const put = (n: number) => (tx: StoreTx) => tx.putMeta(`k${n}`, bytes(n));

/** The meta keys another connection sees committed in the file. */
function committedKeys(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT key FROM meta WHERE key LIKE 'k%' ORDER BY key").pluck().all() as string[]);
  } finally {
    db.close();
  }
}

const stores: [string, () => { store: Store; path?: string }][] = [
  ['sqlite file, FULL', () => {
    const path = join(dir, `g${++files}.sqlite`);
    return { store: openSqliteStore(path, { synchronous: 'FULL' }), path };
  }],
  ['memory', () => ({ store: memoryStore() })],
];

describe.each(stores)('transactions of the %s store', (_name, open) => {
  it('calls asked for together share one commit (32 calls, 1 commit); a lone call is a batch of one', async () => {
    const { store } = open();
    await Promise.all(Array.from({ length: 32 }, (_, i) => store.transaction(put(i))));
    expect(store.stats!()).toMatchObject({ commits: 1, calls: 32, largestBatch: 32, queued: 0 });
    await store.transaction(put(99));
    expect(store.stats!()).toMatchObject({ commits: 2, calls: 33 });
    await store.close();
  });

  it('a call that throws rolls back only its own writes and rejects only its caller', async () => {
    const { store, path } = open();
    const failing = async (tx: StoreTx) => {
      await tx.putMeta('k50', bytes(50));
      throw new Error('refused half-way');
    };
    const settled = await Promise.allSettled([store.transaction(put(1)), store.transaction(failing), store.transaction(put(2))]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe('refused half-way');
    expect(await store.transaction(async (tx) => [await tx.meta('k1'), await tx.meta('k50'), await tx.meta('k2')])).toEqual([bytes(1), undefined, bytes(2)]);
    if (path) expect(committedKeys(path)).toEqual(['k1', 'k2']);
    expect(store.stats!()).toMatchObject({ commits: 2 });
    await store.close();
  });

  it('a lone call that throws writes nothing', async () => {
    const { store } = open();
    await expect(store.transaction(async (tx) => {
      await tx.putMeta('k7', bytes(7));
      throw new Error('no');
    })).rejects.toThrow('no');
    expect(await store.transaction((tx) => tx.meta('k7'))).toBeUndefined();
    await store.close();
  });

  it('each caller is answered only after the commit that holds its write', async () => {
    const { store, path } = open();
    const seen: string[] = [];
    await Promise.all(Array.from({ length: 4 }, (_, i) => store.transaction(put(i)).then(() => {
      seen.push(`answer ${i}: ${store.stats!().commits} commits${path ? `, ${committedKeys(path).length} rows visible to another connection` : ''}`);
    })));
    expect(seen).toEqual([0, 1, 2, 3].map((i) => `answer ${i}: 1 commits${path ? ', 4 rows visible to another connection' : ''}`));
    await store.close();
  });

  it('calls never interleave: one runs to its end (every await) before the next starts', async () => {
    const { store } = open();
    const events: string[] = [];
    const call = (name: string) => async (tx: StoreTx) => {
      events.push(`${name} start`);
      for (let i = 0; i < 3; i++) await tx.meta('x');
      await new Promise((resolve) => setTimeout(resolve, 5)); // not a tx call: it holds the others back
      events.push(`${name} end`);
    };
    await Promise.all([store.transaction(call('a')), store.transaction(call('b')), store.transaction(call('c'))]);
    expect(events).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    await store.close();
  });

  it('a handle kept past its transaction refuses to run', async () => {
    const { store } = open();
    const kept = await store.transaction(async (tx) => tx);
    await expect(kept.putMeta('k1', bytes(1))).rejects.toThrow(/outside its transaction/);
    expect(await store.transaction((tx) => tx.meta('k1'))).toBeUndefined();
    await store.close();
  });

  it(`refuses (busy) beyond ${queueCallsMax} waiting calls, at once and without running them`, async () => {
    const { store } = open();
    const accepted = Array.from({ length: queueCallsMax }, (_, i) => store.transaction(put(i)));
    let ran = false;
    await expect(store.transaction(async (tx) => {
      ran = true;
      await tx.putMeta('k-1', bytes(0));
    })).rejects.toSatisfy((e: unknown) => e instanceof StoreRefusal && e.reason === 'busy');
    await Promise.all(accepted);
    expect(ran).toBe(false);
    expect(await store.transaction((tx) => tx.meta('k-1'))).toBeUndefined();
    await store.close();
  });

  it('close lets the queued calls commit and be answered, then refuses new ones', async () => {
    const { store, path } = open();
    const queued = Array.from({ length: 5 }, (_, i) => store.transaction(put(i)));
    const closed = store.close();
    await expect(store.transaction(put(9))).rejects.toSatisfy((e: unknown) => e instanceof StoreRefusal && e.reason === 'closed');
    await closed;
    await Promise.all(queued);
    if (path) expect(committedKeys(path)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
  });
});

describe('group commit turned off (batchCallsMax 1, the bench\'s knob)', () => {
  it('calls asked for together each get their own commit, and every write is kept', async () => {
    const path = join(dir, `g${++files}.sqlite`);
    const store = openSqliteStore(path, { synchronous: 'FULL', batchCallsMax: 1 });
    await Promise.all(Array.from({ length: 32 }, (_, i) => store.transaction(put(i))));
    expect(store.stats!()).toMatchObject({ commits: 32, calls: 32, largestBatch: 1, queued: 0 });
    expect(committedKeys(path)).toHaveLength(32);
    await store.close();
  });

  it('a bound below one is refused before the store opens anything, naming the bound', () => {
    const steps: BatchSteps = { begin() {}, callBegin() {}, callEnd() {}, commit() {}, rollback() {} };
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new TransactionQueue(steps, {} as StoreTx, 'now', { batchCallsMax: bad, queueCallsMax: 8 })).toThrow(/batchCallsMax must be a whole number ≥ 1/);
    }
    const path = join(dir, `g${++files}.sqlite`);
    expect(() => openSqliteStore(path, { batchCallsMax: 0 })).toThrow(/batchCallsMax must be a whole number ≥ 1, got 0/);
    expect(existsSync(path), 'a refused bound creates no database file').toBe(false);
  });
});

describe('the transaction queue when the commit itself fails', () => {
  it('every caller of that batch is told so, and the batch is rolled back', async () => {
    const log: string[] = [];
    const steps: BatchSteps = {
      begin: () => void log.push('begin'),
      callBegin: () => log.push('savepoint'),
      callEnd: (ok) => log.push(ok ? 'release' : 'rollback to'),
      commit: () => {
        throw new Error('disk full');
      },
      rollback: () => log.push('rollback'),
    };
    const queue = new TransactionQueue(steps, {} as StoreTx);
    const settled = await Promise.allSettled([queue.run(async () => 1), queue.run(async () => 2)]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect((settled[0] as PromiseRejectedResult).reason.message).toBe('disk full');
    expect(log).toEqual(['begin', 'savepoint', 'release', 'savepoint', 'release', 'rollback']);
    expect(queue.stats()).toMatchObject({ commits: 0 });
  });
});

describe('password checks in flight', () => {
  it(`beyond ${passwordChecksMax} at once a login is refused busy: nothing counted, nothing written`, async () => {
    const { host } = await testHost();
    await host.enroll({ user: 'u', record: makeRecord({ serial: 1 }) });
    await host.setPassword({ user: 'u', password: 'correct horse' });
    const auditBefore = (await host.auditLog({ limit: 10_000 })).length;
    const extra = 5;
    const settled = await Promise.allSettled(Array.from({ length: passwordChecksMax + extra }, () => host.login({ user: 'u', password: 'correct horse' })));
    const busy = settled.filter((s) => s.status === 'rejected' && s.reason instanceof HostError && s.reason.reason === 'busy');
    const answered = settled.filter((s) => s.status === 'fulfilled' && s.value.ok);
    expect(busy).toHaveLength(extra);
    expect((busy[0] as PromiseRejectedResult).reason.message).toMatch(/busy: 32 password checks are already running or waiting/);
    expect(answered).toHaveLength(passwordChecksMax);
    // Each answered login wrote its "password verified" and its challenge; the busy ones wrote nothing.
    const audit = await host.auditLog({ limit: 10_000 });
    expect(audit.length - auditBefore).toBe(2 * passwordChecksMax);
    expect(audit.filter((e) => e.outcome !== 'ok')).toEqual([]);
    // And the hashes' count went back down: the next login is checked.
    expect(await host.login({ user: 'u', password: 'correct horse' })).toMatchObject({ ok: true });
    await host.close();
  });
});
