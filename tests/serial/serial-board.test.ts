/**
 * `dsc serial` (the real CLI) with a scripted keypad/display board on the other end of a socat pty
 * pair. The card keeps real time here, as with a real board: the board holds PRESS down and waits
 * for the frame the card's own timer produces (no sleep: the wait ends on the frame).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enrolmentData, parseDeviceRecord } from '../../firmware/device-record.ts';
import { powerHoldMs } from '../../firmware/types.ts';
import type { LinkEvent } from '../../emulator/serial/link.ts';
import { PanelLink, withTimeout } from '../../emulator/serial/panel-link.ts';
import { closePort, openPort } from '../../emulator/serial/port.ts';
import { provisionCard, runDscInProcess } from '../support/cli.ts';
import { referenceOcra } from '../support/reference-ocra.ts';
import { ptySkipReason, type PtyPair } from './support/socat.ts';
import { ptyPerTest } from './support/pty-setup.ts';
import { startDsc } from './support/spawn.ts';

/** Failure guard for the card's real-time hold timer (2 s) to produce its frame. */
const holdFrameTimeoutMs = powerHoldMs + 5_000;

describe.skipIf(ptySkipReason !== null)('dsc serial with a scripted keypad/display board', () => {
  let dir: string;
  let pair: PtyPair;
  ptyPerTest('dsc-serial-', (fresh) => ({ dir, pair } = fresh));

  it('greets the board, takes its keys and sends it the frames, the response included', async () => {
    const device = await provisionCard(join(dir, 'card.json'), ['--pin', '4711']);
    const record = parseDeviceRecord(JSON.parse(readFileSync(device, 'utf8')));
    // The board is up before the PC: it listens first, and the card must greet it.
    const port = await openPort(pair.b, 115_200);
    const board = new PanelLink(port, { identity: { model: 'KEYPAD-8', firmware: '0.3', serial: 'B17', clock: 'real' } });
    const greeted = new Promise<LinkEvent>((resolve) => board.onEvent((event) => event.type === 'connected' && resolve(event)));
    const serial = startDsc(['serial', '--port', pair.a, '--device', device]);
    try {
      const hello = await withTimeout(greeted, 20_000, 'dsc serial never greeted the board');
      expect(hello).toMatchObject({ type: 'connected', peer: { model: 'DSC+', serial: record.serial, clock: 'real' } });
      await board.waitForFrame((frame) => frame.text === '', 5_000, 'no first frame after the hello');
      await serial.waitFor(/board KEYPAD-8 0.3 \(serial B17\) connected/);

      // Hold PRESS: the card's own timer powers it on after powerHoldMs and sends the frame unasked.
      const down = await board.keyDown('PRESS');
      expect(down.frame?.text).toBe('');
      const on = await board.waitForFrame((frame) => frame.text === 'PIN>', holdFrameTimeoutMs, 'the card never showed PIN> while PRESS was held');
      expect((await board.keyUp('PRESS')).ackFrame).toBe(on.number);

      for (const key of ['4', '7', '1', '1']) await board.press(key as '4', 0);
      expect(board.frame?.text).toBe('PIN>----');
      await board.press('OK', 0);
      expect(board.frame?.text).toBe('CHALLNG>');
      for (const key of '987654') await board.press(key as '9', 0);
      const shown = await board.press('OK', 0);

      const data = enrolmentData(record);
      const expected = referenceOcra({ suite: data.suite, keyHex: Buffer.from(data.secret).toString('hex'), question: '987654', pin: '4711' }).response;
      data.secret.fill(0);
      expect(shown.frame?.text).toBe(expected);
      // What the operator sees on stdout is what went to the board.
      await serial.waitFor(new RegExp(`frame ${shown.frame!.number}  "${expected}"`), 'stdout');
      expect(serial.stdout).toContain(`frame ${on.number}  "PIN>"`);
      board.close();
      await closePort(port);
    } finally {
      expect(await serial.stop()).toBe(0);
    }
  });
});

describe('dsc serial arguments', () => {
  it.each([
    [['--device', 'x.json'], /--port is required/],
    [['--port', '/dev/null', '--device', 'x.json', '--baud', '115201'], /--baud expected one of .*got "115201"/],
    [['--port', '/dev/null', '--device', '/nonexistent/card.json'], /device file "\/nonexistent\/card.json" does not exist/],
  ])('dsc serial %j exits 2 with a clear message', async (args, message) => {
    const result = await runDscInProcess(['serial', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
