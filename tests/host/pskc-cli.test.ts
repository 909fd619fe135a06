/**
 * `dsc host import | export` as a user runs them (in process): --csv, repeated --device, secrets never from
 * argv, --skip-unsupported and the all-or-nothing refusal that writes nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDscInProcess } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'dsc-pskc-cli-'));
const env = { ...process.env, DSC_HOME: join(dir, '.dsc') };
const dsc = (args: string[], input?: string) => runDscInProcess(args, { cwd: dir, env, ...(input !== undefined && { input }) });
const serials: string[] = [];
const corpus = new URL('../../fixtures/pskc/', import.meta.url);

beforeAll(async () => {
  for (const [name, profile] of [['a', 'dscplus'], ['b', 'digipass'], ['c', 'digipass']] as const) {
    const made = await dsc(['provision', '--profile', profile, '--pin', '-', '--out', `${name}.json`], '2580\n');
    expect(made.status, made.stderr).toBe(0);
    serials.push(made.stdout.trim());
    expect((await dsc(['host', 'enroll', '--user', `user-${name}`, '--device', `${name}.json`])).status).toBe(0);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dsc host export', () => {
  it('--device A --device B exports exactly those two', async () => {
    const result = await dsc(['host', 'export', '--csv', 'two.csv', '--device', serials[0]!, '--device', serials[2]!]);
    expect(result).toMatchObject({ status: 0, stdout: 'exported 2 key(s) to two.csv (OATH CSV, seeds in the clear)\n' });
    const lines = readFileSync(join(dir, 'two.csv'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.map((l) => l.split(',')[0])).toEqual([serials[0], serials[2]]);
  });

  it('--csv creates the file 0600 and warns that the seeds are in the clear', async () => {
    const result = await dsc(['host', 'export', '--csv', 'all.csv']);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/^warning: all\.csv holds every exported secret and PIN in the clear \(mode 0600\)/);
    expect(statSync(join(dir, 'all.csv')).mode & 0o777).toBe(0o600);
    expect((await dsc(['host', 'export', '--csv', 'all.csv'])).status).toBe(2); // exists, no --force
    expect(await dsc(['host', 'export', '--csv', 'x.csv', '--plain'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/never encrypted/) });
    const json = JSON.parse((await dsc(['host', 'export', '--csv', 'j.csv', '--json'])).stdout) as { format: string; warning?: string };
    expect(json).toMatchObject({ format: 'csv', warning: expect.stringMatching(/in the clear/) });
  });

  it('never takes a password from argv; --password - reads stdin; --pskc-algorithm picks the URN', async () => {
    const visible = await dsc(['host', 'export', '--pskc', 'p.pskcxml', '--password', 'hunter2-password']);
    expect(visible.status).toBe(2);
    expect(visible.stderr).toMatch(/--password takes only -/);
    expect(visible.stderr).not.toContain('hunter2');
    expect(existsSync(join(dir, 'p.pskcxml'))).toBe(false);
    expect((await dsc(['host', 'export', '--pskc', 'p.pskcxml', '--password', '-', '--pskc-algorithm', 'ocra-1'], 'export password\n')).status).toBe(0);
    expect(readFileSync(join(dir, 'p.pskcxml'), 'utf8')).toContain('Algorithm="urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1"');
    expect(await dsc(['host', 'export', '--pskc', 'q.pskcxml', '--plain', '--pskc-algorithm', 'OCRA'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--pskc-algorithm expected ocra or ocra-1/) });
    const back = await dsc(['host', 'import', '--db', 'back.sqlite', '--pskc', 'p.pskcxml', '--password', '-'], 'export password\n');
    expect(back).toMatchObject({ status: 0, stdout: `imported 3 OCRA key(s): ${serials.join(', ')}\n` });
  });
});

describe('dsc host import', () => {
  it('refuses the whole file at the first bad key, naming it and its field, and creates no database', async () => {
    const keyFile = join(dir, 'multiotp.key');
    writeFileSync(keyFile, '12345678901234567890123456789012\n');
    const file = new URL('multiotp-style-ocra.pskcxml', corpus).pathname;
    const refused = await dsc(['host', 'import', '--db', 'm.sqlite', '--pskc', file, '--key-file', 'multiotp.key']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/nothing imported: key "mOTP-ocra-qa" AlgorithmParameters\/Suite: .* \(and 1 more key\(s\) with problems; --skip-unsupported imports the others\)/);
    expect(existsSync(join(dir, 'm.sqlite'))).toBe(false);
    const partial = await dsc(['host', 'import', '--db', 'm.sqlite', '--pskc', file, '--key-file', 'multiotp.key', '--skip-unsupported', '--user', 'trader1']);
    expect(partial.status, partial.stderr).toBe(0);
    expect(partial.stdout).toMatch(/^imported 2 OCRA key\(s\): MOTP0001, MOTP0004\nskipped 2 key\(s\):\n {2}key "mOTP-ocra-qa" AlgorithmParameters\/Suite: .*\n {2}key "mOTP-ocra-qh" AlgorithmParameters\/Suite: .*\n$/);
  });

  it('reads a CSV, and warns about a weak PBKDF2 count on stderr', async () => {
    expect(await dsc(['host', 'import', '--db', 'csv.sqlite', '--csv', 'all.csv'])).toMatchObject({ status: 0, stdout: `imported 3 OCRA key(s): ${serials.join(', ')}\n` });
    const weak = await dsc(['host', 'import', '--db', 'weak.sqlite', '--pskc', new URL('weak-pbkdf2-249.pskcxml', corpus).pathname, '--password', '-', '--user', 'u'], 'qwerty\n');
    expect(weak).toMatchObject({ status: 0, stdout: 'imported 1 OCRA key(s): WEAK0001\n' });
    expect(weak.stderr).toMatch(/warning: PBKDF2 IterationCount 249 is below 1000/);
  });
});
