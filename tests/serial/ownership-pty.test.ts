/**
 * One owner per device file, with real processes on real pseudo-terminals: a second command waits,
 * then is refused by the holder's process id; counters are never reused, whatever races; a file changed
 * behind a holder's back is never overwritten with the holder's stale card; a lock left by a killed
 * process is taken over. The commands that race or hold are real processes; setting a card up and reading
 * it back afterwards run in-process (the same code, without a process start).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { PanelLink } from '../../emulator/serial/panel-link.ts';
import { closePort, openPort } from '../../emulator/serial/port.ts';
import { dscPath, provisionCard, runDscInProcess } from '../support/cli.ts';
import { referenceOcra } from '../support/reference-ocra.ts';
import { alive, lockHolderPid, runDscAsync, until } from './support/processes.ts';
import { ptySkipReason, type PtyPair } from './support/socat.ts';
import { ptyPerTest } from './support/pty-setup.ts';
import { startDsc, startTimeoutMs } from './support/spawn.ts';

const suite = 'OCRA-1:HOTP-SHA1-8:C-QN06-PSHA1';
const seedHex = '3132333435363738393031323334353637383930';
const pin = '4711';
const challenge = '123456';
const panelIdentity = { model: 'TESTER', firmware: '0', serial: '-', clock: 'real' } as const;

/** The response of the counter suite at `counter`, from the independent reference OCRA. */
function responseAt(counter: number): string {
  return referenceOcra({ suite, keyHex: seedHex, question: challenge, pin, counter: BigInt(counter) }).response;
}

