/**
 * Cables that come and go, on real pseudo-terminals whose paths are symlinks socat makes and removes:
 * killing socat pulls the cable out (the path vanishes), a new socat at the same paths puts it back.
 * `dsc serial` and `dsc bridge` wait and greet again with the card as it was; `dsc conformance` stops
 * with its own exit code without blaming the card; a board that resets when the port opens (deaf
 * for 1.6 s, then saying HI) still connects.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeLine } from '../../emulator/serial/codec.ts';
import type { LinkEvent } from '../../emulator/serial/link.ts';
import { protocolVersion } from '../../emulator/serial/messages.ts';
import { PanelLink, withTimeout } from '../../emulator/serial/panel-link.ts';
import { closePort, openPort } from '../../emulator/serial/port.ts';
import { runDscInProcess } from '../support/cli.ts';
import { ptyPair, ptySkipReason, type PtyPair } from './support/socat.ts';
import { startDsc, startTimeoutMs } from './support/spawn.ts';

const boardIdentity = { model: 'KEYPAD-8', firmware: '0.3', serial: 'B17', clock: 'real' } as const;

/** The other end of the cable as a panel that answers hellos; resolves once connected. */
async function attachPanel(path: string): Promise<{ panel: PanelLink; close: () => Promise<void>; connected: Promise<LinkEvent> }> {
  const port = await openPort(path, 115_200);
  const panel = new PanelLink(port, { identity: boardIdentity });
  const connected = new Promise<LinkEvent>((resolve) => panel.onEvent((event) => event.type === 'connected' && resolve(event)));
  return {
    panel,
    connected,
    close: async () => {
      panel.close();
      await closePort(port);
    },
  };
}

