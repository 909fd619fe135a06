/**
 * The transaction runner of the in-process stores (SQLite, memory): one FIFO of waiting transactions, run one
 * at a time, with group commit. Transactions requested together (in the same turn of the event loop) share one
 * database transaction and one commit (one fsync under `synchronous=FULL`) instead of one each: each runs in its
 * own savepoint, so a call that throws rolls back only its own writes and rejects only its caller; every
 * caller's promise settles only after the commit that holds its writes returned, so nobody is told "ok" about
 * something a crash could lose. A lone call (the CLI) is a batch of one, without a savepoint.
 *
 * Nothing interleaves: a call's `fn` runs to completion (every await in it) before the next one starts, so the
 * database never sees a BEGIN inside a BEGIN. The price: a `fn` that awaits something other than its `tx` holds
 * every later transaction back meanwhile, and a `fn` that awaits a new `transaction` of the same store waits for
 * itself forever. Jobs therefore take the transaction's handle and never open another (host/core.ts).
 *
 * Batching needs no timer: the runner starts with setImmediate, after the event loop's I/O phase, so the
 * requests parsed in that phase are all waiting by then; while a batch commits (synchronously, in SQLite) the
 * next requests wait in their sockets. A store without a commit to share (memory) starts its runner at once
 * instead (`start: 'now'`, a microtask): the turn of the event loop costs more than it saves there.
 */
import { StoreRefusal, type StoreStats, type StoreTx } from './store.ts';

/** Calls committed together at most (a bound on one transaction's size and on how long it holds the lock). */
export const batchCallsMax = 256;
/** Calls waiting at most; beyond it a call is refused at once (`StoreRefusal` 'busy') and writes nothing. */
export const queueCallsMax = 4_096;

/**
 * Refuses a bound below one (a batch bound of 0 would never take a call off the queue: a runner spinning on
 * empty batches). A store checks its bounds with it before it opens anything.
 */
export function checkQueueLimits(limits: { batchCallsMax: number; queueCallsMax: number }): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`transaction queue: ${name} must be a whole number ≥ 1, got ${value}`);
  }
}

/** What the database does at each step of a batch. Each may throw (an I/O error): the whole batch then fails. */
export interface BatchSteps {
  /**
   * Start the batch's transaction (SQLite: BEGIN IMMEDIATE, which takes the write lock up front). A promise when
   * it has to wait for the lock without blocking the event loop; it rejects when it gives up (nothing ran).
   */
  begin(): void | Promise<void>;
  /** Start one call of a batch of several (a savepoint). */
  callBegin(): void;
  /** End that call: keep its writes, or undo them (`ok` false: it threw). */
  callEnd(ok: boolean): void;
  commit(): void;
  /** Undo the whole batch's transaction, if one is open. */
  rollback(): void;
}

interface Pending {
  readonly fn: (tx: StoreTx) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * @example
 * const queue = new TransactionQueue(steps, tx);
 * const value = await queue.run(async (tx) => tx.device('DSC-00000001'));
 */
export class TransactionQueue {
  #commits = 0;
  #calls = 0;
  #largestBatch = 0;
  #queue: Pending[] = [];
  #scheduled = false;
  #running = false;
  #closing = false;
  #idle: (() => void)[] = [];
  /** Whether a call's `fn` is running now (its `tx` is live). */
  inCall = false;

  constructor(
    private readonly steps: BatchSteps,
    private readonly tx: StoreTx,
    private readonly start: 'after-io' | 'now' = 'after-io',
    private readonly limits: { batchCallsMax: number; queueCallsMax: number } = { batchCallsMax, queueCallsMax },
  ) {
    checkQueueLimits(limits);
  }

  stats(): StoreStats {
    return { commits: this.#commits, calls: this.#calls, largestBatch: this.#largestBatch, queued: this.#queue.length };
  }

  run<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new StoreRefusal('closed', 'the host database is closing: the call was not run'));
    if (this.#queue.length >= this.limits.queueCallsMax) {
      return Promise.reject(new StoreRefusal('busy', `busy: ${this.limits.queueCallsMax} calls are already waiting for the database; retry later`));
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Refuse new calls; resolves when every queued call has run and been answered. */
  drain(): Promise<void> {
    this.#closing = true;
    if (this.#queue.length === 0 && !this.#running && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return;
    this.#scheduled = true;
    if (this.start === 'now') queueMicrotask(() => void this.#flush());
    else setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    this.#running = true;
    const batch = this.#queue.splice(0, this.limits.batchCallsMax);
    try {
      const outcomes = await this.#runBatch(batch);
      batch.forEach((pending, i) => (outcomes[i]!.ok ? pending.resolve(outcomes[i]!.value) : pending.reject(outcomes[i]!.value)));
    } catch (error) {
      // BEGIN, a savepoint or the commit itself failed (disk full, I/O error): nothing of this batch is durable.
      this.inCall = false;
      try {
        this.steps.rollback();
      } catch {
        // The database already rolled back (SQLite does on some I/O errors); the callers hear the first error.
      }
      for (const pending of batch) pending.reject(error);
    } finally {
      this.#running = false;
      if (this.#queue.length > 0) this.#schedule();
      else if (this.#closing) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #runBatch(batch: readonly Pending[]): Promise<{ ok: boolean; value: unknown }[]> {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const alone = batch.length === 1;
    const waiting = this.steps.begin();
    if (waiting instanceof Promise) await waiting; // only when the lock is held elsewhere: an await of nothing costs every batch a turn
    for (const pending of batch) {
      if (!alone) this.steps.callBegin();
      this.inCall = true;
      let outcome: { ok: boolean; value: unknown };
      try {
        outcome = { ok: true, value: await pending.fn(this.tx) };
      } catch (error) {
        outcome = { ok: false, value: error };
      }
      this.inCall = false;
      if (alone && !outcome.ok) {
        // A batch of one needs no savepoint: its failure undoes the whole transaction.
        this.steps.rollback();
        return [outcome];
      }
      if (!alone) this.steps.callEnd(outcome.ok);
      outcomes.push(outcome);
    }
    this.steps.commit();
    this.#commits++;
    this.#calls += batch.length;
    if (batch.length > this.#largestBatch) this.#largestBatch = batch.length;
    return outcomes;
  }
}

/** A store's synchronous operations, as `StoreTx` declares them minus the promises. */
export type SyncTx = { [K in keyof StoreTx]: (...args: Parameters<StoreTx[K]>) => Awaited<ReturnType<StoreTx[K]>> };

/**
 * The promise-returning handle over synchronous operations. Each refuses to run outside a running call: a
 * handle kept past its transaction must not write into someone else's.
 */
export function promisedTx(ops: SyncTx, live: () => boolean): StoreTx {
  const tx: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of Object.keys(ops) as (keyof SyncTx)[]) {
    const op = ops[name] as (...args: unknown[]) => unknown;
    tx[name] = (...args) => {
      if (!live()) return Promise.reject(new Error(`store: ${name} called outside its transaction (a transaction's handle is valid only inside it)`));
      try {
        return Promise.resolve(op(...args));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  }
  return tx as unknown as StoreTx;
}
