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

/** How long one rate measurement runs; long enough to smooth JIT warm-up, short enough for 2 cores. */
export const sampleDurationMs = 600;
export const warmupDurationMs = 150;

/** Operations per second of `fn`, run in batches until `durationMs` has passed (after a warm-up). */
export function opsPerSecond(fn: () => unknown, durationMs = sampleDurationMs): number {
  const batch = calibrate(fn);
  const deadlineWarm = performance.now() + warmupDurationMs;
  while (performance.now() < deadlineWarm) for (let i = 0; i < batch; i++) fn();
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
