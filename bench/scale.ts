/**
 * Memory and cold verification at scale (`npm run bench -- scale`, not in the default run: it takes minutes):
 * a SQLite host with `scaleDevices` enrolled cards and logins spread over all of them for `scaleLoginSeconds`,
 * in its own process (bench/scale-run.ts) so that the peak RSS is the verifier's alone. The issue's targets:
 * the process stays under 400 MB at 10^6 devices, and the verifier's memory does not grow with the devices (the
 * key cache is an LRU of `materialCacheEntriesMax`; SQLite's page cache has its own bound). CPU per verification
 * whose key is not cached, beside one whose key is, in alternating rounds of the same run.
 * `DSC_BENCH_SCALE_DEVICES` runs it at another size (a quick look).
 */
import { spawn } from 'node:child_process';
import { materialCacheEntriesMax } from '../host/match.ts';
import type { Row } from './harness.ts';
import type { ScaleResult } from './scale-run.ts';

const section = 'scale';
/** The issue's size. */
export const scaleDevices = 1_000_000;
/** How long logins run over the devices once they are enrolled. */
export const scaleLoginSeconds = 60;
/** The issue's bound on the verifier's resident memory at `scaleDevices`. */
const rssTargetBytes = 400 * 10 ** 6;
/** The whole run (enrolment, logins, the file's removal) on a slow shared machine, at most. */
const runMsMax = 30 * 60_000;

function run(devices: number, seconds: number): Promise<ScaleResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', 'bin/run-ts.js', 'bench/scale-run.ts', String(devices), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'], timeout: runMsMax });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`bench/scale-run.ts ended with ${signal ?? `exit code ${code}`}`));
      resolve(JSON.parse(out) as ScaleResult);
    });
  });
}

export async function bench(): Promise<Row[]> {
  const fromEnv = Number(process.env.DSC_BENCH_SCALE_DEVICES);
  const devices = Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : scaleDevices;
  const r = await run(devices, scaleLoginSeconds);
  const MiB = 2 ** 20;
  const count = (n: number) => n.toLocaleString('en-US');
  return [
    { section, name: `peak RSS, ${count(r.devices)} devices enrolled, logins over all`, value: r.rssPeakBytes / MiB, unit: 'MiB', ratio: r.rssPeakBytes / rssTargetBytes, reference: 'the 400 MB target', note: `${(r.rssStartBytes / MiB).toFixed(0)} MiB at start-up, ${(r.rssEndBytes / MiB).toFixed(0)} MiB at the end, of which ${(r.heapLiveBytes / MiB).toFixed(0)} MiB live JavaScript heap; key cache ≤ ${count(materialCacheEntriesMax)} devices` },
    { section, name: 'cold verification (key not cached), CPU', value: r.coldMicros, unit: 'µs', ratio: r.coldToWarm, reference: 'a warm one, same rounds', note: `${count(r.logins)} logins: ${count(materialCacheEntriesMax)} to fill the key cache, then ${scaleLoginSeconds} s of alternating rounds; in-process, SQLite NORMAL` },
    { section, name: 'warm verification (key cached), CPU', value: r.warmMicros, unit: 'µs', note: '500 devices whose keys stay cached' },
    { section, name: 'enrolment straight into the database', value: r.devices / r.enrolSeconds, unit: 'devices/s', note: `one transaction, ${r.enrolSeconds.toFixed(0)} s` },
    { section, name: 'database size', value: r.databaseBytes / MiB, unit: 'MiB', note: `${(r.databaseBytes / r.devices).toFixed(0)} bytes a device` },
  ];
}
