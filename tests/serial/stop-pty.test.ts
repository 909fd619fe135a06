/**
 * Processes that stop when told, the way a shell script tells them: `npx dsc bridge … &` then
 * `kill $!`. `$!` is npm's process, not the bridge's; the bridge must still stop, save the card once,
 * and free the port and the device file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closePort, openPort } from '../../emulator/serial/port.ts';
import { repoRoot, provisionCard } from '../support/cli.ts';
import { alive, until } from './support/processes.ts';
import { ptySkipReason, type PtyPair } from './support/socat.ts';
import { ptyPerTest } from './support/pty-setup.ts';
import { startTimeoutMs } from './support/spawn.ts';

/** Can this port be opened (serialport takes an exclusive lock on it, so not while a bridge holds it)? */
async function portFree(path: string): Promise<boolean> {
  try {
    await closePort(await openPort(path, 115_200));
    return true;
  } catch {
    return false;
  }
}

const npxWorks = spawnSync('npx', ['--version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(ptySkipReason !== null || !npxWorks)('npx dsc bridge … & then kill $!', () => {
  let dir: string;
  let pair: PtyPair;
  ptyPerTest('dsc-stop-', (fresh) => ({ dir, pair } = fresh));

  it('stops the bridge itself (not just npm), and frees the port and the device file', async () => {
    const device = await provisionCard(join(dir, 'card.json'), ['--pin', '2580']);
    const before = readFileSync(device, 'utf8');
    // The script a tester writes. It waits (bounded) until the bridge holds the card, then kills $!.
    const script = `
      npx dsc bridge --port "$PORT" --device "$DEVICE" --clock virtual 2>"$LOG" &
      tries=0
      while [ ! -e "$DEVICE.lock" ] && [ $tries -lt 1200 ]; do sleep 0.05; tries=$((tries+1)); done
      cat "$DEVICE.lock"; echo
      kill $!
      wait
    `;
    const log = join(dir, 'bridge.log');
    const shell = spawnSync('sh', ['-c', script], { cwd: repoRoot, encoding: 'utf8', timeout: startTimeoutMs * 3, env: { ...process.env, PORT: pair.a, DEVICE: device, LOG: log, DSC_FROM_SOURCES: '1' } });
    const holder = JSON.parse(shell.stdout.trim()) as { pid: number; command: string };
    expect(holder.command).toBe('dsc bridge');
    // The bridge is a grandchild of the shell's $! (npm exec, then sh -c); it must go too.
    const tookMs = await until(() => !alive(holder.pid) && !existsSync(`${device}.lock`), 10_000, 'the bridge stopped and let go of the file');
    expect(await portFree(pair.a)).toBe(true);
    console.log(`bridge ${holder.pid} gone, device file and port free ${tookMs} ms after kill $! returned (launcher checked every 250 ms)`);
    expect(readFileSync(log, 'utf8')).toMatch(/stopped by SIGTERM; the card is saved and .* is free/);
    // The card was written once at the end (its virtual clock), as a later generation of the same card.
    const after = JSON.parse(readFileSync(device, 'utf8')) as { serial: string; generation: number };
    expect(after.serial).toBe((JSON.parse(before) as { serial: string }).serial);
    expect(after.generation).toBeLessThanOrEqual(1); // at most the one write at the end (none when nothing changed)
  });
});
