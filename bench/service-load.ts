/**
 * Driving the load client (bench/service-client.ts, a process of its own) against the servers of
 * bench/service-targets.ts. A target starts with a warm-up round (the code and the connections warm up, and it
 * gives a first rate); before each measured round, the target's answers are topped up to what the fastest
 * rate seen so far predicts the round needs, so no round runs out and preparation happens between rounds,
 * never inside one. The measured rounds alternate between targets (bench/harness.ts `alternateSamples`), so
 * that drift of the machine's speed lands on every target alike. Around each round the
 * server's own CPU (this process: fastify, the verifier, SQLite, the garbage collector) is read with
 * `process.cpuUsage`, and so is the client's in its process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { percentiles } from './harness.ts';
import type { Round } from './service-client.ts';
import type { Target } from './service-targets.ts';

/** Answers prepared for one target in all at most (bounds preparation time and the database's growth). */
export const preparedAnswersMax = 200_000;
/** Answers prepared for a target's warm-up round, and how long that round lasts. */
const warmupAnswers = 8_000;
const warmupMs = 1_000;
/** Answers a round is given per answer the fastest rate seen so far predicts it will send. */
const answersHeadroom = 3;

/** The load client process: one command at a time over its stdin, one JSON line back for each. */
export class LoadClient {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  private constructor() {
    this.#child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'run-ts.js'), join(import.meta.dirname, 'service-client.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#lines = createInterface({ input: this.#child.stdout! })[Symbol.asyncIterator]();
  }

  static start(): LoadClient {
    return new LoadClient();
  }

  async #ask<T>(command: object): Promise<T> {
    this.#child.stdin!.write(`${JSON.stringify(command)}\n`);
    const line = await this.#lines.next();
    if (line.done) throw new Error(`the load client exited (code ${this.#child.exitCode}) before answering ${JSON.stringify(command)}`);
    return JSON.parse(line.value) as T;
  }

  /** Gives `target` the answers in `file` (after those it has left, with `append`); the answers it has left. */
  async load(target: Target, file: string, append = false): Promise<number> {
    return (await this.#ask<{ remaining: number }>({ type: 'load', target: target.name, url: target.url, file, append })).remaining;
  }

  round(target: Target, clients: number, ms: number): Promise<Round> {
    return this.#ask<Round>({ type: 'round', target: target.name, clients, ms });
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.stdin!.end(`${JSON.stringify({ type: 'exit' })}\n`);
    await exited;
  }
}

/** Everything measured of one target over its rounds (the warm-up counts only toward errors). */
export class Tally {
  /** Each measured round's verifications per second, in order. */
  readonly rates: number[] = [];
  readonly latenciesMs: number[] = [];
  done = 0;
  errors = 0;
  firstError = '';
  /** Measured rounds that ended early because the answers ran out (their rate is over their shorter time). */
  shortRounds = 0;
  elapsedMs = 0;
  serverCpuMicros = 0;
  clientCpuMicros = 0;
  commits = 0;
  retries = 0;
  prepared = 0;
  /** The fastest rate seen so far, warm-up included: what sizes the next round's answers. */
  fastest = 0;
  /** Answers the client holds for this target and has not sent. */
  remaining = 0;

  /** The median of the rounds' rates. */
  get perSecond(): number {
    return percentiles(this.rates).median;
  }

  get latency(): { median: number; p99: number } {
    return percentiles(this.latenciesMs);
  }

  get serverCpuPerRequestMicros(): number {
    return this.serverCpuMicros / Math.max(1, this.done);
  }

  get clientCpuPerRequestMicros(): number {
    return this.clientCpuMicros / Math.max(1, this.done);
  }

  /** The share of one core the server used while under load (1 = one core busy all the time). */
  get serverBusy(): number {
    return this.serverCpuMicros / 1000 / Math.max(1, this.elapsedMs);
  }

  get requestsPerCommit(): number {
    return this.done / Math.max(1, this.commits);
  }

  addErrors(round: Round): void {
    this.errors += round.errors;
    this.firstError ||= round.firstError;
  }
}

async function prepare(client: LoadClient, target: Target, tally: Tally, count: number, append: boolean): Promise<void> {
  tally.prepared += count;
  tally.remaining = await client.load(target, await target.prepare(count), append);
}

function rateOf(round: Round): number {
  return round.done / (Math.max(1e-3, round.elapsedMs) / 1000);
}

/** Starts `target` on the client: `warmupAnswers` answers and one unmeasured round of `warmupMs` at `clients`. */
export async function warmUp(client: LoadClient, target: Target, tally: Tally, clients: number): Promise<void> {
  await prepare(client, target, tally, warmupAnswers, false);
  const round = await client.round(target, clients, warmupMs);
  tally.addErrors(round);
  tally.fastest = rateOf(round);
  tally.remaining = round.remaining;
}

/**
 * One measured round against `target`, with the server's CPU and commits around it, added to `tally`; its
 * rate. Before it, the target's answers are topped up to `answersHeadroom` times what the fastest rate so far
 * predicts, within `preparedAnswersMax` in all.
 */
async function measuredRound(client: LoadClient, target: Target, tally: Tally, clients: number, ms: number): Promise<number> {
  const wanted = Math.ceil((Math.max(tally.fastest, 1) * ms * answersHeadroom) / 1000) + clients;
  const more = Math.min(wanted - tally.remaining, preparedAnswersMax - tally.prepared);
  if (more > 0) await prepare(client, target, tally, more, true);
  const cpuBefore = process.cpuUsage();
  const commitsBefore = target.commits();
  const retriesBefore = target.retries();
  const round = await client.round(target, clients, ms);
  const cpu = process.cpuUsage(cpuBefore);
  const rate = rateOf(round);
  tally.rates.push(rate);
  for (const latency of round.latenciesMs) tally.latenciesMs.push(latency);
  tally.done += round.done;
  tally.addErrors(round);
  if (round.exhausted) tally.shortRounds++;
  tally.fastest = Math.max(tally.fastest, rate);
  tally.remaining = round.remaining;
  tally.elapsedMs += round.elapsedMs;
  tally.serverCpuMicros += cpu.user + cpu.system;
  tally.clientCpuMicros += round.cpuMicros;
  tally.commits += target.commits() - commitsBefore;
  tally.retries += target.retries() - retriesBefore;
  return rate;
}

/** A subject for `alternateSamples`: each call runs one measured round against `target` and returns its rate. */
export function roundSubject(client: LoadClient, target: Target, tally: Tally, clients: number, ms: number): () => Promise<number> {
  return () => measuredRound(client, target, tally, clients, ms);
}
