// `dsc host` as an administrator runs it, through `main(argv, io)` (the binary after start-up; the binary itself
// runs the login cycle in tests/cli/binary.test.ts): on a real SQLite file, with device files from
// `dsc provision` and responses from `dsc respond` (end to end), secrets on stdin, and every kind of bad input.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDscInProcess } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsc-host-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, DSC_HOST_KEY: '' };
const dsc = (args: string[], extraEnv: Record<string, string> = {}) => runDscInProcess(args, { cwd: dir, env: { ...env, ...extraEnv } });
/** `dsc ARGS` with `input` on stdin (a secret given as `-`). */
const dscWithInput = (args: string[], input: string) => runDscInProcess(args, { cwd: dir, env, input });
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const subcommands = ['enroll', 'assign', 'import', 'export', 'set-password', 'login', 'challenge', 'verify', 'unlock', 'unlock-code', 'pin-change', 'authorize-withdrawal', 'temp-code', 'code-card', 'devices', 'audit'];

function wrongOf(response: string): string {
  return response.slice(0, -1) + String((Number(response.at(-1)) + 1) % 10);
}

describe('dsc host end to end with dsc provision and dsc respond', () => {
  beforeAll(async () => {
    expect((await dsc(['provision', '--serial', '40417265', '--pin', '4826', '--out', 'card.json'])).status).toBe(0);
    expect((await dsc(['provision', '--serial', '555', '--profile', 'digipass', '--pin', '2580', '--check-digit', '--out', 'dp.json'])).status).toBe(0);
  });
  const respond = async (device: string, pin: string, challenge: string) => (await dsc(['respond', '--device', device, '--pin', pin, '--challenge', challenge])).stdout.trim();
  /** A verify with the response on stdin (never on the command line). */
  const verify = (user: string, challenge: string, response: string, extra: string[] = []) =>
    dscWithInput(['host', 'verify', '--user', user, '--challenge', challenge, '--response', '-', ...extra], `${response}\n`);

  it('enrolls; the password login issues a challenge; the response from dsc respond logs in and prints a session', async () => {
    const enrolled = await dsc(['host', 'enroll', '--user', 'trader1', '--device', 'card.json']);
    expect(enrolled.status, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toMatch(/enrolled 40417265 \(dscplus/);
    expect(statSync(join(dir, '.dsc/host.sqlite.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.dsc/host.sqlite')).mode & 0o777).toBe(0o600);
    expect(await dscWithInput(['host', 'set-password', '--user', 'trader1', '--password', '-'], 'correct horse battery\n')).toMatchObject({ status: 0 });

    expect(await dscWithInput(['host', 'login', '--user', 'trader1', '--password', '-'], 'wrong horse battery\n')).toMatchObject({ status: 1, stdout: 'wrong password\n' });
    const login = await dscWithInput(['host', 'login', '--user', 'trader1', '--password', '-'], 'correct horse battery\n');
    expect(login.status, login.stderr).toBe(0);
    const challenge = login.stdout.trim();
    expect(challenge).toMatch(/^\d{6}$/); // the value alone on stdout; the description on stderr
    expect(login.stderr).toMatch(/challenge for device 40417265/);
    const response = await respond('card.json', '4826', challenge);
    expect(response).toMatch(/^\d{8}$/);
    expect(await verify('trader1', challenge, wrongOf(response))).toMatchObject({ status: 1, stdout: 'wrong response\n' });
    const ok = await verify('trader1', challenge, response);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(ok.stderr).toMatch(/ok: logged in with 40417265/);
    expect(await verify('trader1', challenge, response)).toMatchObject({ status: 1, stdout: 'already used\n' });

    // The same card operated with a wrong PIN gives a response the host rejects.
    const second = await dsc(['host', 'challenge', '--user', 'trader1', '--json']);
    const issued = JSON.parse(second.stdout) as { challenge: string; serial: string; expiresAtMs: number };
    expect(issued.serial).toBe('40417265');
    const result = await verify('trader1', issued.challenge, await respond('card.json', '9999', issued.challenge), ['--json']);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, reason: 'wrong response' });
  });

  it('changes the PIN on the server after a login: the challenge answered with the new PIN commits it', async () => {
    expect(await dscWithInput(['host', 'pin-change', '--user', 'trader1', '--session', '-', '--new-pin', '-', '--confirm-pin', '-'], `${'0'.repeat(64)}\n4731\n4731\n`)).toMatchObject({ status: 1, stderr: expect.stringMatching(/no live session/) });
    const login = (await dsc(['host', 'challenge', '--user', 'trader1'])).stdout.trim();
    const session = (await verify('trader1', login, await respond('card.json', '4826', login))).stdout.trim();
    const change = await dscWithInput(['host', 'pin-change', '--user', 'trader1', '--session', '-', '--new-pin', '-', '--confirm-pin', '-'], `${session}\n4731\n4731\n`);
    expect(change.status, change.stderr).toBe(0);
    const challenge = change.stdout.trim();
    expect(await verify('trader1', challenge, await respond('card.json', '4731', challenge), ['--purpose', 'pin-change'])).toMatchObject({ status: 0, stdout: 'ok: new PIN set\n' });
    const next = (await dsc(['host', 'challenge', '--user', 'trader1'])).stdout.trim();
    expect((await verify('trader1', next, await respond('card.json', '4731', next))).status).toBe(0);
    expect(await dscWithInput(['host', 'pin-change', '--user', 'trader1', '--session', '-', '--new-pin', '-', '--confirm-pin', '-'], `${session}\n4731\n4732\n`)).toMatchObject({ status: 2 });
    expect(await dscWithInput(['host', 'pin-change', '--user', 'trader1', '--session', '-', '--new-pin', '-', '--confirm-pin', '-'], `${session}\n1111\n1111\n`)).toMatchObject({ status: 2, stderr: expect.stringMatching(/too easy/) });
  });

  it('a digipass card with a check digit: challenge, respond, verify, unlock code, withdrawal after a login', async () => {
    expect((await dsc(['host', 'enroll', '--user', 'trader1', '--device', 'dp.json'])).status).toBe(0);
    expect(await dsc(['host', 'challenge', '--user', 'trader1'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/2 devices .*choose one/) });
    const login = (await dsc(['host', 'challenge', '--user', 'trader1', '--device', '555'])).stdout.trim();
    expect(login).toMatch(/^\d{7}$/);
    const session = (await verify('trader1', login, await respond('dp.json', '2580', login))).stdout.trim();
    const issued = await dscWithInput(['host', 'authorize-withdrawal', '--user', 'trader1', '--amount', '250000', '--device', '555', '--session', '-'], `${session}\n`);
    expect(issued.status, issued.stderr).toBe(0);
    const challenge = issued.stdout.trim();
    expect(challenge).toMatch(/^\d{7}$/);
    expect(issued.stderr).toMatch(/USD 250,000 with device 555/);
    const response = await respond('dp.json', '2580', challenge);
    // A withdrawal's answer does not log in, and a login's does not withdraw.
    expect(await verify('trader1', challenge, response)).toMatchObject({ status: 1, stdout: 'wrong purpose\n' });
    expect(await verify('trader1', challenge, response, ['--purpose', 'withdrawal'])).toMatchObject({ status: 0, stdout: 'ok: withdrawal of USD 250,000 authorized\n' });
    expect(await dscWithInput(['host', 'authorize-withdrawal', '--user', 'trader1', '--amount', '1000000', '--device', '555', '--session', '-'], `${session}\n`)).toMatchObject({ status: 1, stderr: expect.stringMatching(/1,000,000 a day/) });
    expect((await dsc(['host', 'unlock-code', '--device', '555', '--lock-code', 'L4811270'])).stdout).toMatch(/^\d{8}\n$/);
    expect((await dsc(['host', 'unlock-code', '--device', '555', '--lock-code', '4811270'])).stdout).toMatch(/^\d{8}\n$/);
    expect(await dsc(['host', 'unlock-code', '--device', '555', '--lock-code', 'L48'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/the lock code expected 7 digits/) });
    const devices = JSON.parse((await dsc(['host', 'devices', '--user', 'trader1', '--json'])).stdout) as { serial: string; kind: string }[];
    expect(devices.map((d) => [d.serial, d.kind])).toEqual([['40417265', 'dscplus'], ['555', 'dsc']]);
  });

  it('temp-code prints the code alone on stdout; --check reads it from stdin', async () => {
    const issued = await dsc(['host', 'temp-code', '--user', 'trader1']);
    expect(issued.status, issued.stderr).toBe(0);
    expect(issued.stdout).toMatch(/^[2-9A-Z]{10}\n$/);
    expect(issued.stderr).toMatch(/full access until/);
    expect(await dscWithInput(['host', 'temp-code', '--user', 'trader1', '--check', '-'], issued.stdout)).toMatchObject({ status: 0, stdout: 'ok: full access\n' });
  });

  it('exports encrypted PSKC and imports it into another database that then verifies the card', async () => {
    const password = { PSKC_PW: 'correct horse' };
    expect(await dsc(['host', 'export', '--pskc', 'keys.pskcxml', '--device', '40417265', '--password-env', 'PSKC_PW'], password)).toMatchObject({ status: 0 });
    expect(statSync(join(dir, 'keys.pskcxml')).mode & 0o777).toBe(0o600);
    expect((await dsc(['host', 'export', '--pskc', 'keys.pskcxml', '--password-env', 'PSKC_PW'], password)).status).toBe(2); // exists, no --force
    // The export carries the PIN the host holds (4731 since the PIN change above) in a PIN key: --pin 4321 is
    // only a fallback for keys without one, so the imported card answers with 4731.
    expect(await dsc(['host', 'import', '--pskc', 'keys.pskcxml', '--password-env', 'PSKC_PW', '--user', 'trader9', '--pin', '4321', '--db', 'other.sqlite'], password)).toMatchObject({ status: 0, stdout: 'imported 1 OCRA key(s): 40417265\n' });
    const challenge = (await dsc(['host', 'challenge', '--user', 'trader9', '--db', 'other.sqlite'])).stdout.trim();
    const response = (await dsc(['respond', '--device', 'card.json', '--pin', '4731', '--challenge', challenge])).stdout.trim();
    expect((await dsc(['host', 'verify', '--user', 'trader9', '--challenge', challenge, '--response', response, '--db', 'other.sqlite'])).status).toBe(0);
    expect(await dsc(['host', 'import', '--pskc', 'keys.pskcxml', '--password-env', 'PSKC_PW', '--db', 'third.sqlite'], { PSKC_PW: 'wrong' })).toMatchObject({ status: 2, stderr: expect.stringMatching(/wrong key or password|ValueMAC/) });
  });

  it('refuses an XXE document and leaves the database untouched', async () => {
    const before = sha(join(dir, '.dsc/host.sqlite'));
    const xxe = join(dir, 'xxe.pskcxml');
    writeFileSync(xxe, readFileSync(new URL('../../fixtures/pskc/xxe-external-entity.pskcxml', import.meta.url)));
    expect(await dsc(['host', 'import', '--pskc', 'xxe.pskcxml'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/DOCTYPE/) });
    expect(sha(join(dir, '.dsc/host.sqlite'))).toBe(before);
  });
});

