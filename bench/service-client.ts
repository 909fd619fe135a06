/**
 * The load generator of bench/service.ts, in its own process so the clients do not share the server's event
 * loop: `CLIENTS` concurrent loops, each POSTing prepared answers to /v1/login/verify one after another for
 * `DURATION_MS` (or until the prepared answers run out), over keep-alive connections. Prints one JSON line.
 */
import { readFileSync } from 'node:fs';

const [url, file, clientsText, durationText] = process.argv.slice(2);
const clients = Number(clientsText);
const durationMs = Number(durationText);
const work = JSON.parse(readFileSync(file!, 'utf8')) as { user: string; challenge: string; response: string }[];

let next = 0;
let errors = 0;
let firstError = '';
const latenciesMs: number[] = [];
const started = performance.now();
const deadline = started + durationMs;

async function client(): Promise<void> {
  while (performance.now() < deadline && next < work.length) {
    const item = work[next++]!;
    const t0 = performance.now();
    const response = await fetch(`${url}/v1/login/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(item) });
    const text = await response.text();
    latenciesMs.push(performance.now() - t0);
    if (response.status !== 200) {
      errors++;
      firstError ||= `${response.status} ${text.slice(0, 200)}`;
    }
  }
}

await Promise.all(Array.from({ length: clients }, client));
const elapsedMs = performance.now() - started;
process.stdout.write(`${JSON.stringify({ done: latenciesMs.length, errors, firstError, elapsedMs, exhausted: next >= work.length, latenciesMs })}\n`);
