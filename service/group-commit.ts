/**
 * Group commit: host calls that arrive together run in one store transaction and one commit (one fsync under
 * `synchronous=FULL`), instead of one fsync each. Each call runs in its own nested transaction (a SQLite
 * savepoint), so a call that throws rolls back only its own writes; each caller's promise settles only after
 * the commit that holds its writes has returned, so no caller is told "ok" about something a crash could lose.
 *
 * Batching needs no timer: better-sqlite3 commits synchronously, so while one batch's fsync blocks the event
 * loop, the requests that arrive meanwhile wait in the sockets and are all parsed before the next flush runs
 * (scheduled with setImmediate, after the I/O phase).
 */

/** Calls committed together at most (a bound on one transaction's size and on how long it holds the lock). */
export const batchCallsMax = 256;
/** Calls waiting at most; beyond it a call is refused at once ("busy") instead of queueing without bound. */
export const queueCallsMax = 4_096;

/** The service is stopping, or its queue is full: the call was not run and wrote nothing. */
export class GroupCommitRefusal extends Error {
  override name = 'GroupCommitRefusal';
  constructor(readonly reason: 'shutting down' | 'busy', message: string) {
    super(message);
  }
}

interface Pending {
  readonly call: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export interface GroupCommitStats {
  /** Transactions committed (each one fsync in durable mode). */
  commits: number;
  /** Calls that ran inside those transactions. */
  calls: number;
  /** The most calls one commit carried. */
  largestBatch: number;
}

/**
 * @example
 * const commits = new GroupCommit((fn) => store.transaction(fn));
 * const result = await commits.run(() => host.verify({ user, challenge, response }));
 */
export class GroupCommit {
  readonly stats: GroupCommitStats = { commits: 0, calls: 0, largestBatch: 0 };
  readonly #transaction: <T>(fn: () => T) => T;
  #queue: Pending[] = [];
  #scheduled = false;
  #closing = false;
  #idle: (() => void)[] = [];

  constructor(transaction: <T>(fn: () => T) => T) {
    this.#transaction = transaction;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Run `call` in the next group transaction; settles after that transaction committed (or failed). */
  run<T>(call: () => T): Promise<T> {
    if (this.#closing) return Promise.reject(new GroupCommitRefusal('shutting down', 'the service is shutting down'));
    if (this.#queue.length >= queueCallsMax) return Promise.reject(new GroupCommitRefusal('busy', `more than ${queueCallsMax} calls are waiting for a commit`));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ call, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Refuse new calls and resolve when every queued call has been committed and answered. */
  drain(): Promise<void> {
    this.#closing = true;
    if (this.#queue.length === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue.splice(0, batchCallsMax);
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.#transaction(() => {
        for (const pending of batch) {
          try {
            outcomes.push({ ok: true, value: this.#transaction(pending.call) });
          } catch (error) {
            outcomes.push({ ok: false, value: error });
          }
        }
      });
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of this batch is durable, so every caller fails.
      for (const pending of batch) pending.reject(error);
      this.#next();
      return;
    }
    this.stats.commits++;
    this.stats.calls += batch.length;
    if (batch.length > this.stats.largestBatch) this.stats.largestBatch = batch.length;
    batch.forEach((pending, i) => (outcomes[i]!.ok ? pending.resolve(outcomes[i]!.value) : pending.reject(outcomes[i]!.value)));
    this.#next();
  }

  #next(): void {
    if (this.#queue.length > 0) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    } else if (this.#closing) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
