/**
 * Driving the load client (bench/service-client.ts, a process of its own) against the servers of
 * bench/service-targets.ts. A target's answers are sized from a short probe round (which also warms the code
 * and the connections up); the measured rounds then alternate between targets (bench/harness.ts
 * `alternateSamples`), so that drift of the machine's speed lands on every target alike. Around each round the
 * server's own CPU (this process: fastify, the verifier, SQLite, the garbage collector) is read with
 * `process.cpuUsage`, and so is the client's in its process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { percentiles } from './harness.ts';
import type { Round } from './service-client.ts';
import type { Target } from './service-targets.ts';

/** Answers prepared for one target's measured rounds at most (bounds preparation time, memory and the file). */
export const preparedAnswersMax = 150_000;
/** Answers prepared for the probe round that sizes a target's answers, and how long that round lasts. */
const probeAnswers = 16_000;
const probeMs = 1_000;
/** Answers prepared per answer the probe's rate predicts: the code runs faster once warm. */
const answersHeadroom = 2;

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

  async load(target: Target, file: string): Promise<number> {
    return (await this.#ask<{ answers: number }>({ type: 'load', target: target.name, url: target.url, file })).answers;
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

/** Everything measured of one target over its rounds (the probe counts only toward errors). */
export class Tally {
  /** Each measured round's verifications per second, in order. */
  readonly rates: number[] = [];
  readonly latenciesMs: number[] = [];
  done = 0;
  errors = 0;
  firstError = '';
  exhausted = false;
  elapsedMs = 0;
  serverCpuMicros = 0;
  clientCpuMicros = 0;
  commits = 0;
  retries = 0;
  prepared = 0;
  probeRate = 0;

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

/** One round against `target`, with the server's CPU and commits around it, added to `tally`; its rate. */
async function measuredRound(client: LoadClient, target: Target, tally: Tally, clients: number, ms: number): Promise<number> {
  const cpuBefore = process.cpuUsage();
  const commitsBefore = target.commits();
  const retriesBefore = target.retries();
  const round = await client.round(target, clients, ms);
  const cpu = process.cpuUsage(cpuBefore);
  const rate = round.done / (Math.max(1e-3, round.elapsedMs) / 1000);
  tally.rates.push(rate);
  for (const latency of round.latenciesMs) tally.latenciesMs.push(latency);
  tally.done += round.done;
  tally.addErrors(round);
  tally.exhausted ||= round.exhausted;
  tally.elapsedMs += round.elapsedMs;
  tally.serverCpuMicros += cpu.user + cpu.system;
  tally.clientCpuMicros += round.cpuMicros;
  tally.commits += target.commits() - commitsBefore;
  tally.retries += target.retries() - retriesBefore;
  return rate;
}

/**
 * Prepares `target`'s answers for `plannedMs` of load at `clients`: two probe rounds on `probeAnswers` answers
 * (the first warms the code and the connections up, and runs slower) measure the rate, then `answersHeadroom`
 * times what the faster of them predicts is prepared (at most `preparedAnswersMax`) and loaded into the
 * client. A run that still runs out says so (`Tally.exhausted`).
 */
export async function prepareLoad(client: LoadClient, target: Target, tally: Tally, clients: number, plannedMs: number): Promise<void> {
  await client.load(target, await target.prepare(probeAnswers));
  for (let k = 0; k < 2; k++) {
    const probe = await client.round(target, clients, probeMs);
    tally.addErrors(probe);
    if (probe.done > 0) tally.probeRate = Math.max(tally.probeRate, probe.done / (Math.max(1e-3, probe.elapsedMs) / 1000));
  }
  const wanted = Math.ceil((tally.probeRate * plannedMs * answersHeadroom) / 1000);
  tally.prepared = await client.load(target, await target.prepare(Math.max(clients, Math.min(preparedAnswersMax, wanted))));
}

/** A subject for `alternateSamples`: each call runs one measured round against `target` and returns its rate. */
export function roundSubject(client: LoadClient, target: Target, tally: Tally, clients: number, ms: number): () => Promise<number> {
  return () => measuredRound(client, target, tally, clients, ms);
}
