/**
 * `dsc bridge --trace` prints every line for a person debugging a board, but never the PIN: digits
 * typed where the display masks them are hidden there too, key and CRC (the CRC of `KD 7 4` would give
 * the digit away in ten guesses). Digits of the challenge, which the display shows, stay visible.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PanelLink } from '../../emulator/serial/panel-link.ts';
import { closePort, openPort } from '../../emulator/serial/port.ts';
import { provisionCard } from '../support/cli.ts';
import { ptySkipReason, type PtyPair } from './support/socat.ts';
import { ptyPerTest } from './support/pty-setup.ts';
import { startDsc } from './support/spawn.ts';

const pin = '4739';

describe.skipIf(ptySkipReason !== null)('dsc bridge --trace', () => {
  let dir: string;
  let pair: PtyPair;
  ptyPerTest('dsc-trace-', (fresh) => ({ dir, pair } = fresh));

  it('hides the PIN digits (digipass: PIN and new PIN), shows the challenge digits', async () => {
    const device = await provisionCard(join(dir, 'card.json'), ['--profile', 'digipass', '--pin', pin]);
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, '--clock', 'virtual', '--trace']);
    try {
      await bridge.waitFor(/answering on/);
      const port = await openPort(pair.b, 115_200);
      const panel = new PanelLink(port, { identity: { model: 'TESTER', firmware: '0', serial: '-', clock: 'real' } });
      await panel.connect();
      await panel.press('PRESS', 2_000);
      for (const key of pin) await panel.press(key as '1', 0);
      await panel.press('OK', 0);
      expect(panel.frame?.text).toBe('CHALLNG>');
      // The digipass PIN change: hold PRESS at CHALLNG>, type a new PIN twice.
      await panel.press('PRESS', 2_000);
      expect(panel.frame?.text).toBe('NEW PIN');
      for (const key of '6185') await panel.press(key as '1', 0);
      await panel.press('OK', 0);
      for (const key of '6185') await panel.press(key as '1', 0);
      await panel.press('OK', 0);
      await panel.advance(2_000); // PIN SET shows, then CHALLNG>
      expect(panel.frame?.text).toBe('CHALLNG>');
      for (const key of '905214') await panel.press(key as '1', 0);
      panel.close();
      await closePort(port);
    } finally {
      await bridge.stop();
    }
    const received = bridge.stderr.split('\n').filter((line) => /^rx K[DU] /.test(line));
    const digitLines = received.filter((line) => /^rx K[DU] \d+ [0-9]\*/.test(line));
    // 4 PIN digits + 8 new-PIN digits, down and up: 24 hidden; the 6 challenge digits, down and up: 12 shown.
    expect(received.filter((line) => /\(digit hidden\)$/.test(line))).toHaveLength(24);
    expect(digitLines.map((line) => /^rx K[DU] \d+ ([0-9])\*/.exec(line)![1]).join('')).toBe('990055221144');
  });
});
