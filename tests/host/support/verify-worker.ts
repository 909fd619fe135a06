/**
 * A separate verifier process for the concurrency tests (run with `node --import tsx`):
 *   verify DB USER CHALLENGE RESPONSE   -> prints the verify result as JSON
 *   loop DB USER DEVICE.json            -> challenge + verify with the card's response, forever; prints the count
 * The host key comes from DSC_HOST_KEY (hex), as for `dsc host`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hexToBytes } from '@noble/hashes/utils.js';
import { openHost } from '../../../host/index.ts';
import { cardResponse } from './devices.ts';

const [mode, dbPath, user, a, b] = process.argv.slice(2);
// The loop issues challenges as fast as it can: the issue limits are not what this worker tests.
const host = await openHost({ dbPath: dbPath!, hostKey: hexToBytes(process.env.DSC_HOST_KEY!), issueLimits: { perAccount: Number.MAX_SAFE_INTEGER, perDevice: Number.MAX_SAFE_INTEGER, windowMs: 60_000 } });
if (mode === 'verify') {
  // Line up with the other racers: say ready, then wait for the parent's go file, so all verify at once.
  const go = process.env.DSC_RACE_GO;
  if (go) {
    process.stdout.write('ready\n');
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (!existsSync(go)) Atomics.wait(pause, 0, 0, 1);
  }
  process.stdout.write(`${JSON.stringify(await host.verify({ user: user!, challenge: a!, response: b!, purpose: 'login' }))}\n`);
  await host.close();
} else {
  const record = JSON.parse(readFileSync(a!, 'utf8'));
  for (let n = 1; ; n++) {
    const { challenge } = await host.challenge({ user: user! });
    const result = await host.verify({ user: user!, challenge, response: cardResponse(record, challenge, '1234'), purpose: 'login' });
    if (!result.ok) throw new Error(`verify failed: ${JSON.stringify(result)}`);
    if (n % 50 === 0) process.stdout.write(`${n}\n`);
  }
}
