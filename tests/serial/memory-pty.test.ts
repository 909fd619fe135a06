/**
 * A bounded link, against a real `dsc bridge` process over a pseudo-terminal: a peer that sends and
 * never reads, and a peer that sends 10^6 bytes of junk, leave the bridge's memory flat (each line it
 * answered used to be queued without end: 4.4 GB). The bounds are printed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeLine } from '../../emulator/serial/codec.ts';
import { junkRepliesPerSecondMax, protocolVersion, sendQueueBytesMax, sendQueuePauseBytes } from '../../emulator/serial/messages.ts';
import { PanelLink } from '../../emulator/serial/panel-link.ts';
import { closePort, openPort } from '../../emulator/serial/port.ts';
import { runDscInProcess } from '../support/cli.ts';
import { seed } from '../support/seed.ts';
import { deafPeer, flood, peakWhile, python, residentBytes } from './support/flood.ts';
import { inCi, ptySkipReason, type PtyPair } from './support/socat.ts';
import { ptyPerTest } from './support/pty-setup.ts';
import { startDsc } from './support/spawn.ts';

/** What "flat" allows: far below what queueing every answer would take, well above the noise of a garbage collector. */
const growthBytesMax = 48 * 1024 * 1024;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const tester = { model: 'TESTER', firmware: '0', serial: '-', clock: 'real' } as const;

describe.skipIf(ptySkipReason !== null)('a bounded link (dsc bridge over a pty)', () => {
  let dir: string;
  let device: string;
  let pair: PtyPair;
  ptyPerTest('dsc-memory-', (fresh) => ({ dir, pair } = fresh));
  beforeEach(async () => {
    device = join(dir, 'card.json');
    expect((await runDscInProcess(['provision', '--pin', '2580', '--out', device])).status).toBe(0);
  });

  it.skipIf(!existsSync(python) && !inCi)('a peer that sends and never reads: the bridge stops reading, its memory stays flat, and it still stops on SIGTERM', async () => {
    // On a kernel pty of the peer's own: through socat, the relay itself would stop taking our lines.
    const peer = await deafPeer(dir);
    const bridge = startDsc(['bridge', '--port', peer.path, '--device', device, '--clock', 'virtual', '--trace']);
    try {
      await bridge.waitFor(/answering on/);
      const pid = bridge.child.pid!;
      const before = residentBytes(pid)!;
      // A hello, a key, then the same key line again and again: every copy is answered (ER DUP, about
      // three times its size), and the peer reads none of it.
      const opening = encodeLine(0, { type: 'hello', version: protocolVersion, ...tester }) + encodeLine(1, { type: 'keyDown', key: 'PRESS' });
      const lines = Buffer.from(opening + encodeLine(1, { type: 'keyDown', key: 'PRESS' }).repeat(1_000), 'latin1');
      const offered = 16 * 1024 * 1024;
      const { value: written, peakResidentBytes } = await peakWhile(pid, peer.send(lines, offered, 2_000));
      const growth = peakResidentBytes - before;
      console.log(
        `non-reading peer: bound ${sendQueuePauseBytes} bytes queued before the bridge stops reading, ${sendQueueBytesMax} at most; ` +
          `the bridge took ${written} bytes of ${offered} offered; bridge RSS ${mib(before)} -> peak ${mib(peakResidentBytes)} (+${mib(growth)})`,
      );
      expect(written).toBeLessThan(offered); // it did stop reading
      expect(growth).toBeLessThan(growthBytesMax);
      await bridge.waitFor(/!! paused \(\d+ bytes queued for the peer\)/);
      // The bridge stops on SIGTERM although its peer reads nothing.
      const code = await bridge.stop();
      expect(code, bridge.stderr.split('\n').filter((line) => !/^(tx|rx|!!) /.test(line)).join('\n')).toBe(0);
    } finally {
      await bridge.stop();
      peer.close();
    }
  });

  it('10^6 bytes of junk: answered at most junkRepliesPerSecondMax times a second, memory flat, and the bridge still answers a hello', async () => {
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, '--clock', 'virtual']);
    try {
      await bridge.waitFor(/answering on/);
      const pid = bridge.child.pid!;
      const port = await openPort(pair.b, 115_200);
      let received = '';
      port.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const before = residentBytes(pid)!;
      // Random bytes with a line end every 1 to 64 bytes: tens of thousands of damaged lines (seeded).
      let state = seed || 1;
      const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
      const junk = Buffer.alloc(1_000_000);
      for (let i = 0; i < junk.length; i++) junk[i] = random() % 48 === 0 ? 0x0a : random();
      const start = Date.now();
      const result = await flood(pair.b, junk, junk.length, 10_000, pid);
      expect(result.writtenBytes).toBe(junk.length);
      // Let the bridge get through it: a hello is answered once the junk before it is read.
      const panel = new PanelLink(port, { identity: tester });
      await panel.connect(30_000);
      const elapsedS = (Date.now() - start) / 1000;
      const replies = received.split('\r\n').filter((line) => line.startsWith('ER ')).length;
      const growth = result.peakResidentBytes - before;
      console.log(
        `10^6 junk bytes in ${elapsedS.toFixed(1)} s: ${replies} ER replies (bound ${junkRepliesPerSecondMax}/s), ${received.length} bytes back; ` +
          `bridge RSS ${mib(before)} -> peak ${mib(result.peakResidentBytes)} (+${mib(growth)}); seed ${seed}`,
      );
      expect(replies).toBeLessThanOrEqual(junkRepliesPerSecondMax * (Math.ceil(elapsedS) + 1));
      expect(replies).toBeGreaterThan(0);
      expect(growth).toBeLessThan(growthBytesMax);
      panel.close();
      await closePort(port);
    } finally {
      expect(await bridge.stop()).toBe(0);
    }
  });
});
