/**
 * A small benchmark harness: every number is a rate or a latency measured in this run, printed next to
 * a reference measured in the same run, so ratios hold on whatever machine runs `npm run bench`.
 * Never used by tests: speed is reported, not asserted.
 */

export interface Row {
  readonly section: string;
  readonly name: string;
  /** The measured value, e.g. 123456. */
  readonly value: number;
  readonly unit: string;
  /** `value / reference.value`, when the row is compared against another row of the same run. */
  readonly ratio?: number;
  readonly reference?: string;
  readonly note?: string;
}

/** How long a single (not alternating) measurement runs, e.g. a durable-commit loop; long enough to smooth JIT warm-up. */
export const sampleDurationMs = 600;
export const warmupDurationMs = 150;

/** Rounds of an interleaved comparison, and how long each subject runs per round. */
export const interleavedRounds = 21;
export const roundDurationMs = 40;

export interface Interleaved {
  /** Each subject's median rate over the rounds, in operations per second. */
  readonly rates: number[];
  /** Each subject's median, over the rounds, of its rate divided by the first subject's rate in the same round. */
  readonly ratiosToFirst: number[];
}

/**
 * Several subjects measured in alternation, round after round. On a shared machine (a VM, a laptop on
 * battery) the speed of a core drifts within seconds (docs/bench.md has what it did on the development VM);
 * measuring A for a while and then B for a while puts that drift into the ratio. Short alternating rounds give every subject the same machine, and a ratio is
 * taken within each round, then the median over rounds. The order inside a round rotates so no subject
 * always runs first.
 */
export function interleavedRates(subjects: readonly (() => unknown)[], rounds = interleavedRounds): Interleaved {
  return alternateRounds(subjects.map((fn) => roundsOf(fn)), rounds);
}

/** `fn` calibrated and warmed up once; each call of the result times one round and returns ops per second. */
export function roundsOf(fn: () => unknown, durationMs = roundDurationMs): () => number {
  const batch = calibrate(fn);
  const deadlineWarm = performance.now() + warmupDurationMs;
  while (performance.now() < deadlineWarm) for (let i = 0; i < batch; i++) fn();
  return () => rateFor(fn, batch, durationMs);
}

/**
 * The engine of `interleavedRates` for subjects that time themselves: each call of a subject runs one round
 * and returns its rate (a server cycle times only the server's calls, not the card's work in between).
 */
export function alternateRounds(subjects: readonly (() => number)[], rounds = interleavedRounds): Interleaved {
  const samples: number[][] = subjects.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const which = (round + k) % subjects.length;
      samples[which]!.push(subjects[which]!());
    }
  }
  const median = (values: readonly number[]) => percentiles(values).median;
  return {
    rates: samples.map(median),
    ratiosToFirst: samples.map((s) => median(s.map((rate, round) => rate / samples[0]![round]!))),
  };
}

function rateFor(fn: () => unknown, batch: number, durationMs: number): number {
  let operations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let i = 0; i < batch; i++) fn();
    operations += batch;
    elapsed = performance.now() - start;
  }
  return (operations / elapsed) * 1000;
}

function calibrate(fn: () => unknown): number {
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < 5) {
    fn();
    count++;
  }
  return Math.max(1, count);
}

/** The median and 99th percentile of a list of samples. */
export function percentiles(samples: readonly number[]): { median: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { median: at(0.5), p99: at(0.99) };
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

/** Print rows as one aligned table. */
export function printTable(rows: readonly Row[], out: NodeJS.WritableStream = process.stdout): void {
  const header = ['section', 'measurement', 'value', 'unit', 'ratio', 'vs', 'note'];
  const cells = rows.map((row) => [
    row.section,
    row.name,
    format(row.value),
    row.unit,
    row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}×`,
    row.reference ?? '',
    row.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => c.map((cell, i) => (i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  out.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const c of cells) out.write(`${line(c)}\n`);
}

export interface AlternatedSamples {
  /** Each subject's median sample (a duration, for subjects that time a process). */
  readonly medians: number[];
  /** Each subject's median, over the rounds, of its sample divided by the first subject's sample in the same round. */
  readonly ratiosToFirst: number[];
}

/**
 * `alternateRounds` for subjects that take a sample asynchronously (a process start-up, a first frame):
 * one sample of each per round, the order rotating from round to round, ratios taken within a round.
 * @example
 * const { ratiosToFirst } = await alternateSamples([() => timeProcess('node', ['-e', '0']), () => timeProcess('node', ['bin/dsc.js', '--help'])], 15);
 */
export async function alternateSamples(subjects: readonly (() => Promise<number>)[], rounds: number): Promise<AlternatedSamples> {
  const samples: number[][] = subjects.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const which = (round + k) % subjects.length;
      samples[which]!.push(await subjects[which]!());
    }
  }
  const median = (values: readonly number[]) => percentiles(values).median;
  return {
    medians: samples.map(median),
    ratiosToFirst: samples.map((s) => median(s.map((value, round) => value / samples[0]![round]!))),
  };
}