describe.skipIf(ptySkipReason !== null)('cables that come and go', () => {
  let dir: string;
  let device: string;
  let links: { a: string; b: string };
  let pair: PtyPair | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsc-cable-'));
    device = join(dir, 'card.json');
    links = { a: join(dir, 'port-a'), b: join(dir, 'port-b') };
    expect((await runDscInProcess(['provision', '--pin', '2580', '--out', device])).status).toBe(0);
  });
  afterEach(async () => {
    await pair?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const command of ['bridge', 'serial'] as const) {
    it(`dsc ${command} waits for a pty that was removed, and resumes with the card as it was once it is back`, async () => {
      pair = await ptyPair(links);
      const args = command === 'bridge' ? ['--clock', 'virtual'] : [];
      const running = startDsc([command, '--port', links.a, '--device', device, '--reconnect-s', '60', ...args]);
      try {
        await running.waitFor(command === 'bridge' ? /answering on/ : /using the board/);
        let end = await attachPanel(links.b);
        if (command === 'bridge') await end.panel.connect(startTimeoutMs);
        else await withTimeout(end.connected, startTimeoutMs, 'dsc serial never greeted');
        await end.panel.keyDown('PRESS');
        if (command === 'bridge') await end.panel.advance(2_000);
        const on = await end.panel.waitForFrame((frame) => frame.text === 'PIN>', 10_000, 'never PIN>');
        await end.panel.keyUp('PRESS');
        await end.panel.press('2', 0);
        expect(end.panel.frame?.text).toBe('PIN>-');
        await end.close();

        await pair.close(); // the cable is pulled out: both paths vanish
        await running.waitFor(/went away; waiting up to 60 s for it to come back/);
        pair = await ptyPair(links); // and put back
        await running.waitFor(/is back; saying hello again/);
        end = await attachPanel(links.b);
        // The PC greets again by itself; the panel answers, and the card's display comes after.
        const hello = await withTimeout(end.connected, startTimeoutMs, `dsc ${command} did not greet again after the replug`);
        expect(hello).toMatchObject({ peer: { version: protocolVersion, model: 'DSC+' } });
        const shown = await end.panel.waitForFrame(() => true, 5_000, 'no frame after the hello');
        expect(shown.text).toBe('PIN>-'); // the same card, in the same state
        expect(shown.number).toBeGreaterThan(on.number);
        await end.panel.press('5', 0);
        expect(end.panel.frame?.text).toBe('PIN>--');
        await end.close();
      } finally {
        expect(await running.stop()).toBe(0);
      }
    });
  }

  it('dsc bridge gives up after --reconnect-s when the port stays away (exit 1)', async () => {
    pair = await ptyPair(links);
    const bridge = startDsc(['bridge', '--port', links.a, '--device', device, '--reconnect-s', '1']);
    await bridge.waitFor(/answering on/);
    await pair.close();
    pair = undefined;
    expect(await bridge.exited()).toBe(1);
    expect(bridge.stderr).toMatch(/port .*port-a closed: it did not come back within 1 s/);
  });

  it('dsc conformance stops with exit 3 when the port closes, and does not blame the card', async () => {
    pair = await ptyPair(links);
    // A real-clock card: the run takes minutes, so the cable is surely pulled during it.
    const bridge = startDsc(['bridge', '--port', links.a, '--device', device, '--clock', 'real', '--reconnect-s', '0']);
    try {
      await bridge.waitFor(/answering on/);
      const conformance = startDsc(['conformance', '--port', links.b, '--device', device]);
      await conformance.waitFor(/PASS {2}handshake/, 'stdout');
      const pulledAt = Date.now();
      await pair.close();
      pair = undefined;
      expect(await conformance.exited()).toBe(3);
      console.log(`dsc conformance stopped ${Date.now() - pulledAt} ms after the port closed (process exit included)`);
      expect(conformance.stderr).toMatch(/port .*port-b closed during the run \(cable unplugged\?\).*The card was not judged/);
      expect(conformance.stdout).not.toMatch(/FAIL/);
    } finally {
      await bridge.stop();
    }
  });

  it('a board that resets when the port opens (deaf for 1.6 s, then HI) connects to dsc serial', async () => {
    pair = await ptyPair(links);
    const port = await openPort(links.b, 115_200);
    const heard: string[] = [];
    const collect = (chunk: Buffer) => heard.push(...chunk.toString('latin1').split('\r\n').filter((line) => line !== ''));
    port.on('data', collect);
    const serial = startDsc(['serial', '--port', links.a, '--device', device]);
    try {
      await serial.waitFor(/using the board/);
      // The board is resetting: everything it receives is lost, and it sends nothing, for 1.6 s.
      await withTimeout(
        new Promise<void>((resolve) => {
          const check = () => (heard.some((line) => line.startsWith('HI ')) ? resolve() : setTimeout(check, 20));
          check();
        }),
        startTimeoutMs,
        'dsc serial never said HI',
      );
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      port.off('data', collect);
      const lostHellos = heard.filter((line) => line.startsWith('HI ')).length;
      // Booted: the board says HI once, as its firmware does at start-up.
      const board = new PanelLink(port, { identity: boardIdentity });
      const connected = new Promise<LinkEvent>((resolve) => board.onEvent((event) => event.type === 'connected' && resolve(event)));
      port.write(encodeLine(0, { type: 'hello', version: protocolVersion, ...boardIdentity }));
      // (The PanelLink sees the PC's HA to our hello, or the PC's own repeated HI: either connects.)
      await withTimeout(connected, 5_000, 'the board never connected after its reset');
      const frame = await board.waitForFrame(() => true, 5_000, 'no frame after the hello');
      expect(frame.text).toBe('');
      await serial.waitFor(/board KEYPAD-8 0.3 \(serial B17\) connected/);
      expect(lostHellos).toBeGreaterThanOrEqual(1);
      board.close();
    } finally {
      await closePort(port);
      expect(await serial.stop()).toBe(0);
    }
  });

  it('a board that resets and then only answers (never greets) is greeted again by dsc serial until it does', async () => {
    pair = await ptyPair(links);
    const port = await openPort(links.b, 115_200);
    const drop = () => {};
    port.on('data', drop);
    const serial = startDsc(['serial', '--port', links.a, '--device', device]);
    try {
      await serial.waitFor(/using the board/);
      await new Promise((resolve) => setTimeout(resolve, 1_600)); // deaf while it resets
      port.off('data', drop);
      const board = new PanelLink(port, { identity: boardIdentity });
      const connected = new Promise<LinkEvent>((resolve) => board.onEvent((event) => event.type === 'connected' && resolve(event)));
      // It never says HI itself: only the PC's next repeated HI can connect it.
      await withTimeout(connected, 5_000, 'dsc serial did not greet the board again');
      expect((await board.waitForFrame(() => true, 5_000, 'no frame')).text).toBe('');
      board.close();
    } finally {
      await closePort(port);
      expect(await serial.stop()).toBe(0);
    }
  });
});
