import { randomBytes } from 'node:crypto';
import { hashPin, prepareOcra } from '../firmware/ocra/index.ts';
import { openHost } from '../host/index.ts';
import { memoryStore } from '../host/memory-store.ts';
const suite = 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1';
const devices = Number(process.argv[4] ?? 500), batch = 500;
function secretOf(i: number) { const s = new Uint8Array(20); new DataView(s.buffer).setUint32(0, i + 1); return s; }
const host = openHost({ store: memoryStore(), hostKey: new Uint8Array(randomBytes(32)) });
const cards = Array.from({ length: devices }, (_, i) => { host.enrollKey({ user: `user${i}`, serial: String(100000 + i), profile: 'dscplus', suite, secret: secretOf(i), pin: '1234' }); return prepareOcra(suite, secretOf(i)); });
const users = cards.map((_, i) => `user${i}`);
const pinHash = hashPin('SHA1', '1234');
let device = 0;
const mode = process.argv[2] ?? 'cycle';
let chMs = 0, vMs = 0, n = 0;
const end = performance.now() + Number(process.argv[3] ?? 6000);
const raw = cards[0]!;
while (performance.now() < end) {
  const issued: { user: string; challenge: string; card: number }[] = [];
  let t = performance.now();
  for (let i = 0; i < batch; i++) { const user = users[device]!; issued.push({ user, challenge: host.challenge({ user }).challenge, card: device }); device = (device + 1) % devices; }
  chMs += performance.now() - t;
  const responses = issued.map((c) => cards[c.card]!.respond({ challenge: c.challenge, pinHash }));
  t = performance.now();
  for (let i = 0; i < batch; i++) { const c = issued[i]!; if (!host.verify({ user: c.user, challenge: c.challenge, response: responses[i]! }).ok) throw new Error('x'); }
  vMs += performance.now() - t;
  const t2 = performance.now();
  for (let i = 0; i < batch; i++) raw.respond({ challenge: '123456', pinHash });
  n += batch;
  (globalThis as any).rawMs = ((globalThis as any).rawMs ?? 0) + performance.now() - t2;
}
console.log(`challenge ${(chMs * 1000 / n).toFixed(2)} µs, verify ${(vMs * 1000 / n).toFixed(2)} µs, raw ${(((globalThis as any).rawMs) * 1000 / n).toFixed(2)} µs`);