describe('dsc host bad input', () => {
  it.each(subcommands)('%s --help prints its usage and exits 0', async (sub) => {
    const result = await dsc(['host', sub, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`usage: dsc host ${sub}`);
    expect(result.stdout).toContain('--json');
  });

  it('without a subcommand, or with an unknown one, exits 2', async () => {
    expect((await dsc(['host'])).status).toBe(2);
    expect(await dsc(['host', 'frobnicate'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/unknown subcommand "frobnicate"/) });
  });

  it('a missing database is not created by verify or challenge', async () => {
    const result = await dscWithInput(['host', 'verify', '--user', 'x', '--challenge', '123456', '--response', '-', '--db', 'missing.sqlite'], '12345678\n');
    expect(result).toMatchObject({ status: 2, stderr: expect.stringMatching(/no host database at missing.sqlite/) });
    expect(existsSync(join(dir, 'missing.sqlite'))).toBe(false);
  });

  it('unknown user, wrong digit count and malformed response exit 2 and write nothing', async () => {
    const db = join(dir, '.dsc/host.sqlite');
    const challenge = (await dsc(['host', 'challenge', '--user', 'trader1', '--device', '40417265'])).stdout.trim();
    const before = sha(db);
    expect(await dsc(['host', 'verify', '--user', 'nobody', '--challenge', challenge, '--response', '12345678'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/unknown user "nobody"/) });
    expect(await dsc(['host', 'verify', '--user', 'trader1', '--challenge', challenge, '--response', '1234567'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--response expected/) });
    expect(await dsc(['host', 'verify', '--user', 'trader1', '--challenge', challenge, '--response', '12x45678'])).toMatchObject({ status: 2 });
    expect(await dsc(['host', 'challenge', '--user', 'no body'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/the user expected/) });
    expect(await dsc(['host', 'enroll', '--user', 'x', '--device', 'nope.json'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/cannot read device file nope.json/) });
    expect(sha(db)).toBe(before);
  });

  it('a corrupt database file exits 2 with a clear message and is left exactly as it was', async () => {
    const path = join(dir, 'corrupt.sqlite');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    writeFileSync(`${path}.key`, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    const before = sha(path);
    const result = await dsc(['host', 'challenge', '--user', 'trader1', '--db', 'corrupt.sqlite']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/corrupt\.sqlite cannot be opened: file is not a database/);
    expect(sha(path)).toBe(before);
    // A valid SQLite file that is someone else's database is refused too, not migrated into.
    const foreign = join(dir, 'foreign.sqlite');
    const other = new Database(foreign);
    other.exec('CREATE TABLE t (x)');
    other.close();
    writeFileSync(`${foreign}.key`, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    const foreignBefore = sha(foreign);
    expect(await dsc(['host', 'enroll', '--user', 'u', '--device', 'card.json', '--db', 'foreign.sqlite'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/not a dscplus host database/) });
    expect(sha(foreign)).toBe(foreignBefore);
  });

  it('a bad DSC_HOST_KEY or a key file readable by others is refused', async () => {
    expect(await dsc(['host', 'devices', '--user', 'trader1'], { DSC_HOST_KEY: 'xyz' })).toMatchObject({ status: 2, stderr: expect.stringMatching(/DSC_HOST_KEY expected 64 hex digits/) });
    const path = join(dir, 'open.sqlite');
    expect((await dsc(['host', 'enroll', '--user', 'u', '--device', 'card.json', '--db', 'open.sqlite'])).status).toBe(0);
    chmodSync(`${path}.key`, 0o644);
    expect(await dsc(['host', 'devices', '--user', 'u', '--db', 'open.sqlite'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/readable by others/) });
  });
});
