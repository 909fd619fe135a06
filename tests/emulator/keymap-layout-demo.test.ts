/**
 * The pure parts of the emulator shell: key routing (keymap), layout choice, and the first-run demo.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DemoSetupError, ensureDemo, rememberDemoPin } from '../../emulator/demo.ts';
import { isWeakPin } from '../../firmware/pin.ts';
import { readDeviceFile } from '../../emulator/card.ts';
import { openHost } from '../../host/index.ts';
import { holdPressMs, tapPressMs, translateInput } from '../../emulator/ui/keymap.ts';
import { chooseLayout, minColumns, minRows } from '../../emulator/ui/layout.ts';
import { powerHoldMs } from '../../firmware/types.ts';

describe('key routing', () => {
  it('sends digits, Enter and Backspace to the card when it has the focus', async () => {
    expect(translateInput('7', {}, 'card')).toEqual([{ type: 'card', key: '7', holdMs: tapPressMs }]);
    expect(translateInput('', { return: true }, 'card')).toEqual([{ type: 'card', key: 'OK', holdMs: tapPressMs }]);
    // Most terminals send DEL (0x7f) for Backspace, which Ink reports as `delete`.
    expect(translateInput('', { delete: true }, 'card')).toEqual([{ type: 'card', key: 'BACK', holdMs: tapPressMs }]);
    expect(translateInput('', { backspace: true }, 'card')).toEqual([{ type: 'card', key: 'BACK', holdMs: tapPressMs }]);
  });

  it('makes h and Space a hold of PRESS longer than the firmware\'s power hold, p a short press', async () => {
    expect(holdPressMs).toBeGreaterThan(powerHoldMs);
    expect(translateInput('h', {}, 'card')).toEqual([{ type: 'card', key: 'PRESS', holdMs: holdPressMs }]);
    expect(translateInput(' ', {}, 'card')).toEqual([{ type: 'card', key: 'PRESS', holdMs: holdPressMs }]);
    expect(translateInput('p', {}, 'card')).toEqual([{ type: 'card', key: 'PRESS', holdMs: tapPressMs }]);
  });

  it('sends the same keys to the login page when it has the focus, never to the card', async () => {
    expect(translateInput('12', {}, 'login')).toEqual([{ type: 'loginDigit', digit: '1' }, { type: 'loginDigit', digit: '2' }]);
    expect(translateInput('', { return: true }, 'login')).toEqual([{ type: 'loginSubmit' }]);
    expect(translateInput('h', {}, 'login')).toEqual([]);
    expect(translateInput('cdnu', {}, 'login').map((a) => a.type)).toEqual(['newChallenge', 'nextDevice', 'changePin', 'unlockCode']);
  });

  it('routes a pasted burst by the Tabs inside it, as tmux send-keys delivers them', async () => {
    const actions = translateInput('12\t34\r\t5', {}, 'card');
    expect(actions.map((a) => (a.type === 'card' ? `card:${a.key}` : a.type === 'loginDigit' ? `login:${a.digit}` : a.type))).toEqual([
      'card:1', 'card:2', 'switchFocus', 'login:3', 'login:4', 'loginSubmit', 'switchFocus', 'card:5',
    ]);
  });

  it('while help is open only ?, Esc, Tab and q do anything', async () => {
    expect(translateInput('5', {}, 'card', true)).toEqual([]);
    expect(translateInput('?', {}, 'card', true)).toEqual([{ type: 'toggleHelp' }]);
    expect(translateInput('', { escape: true }, 'card', true)).toEqual([{ type: 'closeHelp' }]);
    expect(translateInput('q', {}, 'login', true)).toEqual([{ type: 'quit' }]);
    expect(translateInput('c', { ctrl: true }, 'card')).toEqual([{ type: 'quit' }]);
  });
});

describe('layout', () => {
  it('draws the large LCD when there is room, the compact one at 80×24, and refuses below', async () => {
    expect(chooseLayout(120, 40)).toMatchObject({ type: 'fits', lcd: 'large' });
    expect(chooseLayout(minColumns, minRows)).toMatchObject({ type: 'fits', lcd: 'compact' });
    expect(chooseLayout(minColumns - 1, minRows)).toEqual({ type: 'tooSmall', columns: 79, rows: 24 });
    expect(chooseLayout(minColumns, minRows - 1)).toEqual({ type: 'tooSmall', columns: 80, rows: 23 });
  });

  it('never lays out wider than the terminal, at every size from 80×24 to 200×60', async () => {
    for (let columns = minColumns; columns <= 200; columns++) {
      for (let rows = minRows; rows <= 60; rows += 6) {
        const layout = chooseLayout(columns, rows);
        if (layout.type !== 'fits') throw new Error(`${columns}×${rows} did not fit`);
        expect(layout.cardColumns + layout.loginColumns).toBeLessThanOrEqual(columns);
      }
    }
  });
});

describe('first-run demo', () => {
  const work = mkdtempSync(join(tmpdir(), 'dsc-demo-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('knows weak PINs (one digit repeated, runs up or down)', async () => {
    for (const pin of ['0000', '1111', '1234', '6789', '9876', '3210']) expect(isWeakPin(pin), pin).toBe(true);
    for (const pin of ['1357', '2580', '0051', '1243']) expect(isWeakPin(pin), pin).toBe(false);
  });

  it('makes a device and an enrolled user under ./.dsc/ once, then reuses them', async () => {
    const first = await ensureDemo(join(work, '.dsc'));
    expect(first.created).toBe(true);
    expect(isWeakPin(first.pin)).toBe(false);
    expect(statSync(first.configPath).mode & 0o077).toBe(0);
    const record = readDeviceFile(first.devicePath);
    const host = await openHost({ dbPath: first.dbPath });
    try {
      expect((await host.devices(first.user)).map((d) => d.serial)).toEqual([record.serial]);
    } finally {
      await host.close();
    }
    const again = await ensureDemo(join(work, '.dsc'));
    expect(again).toMatchObject({ created: false, pin: first.pin, devicePath: first.devicePath });
    expect(readDeviceFile(again.devicePath).serial).toBe(record.serial);
    rememberDemoPin(again, '7391');
    expect((await ensureDemo(join(work, '.dsc'))).pin).toBe('7391');
  });

  it('a broken demo.json is reported by name and nothing is changed', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'dsc-demo-broken-'));
    try {
      await ensureDemo(join(folder, '.dsc'));
      const config = join(folder, '.dsc/demo.json');
      writeFileSync(config, '{"user":"demo","pin":"12"}');
      const device = readFileSync(join(folder, '.dsc/demo-card.json'), 'utf8');
      await expect(ensureDemo(join(folder, '.dsc'))).rejects.toThrow(DemoSetupError);
      await expect(ensureDemo(join(folder, '.dsc'))).rejects.toThrow(/demo\.json.*4-digit "pin"/);
      expect(readFileSync(config, 'utf8')).toBe('{"user":"demo","pin":"12"}');
      expect(readFileSync(join(folder, '.dsc/demo-card.json'), 'utf8')).toBe(device);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('an interrupted first run (device file but no demo.json) is made again from scratch', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'dsc-demo-partial-'));
    try {
      const made = await ensureDemo(join(folder, '.dsc'));
      const oldSerial = readDeviceFile(made.devicePath).serial;
      rmSync(made.configPath);
      const remade = await ensureDemo(join(folder, '.dsc'));
      expect(remade.created).toBe(true);
      expect(existsSync(remade.configPath)).toBe(true);
      // The database is kept (dsc host may hold other users in it), and the leftover card is withdrawn:
      // the user holds exactly the new card.
      const host = await openHost({ dbPath: remade.dbPath });
      try {
        expect((await host.devices(remade.user)).filter((d) => d.active).map((d) => d.serial)).toEqual([readDeviceFile(remade.devicePath).serial]);
        expect((await host.devices(remade.user)).find((d) => d.serial === oldSerial)).toMatchObject({ active: false });
      } finally {
        await host.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
