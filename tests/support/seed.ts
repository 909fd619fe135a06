/**
 * One seed per test run, printed so any property failure replays: `FC_SEED=123 npm test`.
 * fast-check also prints the seed and counterexample path of a failing property.
 */
import fc from 'fast-check';

const fromEnv = process.env.FC_SEED === undefined ? Number.NaN : Number(process.env.FC_SEED);
export const seed = Number.isSafeInteger(fromEnv) ? fromEnv : (Date.now() ^ (process.pid << 8)) >>> 0;

let announced = false;
/** fast-check parameters with this run's seed; logs the seed once per test file. */
export function propertyParams(numRuns: number): fc.Parameters<unknown> {
  if (!announced) {
    announced = true;
    console.log(`fast-check seed ${seed} (replay with FC_SEED=${seed})`);
  }
  return { seed, numRuns };
}
