// Attack 9 on the host (the files in attacks/ number them): secrets read from `ps`. Every secret of
// `dsc host` can come from stdin (`-`): the real binary is started with the secret options given as `-`,
// and while it waits on stdin its command line (/proc/PID/cmdline, what `ps` shows every user) is read: no
// secret is in it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostCommands } from '../../../cli/host/index.ts';
import { writeDeviceFile } from '../../../emulator/device-file.ts';
import { dscPath, runDscInProcess } from '../../support/cli.ts';
import { makeRecord } from '../support/devices.ts';
import { cleanUp, dir } from './support.ts';

afterAll(cleanUp);
const env = { ...process.env, DSC_HOME: join(dir, 'argv'), DSC_HOST_KEY: '', DSC_FROM_SOURCES: '1' };

/** Start `dsc ARGS`, read its command line while it waits for stdin, then give it `input`. */
function runWatchingArgv(args: string[], input: string): Promise<{ cmdline: string; code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [dscPath, ...args], { env, cwd: dir });
    let stdout = '';
    let stderr = '';
    let cmdline = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ cmdline, code, stdout, stderr }));
    // The secret is not written yet: whatever the command line holds, it holds without it.
    cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').replaceAll('\u0000', ' ');
    child.stdin.end(input);
  });
}

describe('attack 9: secrets on the command line', () => {
  it('every secret option of dsc host is read from stdin with -, and its help says an argument is visible to others', async () => {
    const withSecrets = Object.entries(hostCommands).filter(([, c]) => c.secrets && c.secrets.length > 0).map(([name]) => name);
    expect(withSecrets).toEqual(expect.arrayContaining(['enroll', 'set-password', 'login', 'verify', 'pin-change', 'authorize-withdrawal', 'temp-code', 'code-card']));
    for (const name of withSecrets) {
      const help = await runDscInProcess(['host', name, '--help']);
      expect(help.stdout, name).toMatch(/visible to other users \(ps\): give - to read it from stdin/);
    }
  });

  it.runIf(process.platform === 'linux')('the password and the response never appear in the process command line', async () => {
    writeDeviceFile(join(dir, 'argv-card.json'), makeRecord({ serial: 901 }));
    expect((await runDscInProcess(['host', 'enroll', '--user', 'u', '--device', 'argv-card.json'], { cwd: dir, env })).status).toBe(0);
    const password = 'hunter2-correct-horse';
    expect((await runDscInProcess(['host', 'set-password', '--user', 'u', '--password', '-'], { cwd: dir, env, input: `${password}\n` })).status).toBe(0);
    const login = await runWatchingArgv(['host', 'login', '--user', 'u', '--password', '-'], `${password}\n`);
    expect(login.cmdline).toContain('host login --user u --password -');
    expect(login.cmdline).not.toContain(password);
    expect(login.code, login.stderr).toBe(0);
    const challenge = login.stdout.trim();
    const response = '12345678';
    const verify = await runWatchingArgv(['host', 'verify', '--user', 'u', '--challenge', challenge, '--response', '-'], `${response}\n`);
    expect(verify.cmdline).not.toContain(response);
    expect(verify).toMatchObject({ code: 1, stdout: 'wrong response\n' });
  });
});
