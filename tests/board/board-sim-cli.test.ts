/**
 * `npm run board:sim` as the README shows it: the simulated board, dsc serial and the keys, ending
 * on the response `dsc respond` prints for the same card, PIN and challenge. The refusals run the tool
 * in-process (board/sim/run.ts `main(argv, io)`); the board and dsc serial are always real processes.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../board/sim/run.ts';
import { capture, repoRoot, provisionCard, runDscInProcess } from '../support/cli.ts';
import { boardSkipReason } from './support.ts';

function boardSim(args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'bin/run-ts.js'), join(repoRoot, 'board/sim/main.ts'), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

async function boardSimInProcess(args: string[]) {
  const stdout = capture();
  const stderr = capture();
  const status = await main(args, { stdout: stdout.stream, stderr: stderr.stream, env: process.env, cwd: process.cwd() });
  return { status, stdout: stdout.text(), stderr: stderr.text() };
}

describe('npm run board:sim', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsc-board-sim-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(boardSkipReason !== null)('prints every LCD text, the last one the response dsc respond prints', async () => {
    const device = await provisionCard(join(dir, 'card.json'), ['--pin', '4826']);
    copyFileSync(device, join(dir, 'copy.json'));
    const run = boardSim(['--device', device, 'PRESS:2000', '4826', 'OK', '123456', 'OK']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const respond = await runDscInProcess(['respond', '--device', join(dir, 'copy.json'), '--pin', '4826', '--challenge', '123456']);
    expect(respond.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toEqual(['(blank)', 'PIN>', 'PIN>-', 'PIN>--', 'PIN>---', 'PIN>----', 'CHALLNG>', '1', '12', '123', '1234', '12345', '123456', respond.stdout.trim()]);
  });

  it.each([
    [['PRESS:2000'], /--device is required/],
    [['--device', 'x.json', 'PRESS:2000', 'BATTERY:NEW'], /BATTERY:… is not a key/],
    [['--device', 'x.json', 'PRESS:2000', 'HELLO'], /unknown key "HELLO"/],
  ])('board:sim %j exits 2 with a clear message', async (args, message) => {
    const run = await boardSimInProcess(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it.skipIf(boardSkipReason !== null)('a device file that does not exist: exit 2, dsc serial\'s message', async () => {
    const run = await boardSimInProcess(['--device', join(dir, 'missing.json'), 'PRESS:2000']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/device file ".*missing.json" does not exist/);
  });
});
