/**
 * The load generator of bench/service.ts, in its own process so the clients do not share the server's event
 * loop. They do share the machine's cores, so every request goes through node:http with a keep-alive Agent
 * (one connection per client for the length of a round), which costs far less CPU per request than `fetch`
 * (undici), and each answer's body is serialized once, when it is loaded.
 *
 * Driven by its parent one command at a time, a JSON line on stdin, each answered by a JSON line on stdout:
 * - `{"type":"load","target":T,"url":U,"file":F,"append":A}`: F's prepared answers (`{user, challenge, response}`)
 *   are now target T's (with A: added after those it has left), to be sent to U's /v1/login/verify; answers `{"type":"loaded","remaining":N}`, the answers T has not sent yet.
 * - `{"type":"round","target":T,"clients":C,"ms":M}`: C loops POST T's next answers one after another for M ms
 *   (or until they run out); answers one Round (below). Every answer is checked: status 200 and `ok: true`.
 * - `{"type":"exit"}`.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';

/** What one round reports: `done` requests answered, of which `errors` were not a verified 200. */
export interface Round {
  readonly type: 'round';
  readonly done: number;
  readonly errors: number;
  readonly firstError: string;
  readonly elapsedMs: number;
  /** The target's prepared answers ran out during (or before) this round: it ended early. */
  readonly exhausted: boolean;
  /** The target's answers not sent yet. */
  readonly remaining: number;
  readonly latenciesMs: number[];
  /** This process's CPU (user + system) during the round. */
  readonly cpuMicros: number;
}

interface Target {
  readonly url: URL;
  readonly bodies: string[];
  next: number;
}

const targets = new Map<string, Target>();

function post(target: Target, agent: Agent, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: target.url.hostname, port: target.url.port, path: '/v1/login/verify', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function verified(text: string): boolean {
  try {
    return (JSON.parse(text) as { ok?: unknown }).ok === true;
  } catch {
    return false;
  }
}

async function round(target: Target, clients: number, ms: number): Promise<Round> {
  // Connections of its own, one per client loop, closed at its end: a connection left idle between rounds
  // would meet the server's keep-alive timeout, and a request sent as the server closes it fails.
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + ms;
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError = '';
  const fail = (what: string) => {
    errors++;
    firstError ||= what;
  };
  const loop = async () => {
    while (performance.now() < deadline && target.next < target.bodies.length) {
      const body = target.bodies[target.next++]!;
      const t0 = performance.now();
      try {
        const { status, text } = await post(target, agent, body);
        if (status !== 200 || !verified(text)) fail(`${status} ${text.slice(0, 200)}`);
      } catch (error) {
        fail(`request failed: ${(error as Error).message}`);
      }
      latenciesMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  return { type: 'round', done: latenciesMs.length, errors, firstError, elapsedMs, exhausted: target.next >= target.bodies.length, remaining: target.bodies.length - target.next, latenciesMs, cpuMicros: cpu.user + cpu.system };
}

type Command =
  | { type: 'load'; target: string; url: string; file: string; append?: boolean }
  | { type: 'round'; target: string; clients: number; ms: number }
  | { type: 'exit' };

function targetOf(name: string): Target {
  const target = targets.get(name);
  if (!target) throw new Error(`service-client: no target ${JSON.stringify(name)} loaded`);
  return target;
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as Command;
  if (command.type === 'exit') break;
  if (command.type === 'load') {
    const bodies = (JSON.parse(readFileSync(command.file, 'utf8')) as unknown[]).map((item) => JSON.stringify(item));
    const known = targets.get(command.target);
    if (command.append && known) {
      // The answers sent are dropped: a long run holds only what it has yet to send.
      known.bodies.splice(0, known.next);
      known.next = 0;
      for (const body of bodies) known.bodies.push(body);
    } else {
      targets.set(command.target, { url: new URL(command.url), bodies, next: 0 });
    }
    const target = targetOf(command.target);
    process.stdout.write(`${JSON.stringify({ type: 'loaded', remaining: target.bodies.length - target.next })}\n`);
  } else {
    const target = targetOf(command.target);
    process.stdout.write(`${JSON.stringify(await round(target, command.clients, command.ms))}\n`);
  }
}