describe.skipIf(ptySkipReason !== null)('one owner per device file', () => {
  let dir: string;
  let device: string;
  let pair: PtyPair;
  ptyPerTest('dsc-owner-', (fresh) => ({ dir, pair } = fresh));
  beforeEach(async () => {
    device = join(dir, 'card.json');
    expect((await runDscInProcess(['provision', '--suite', suite, '--seed', seedHex, '--pin', pin, '--out', device])).status).toBe(0);
  });

  it('8 concurrent dsc respond on one counter card: 8 different counters, none reused, none skipped', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => runDscAsync(['respond', '--device', device, '--pin', pin, '--challenge', challenge])));
    for (const result of results) expect(result.status, result.stderr).toBe(0);
    const responses = results.map((result) => result.stdout.trim()).sort();
    expect(responses).toEqual(Array.from({ length: 8 }, (_, counter) => responseAt(counter)).sort());
    // The next one goes on from counter 8: every one of the 8 was written back.
    expect((await runDscInProcess(['respond', '--device', device, '--pin', pin, '--challenge', challenge])).stdout.trim()).toBe(responseAt(8));
    expect(existsSync(`${device}.lock`)).toBe(false);
  });

  it('bridge + press: press waits, is refused naming the bridge, and after the bridge stops nothing it wrote is lost', async () => {
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, '--clock', 'virtual']);
    try {
      await bridge.waitFor(/answering on/);
      expect(lockHolderPid(device)).toBe(bridge.child.pid);
      // The card answers a challenge on the bridge: counter 0 is used there.
      const port = await openPort(pair.b, 115_200);
      const panel = new PanelLink(port, { identity: panelIdentity });
      await panel.connect();
      await panel.press('PRESS', 2_000);
      for (const key of pin) await panel.press(key as '1', 0);
      await panel.press('OK', 0);
      for (const key of challenge) await panel.press(key as '1', 0);
      expect((await panel.press('OK', 0)).frame?.text).toBe(responseAt(0));
      const refused = await runDscAsync(['press', '--device', device, 'PRESS:2000']);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain(`is in use by process ${bridge.child.pid} (dsc bridge)`);
      panel.close();
      await closePort(port);
    } finally {
      expect(await bridge.stop()).toBe(0);
    }
    expect(bridge.stderr).toMatch(/stopped by SIGTERM/);
    expect(existsSync(`${device}.lock`)).toBe(false);
    expect((await runDscInProcess(['respond', '--device', device, '--pin', pin, '--challenge', challenge])).stdout.trim()).toBe(responseAt(1));
  });

  it('provision --force while a bridge holds the card is refused, and the card is not replaced', async () => {
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, '--clock', 'virtual']);
    try {
      await bridge.waitFor(/answering on/);
      const before = readFileSync(device, 'utf8');
      const result = await runDscAsync(['provision', '--pin', '3907', '--force', '--out', device]);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(`in use by process ${bridge.child.pid} (dsc bridge)`);
      expect(readFileSync(device, 'utf8')).toBe(before);
    } finally {
      await bridge.stop();
    }
  });

  it('the old stale write-back: a file replaced behind the bridge is never overwritten with the bridge card', async () => {
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, '--clock', 'virtual']);
    try {
      await bridge.waitFor(/answering on/);
      // Somebody replaces the file without asking (not through dsc, so no lock stops them).
      const other = await provisionCard(join(dir, 'other.json'), ['--pin', '3907']);
      const replacement = readFileSync(other, 'utf8');
      writeFileSync(device, replacement);
      const port = await openPort(pair.b, 115_200);
      const panel = new PanelLink(port, { identity: panelIdentity });
      await panel.connect();
      // Powering on commits a battery operation: the bridge must find the file changed and stop.
      await panel.keyDown('PRESS');
      await panel.advance(2_000).catch(() => undefined);
      expect(await bridge.exited()).toBe(1);
      expect(bridge.stderr).toMatch(/the card stopped: device file .* changed since it was read \(generation 0, expected 0\): not overwritten/);
      expect(readFileSync(device, 'utf8')).toBe(replacement);
      panel.close();
      await closePort(port);
    } finally {
      await bridge.stop();
    }
    expect(existsSync(`${device}.lock`)).toBe(false);
  });

  it('a lock left by a killed process (SIGKILL) is taken over', async () => {
    const bridge = startDsc(['bridge', '--port', pair.a, '--device', device, '--clock', 'virtual']);
    await bridge.waitFor(/answering on/);
    const pid = bridge.child.pid!;
    bridge.child.kill('SIGKILL');
    await bridge.exited();
    expect(alive(pid)).toBe(false);
    expect(lockHolderPid(device)).toBe(pid); // left behind
    const result = await runDscInProcess(['respond', '--device', device, '--pin', pin, '--challenge', challenge]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(responseAt(0));
    expect(existsSync(`${device}.lock`)).toBe(false);
  });

  const tmux = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!tmux)('emulate + respond: respond is refused while the emulator holds the card, and works after it quits', async () => {
    const session = `dsc-owner-${process.pid}`;
    const socket = join(dir, 'tmux.sock');
    const command = `cd ${dir} && DSC_FROM_SOURCES=1 ${process.execPath} ${dscPath} emulate --device ${device}`;
    expect(spawnSync('tmux', ['-S', socket, 'new-session', '-d', '-s', session, '-x', '120', '-y', '40', command]).status).toBe(0);
    try {
      await until(() => lockHolderPid(device) !== null, startTimeoutMs, 'the emulator holds the card');
      const holder = lockHolderPid(device)!;
      const refused = await runDscAsync(['respond', '--device', device, '--pin', pin, '--challenge', challenge]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain(`in use by process ${holder} (dsc emulate)`);
      spawnSync('tmux', ['-S', socket, 'send-keys', '-t', session, 'q']);
      await until(() => lockHolderPid(device) === null, startTimeoutMs, 'the emulator lets go of the card');
      const result = await runDscInProcess(['respond', '--device', device, '--pin', pin, '--challenge', challenge]);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout.trim()).toBe(responseAt(0));
    } finally {
      spawnSync('tmux', ['-S', socket, 'kill-server']);
    }
  });
});
