/**
 * The group commit on a real SQLite store: calls queued together share one transaction; a call that throws
 * rolls back only its own writes; each caller hears back only after the commit; the queue is bounded; a drain
 * answers everything queued and refuses what comes after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit, GroupCommitRefusal, queueCallsMax } from '../../service/group-commit.ts';

let dir: string;
let db: Database.Database;
let commits: string[];
let transaction: <T>(fn: () => T) => T;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dsc-group-'));
  db = new Database(join(dir, 'g.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  commits = [];
  // better-sqlite3 nests an inner transaction as a SAVEPOINT; only the outermost one commits.
  const run = db.transaction((fn: () => unknown) => fn());
  let depth = 0;
  transaction = <T>(fn: () => T): T => {
    depth++;
    try {
      const value = run.immediate(fn) as T;
      if (depth === 1) commits.push('commit');
      return value;
    } finally {
      depth--;
    }
  };
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (v: number) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v).changes;
const rows = () => db.prepare('SELECT v FROM t ORDER BY v').pluck().all();

describe('GroupCommit', () => {
  it('calls made together share one transaction (one commit for 32 calls)', async () => {
    const group = new GroupCommit(transaction);
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => group.run(insert(i))));
    expect(results).toEqual(Array(32).fill(1));
    expect(commits).toEqual(['commit']);
    expect(group.stats).toMatchObject({ commits: 1, calls: 32, largestBatch: 32 });
    expect(rows()).toHaveLength(32);
  });

  it('a call that throws rolls back only its own writes; the others commit', async () => {
    const group = new GroupCommit(transaction);
    const failing = () => {
      db.prepare('INSERT INTO t (v) VALUES (?)').run(100);
      throw new Error('refused half-way');
    };
    const settled = await Promise.allSettled([group.run(insert(1)), group.run(failing), group.run(insert(2))]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe('refused half-way');
    expect(rows()).toEqual([1, 2]);
    expect(commits).toEqual(['commit']);
  });

  it('a caller is answered only after the commit that holds its write', async () => {
    const group = new GroupCommit(transaction);
    const seen: string[] = [];
    const pending = Array.from({ length: 4 }, (_, i) => group.run(insert(i)).then(() => seen.push(`answer ${i}: ${commits.length} commits, ${rows().length} rows visible`)));
    await Promise.all(pending);
    expect(seen).toEqual([0, 1, 2, 3].map((i) => `answer ${i}: 1 commits, 4 rows visible`));
  });

  it('when the commit fails, every caller of that batch is told so and nothing is kept', async () => {
    let depth = 0;
    const group = new GroupCommit(<T>(fn: () => T): T => {
      depth++;
      try {
        return transaction(() => {
          const value = fn();
          if (depth === 1) throw new Error('disk full'); // the outermost transaction: its commit fails
          return value;
        });
      } finally {
        depth--;
      }
    });
    const settled = await Promise.allSettled([group.run(insert(1)), group.run(insert(2))]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect(rows()).toEqual([]);
  });

  it(`refuses (busy) beyond ${queueCallsMax} waiting calls, without running them`, async () => {
    const group = new GroupCommit(transaction);
    const accepted = Array.from({ length: queueCallsMax }, (_, i) => group.run(insert(i)));
    await expect(group.run(insert(-1))).rejects.toSatisfy((e: unknown) => e instanceof GroupCommitRefusal && e.reason === 'busy');
    await Promise.all(accepted);
    expect(rows()).toHaveLength(queueCallsMax);
    expect(rows()).not.toContain(-1);
  });

  it('drain: everything queued is committed and answered; later calls are refused', async () => {
    const group = new GroupCommit(transaction);
    const queued = Array.from({ length: 5 }, (_, i) => group.run(insert(i)));
    const drained = group.drain();
    await expect(group.run(insert(9))).rejects.toSatisfy((e: unknown) => e instanceof GroupCommitRefusal && e.reason === 'shutting down');
    await drained;
    await Promise.all(queued);
    expect(rows()).toEqual([0, 1, 2, 3, 4]);
  });
});
