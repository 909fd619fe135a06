/**
 * `dsc bridge` (the real CLI) over a socat pseudo-terminal pair: a panel on the other end greets the
 * card, powers it on, types a PIN and a challenge, and checks the response with an independent OCRA
 * (tests/support/reference-ocra.ts) on the secret from the device file. Plus the clear errors.
 */
import { protocolVersion } from '../../emulator/serial/messages.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enrolmentData, parseDeviceRecord } from '../../firmware/device-record.ts';
import { PanelLink } from '../../emulator/serial/panel-link.ts';
import { closePort, openPort } from '../../emulator/serial/port.ts';
import { provisionCard, runDscInProcess } from '../support/cli.ts';
import { referenceOcra } from '../support/reference-ocra.ts';
import { ptySkipReason, type PtyPair } from './support/socat.ts';
import { ptyPerTest } from './support/pty-setup.ts';
import { startDsc } from './support/spawn.ts';

const panelIdentity = { model: 'TESTER', firmware: '0', serial: '-', clock: 'real' } as const;

describe.skipIf(ptySkipReason !== null)('dsc bridge over a pseudo-terminal', () => {
  let dir: string;
  let pair: PtyPair;
  ptyPerTest('dsc-bridge-', (fresh) => ({ dir, pair } = fresh));

  it('answers a tester as a card: hello, acked keys, and a response the secret confirms', async () => {
    const device = await provisionCard(join(dir, 'card.json'), ['--pin', '2580']);
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, '--clock', 'virtual']);
    try {
      await bridge.waitFor(/answering on/);
      const port = await openPort(pair.b, 115_200);
      const panel = new PanelLink(port, { identity: panelIdentity });
      const record = parseDeviceRecord(JSON.parse(readFileSync(device, 'utf8')));
      const card = await panel.connect();
      expect(card).toMatchObject({ version: protocolVersion, model: 'DSC+', serial: record.serial, clock: 'virtual' });
      expect(panel.frame?.text).toBe('');
      const on = await panel.press('PRESS', 2_000);
      expect(on.frame?.text).toBe('PIN>');
      for (const key of ['2', '5', '8', '0', 'OK'] as const) await panel.press(key, 0);
      expect(panel.frame?.text).toBe('CHALLNG>');
      for (const key of '123456') await panel.press(key as '1', 0);
      const shown = await panel.press('OK', 0);
      const data = enrolmentData(record);
      const expected = referenceOcra({ suite: data.suite, keyHex: Buffer.from(data.secret).toString('hex'), question: '123456', pin: '2580' }).response;
      data.secret.fill(0);
      expect(shown.frame?.text).toBe(expected);
      expect(shown.ackFrame).toBe(shown.frame?.number);
      panel.close();
      await closePort(port);
    } finally {
      expect(await bridge.stop()).toBe(0);
    }
  });

  it('refuses a port that cannot be opened, naming it, with exit 2 and the device file untouched', async () => {
    const device = await provisionCard(join(dir, 'card.json'));
    const before = readFileSync(device, 'utf8');
    const result = await runDscInProcess(['bridge', '--port', join(dir, 'no-such-port'), '--device', device]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`cannot open serial port "${join(dir, 'no-such-port')}"`);
    expect(readFileSync(device, 'utf8')).toBe(before);
  });
});

describe('dsc bridge arguments', () => {
  it.each([
    [['--device', 'x.json'], /--port is required/],
    [['--port', '/dev/null'], /--device is required/],
    [['--port', '/dev/null', '--device', 'x.json', '--baud', 'fast'], /--baud expected one of .*got "fast"/],
    [['--port', '/dev/null', '--device', 'x.json', '--clock', 'sundial'], /--clock expected real or virtual, got "sundial"/],
    [['--port', '/dev/null', '--device', 'x.json', '--fault', 'melt'], /--fault expected one of wrong-response, long-frame, ignore-lock, wrong-pins-reset-at-power-off, back-ignored-on-empty-challenge, got "melt"/],
    [['--port', '/dev/null', '--device', '/nonexistent/card.json'], /device file "\/nonexistent\/card.json" does not exist/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--port', '/dev/null', '--device', 'x.json', '--dtr', 'maybe'], /--dtr expected on or off, got "maybe"/],
    [['--port', '/dev/null', '--device', 'x.json', '--rts', '1'], /--rts expected on or off, got "1"/],
    [['--port', '/dev/null', '--device', 'x.json', '--reconnect-s', 'soon'], /--reconnect-s expected a non-negative integer, got "soon"/],
    [['--port', '/dev/null', '--device', 'x.json', '--reconnect-s', '99999'], /--reconnect-s expected at most 3600, got 99999/],
  ])('dsc bridge %j exits 2 with a clear message', async (args, message) => {
    const result = await runDscInProcess(['bridge', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
