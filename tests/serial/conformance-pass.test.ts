/**
 * `dsc conformance` against `dsc bridge` over a real pty pair passes for both device profiles: every
 * check runs (responses verified with the OCRA engine on the device file's secret) and none fails.
 * The bridge is always the real binary; the tester is too for the dscplus card, and runs in-process
 * (`main(argv, io)`, the same code over the same pty) for the others.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enrolmentData, parseDeviceRecord } from '../../firmware/device-record.ts';
import { ocraAlgorithm, writePskc } from '../../host/pskc.ts';
import { conformanceRun } from './support/conformance-run.ts';
import { ptySkipReason } from './support/socat.ts';

function summary(stdout: string): { passed: number; failed: number; skipped: number } {
  const match = /conformance: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(stdout);
  expect(match, stdout).not.toBeNull();
  return { passed: Number(match![1]), failed: Number(match![2]), skipped: Number(match![3]) };
}

describe.skipIf(ptySkipReason !== null)('dsc conformance against dsc bridge', () => {
  it('passes for a dscplus card (dsc conformance as its own process)', async () => {
    const run = await conformanceRun(['--pin', '2580'], [], undefined, 'process');
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const { passed, failed } = summary(run.stdout);
    expect(failed).toBe(0);
    expect(passed).toBeGreaterThanOrEqual(30);
    expect(run.stdout).toMatch(/^PASS {2}responses: 5 random challenges verify .*\(5 of 5 verified\)$/m);
    expect(run.stdout).toMatch(/^PASS {2}soft PIN: /m);
    expect(run.stdout).toMatch(/^PASS {2}screen table: challenge --\[OK with all digits\]--> response/m);
    expect(run.stdout).toMatch(/^SKIP {2}screen table: .*battery.*needs a battery change/m);
    expect(run.bridgeExit).toBe(0);
  });

  it('passes for a digipass card, locking and unlocking it, and leaves it as found', async () => {
    const run = await conformanceRun(['--profile', 'digipass', '--pin', '4711']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(summary(run.stdout).failed).toBe(0);
    expect(run.stdout).toMatch(/^PASS {2}lock: 5 wrong PINs lock the card/m);
    expect(run.stdout).toMatch(/^PASS {2}screen table: unlock --\[OK with the right unlock code\]--> newPin/m);
    expect(run.stdout).toMatch(/^PASS {2}the card is left as found/m);
    expect(run.stdout).toMatch(/^SKIP {2}screen table: .*blocked.*--destructive runs it/m);
  });

  it('passes for a card with a check digit, from a PSKC container instead of the device file', async () => {
    const run = await conformanceRun(['--pin', '2580', '--check-digit'], [], (dir, device) => {
      const data = enrolmentData(parseDeviceRecord(JSON.parse(readFileSync(device, 'utf8'))));
      const pskc = writePskc([{ id: '1', algorithm: ocraAlgorithm, suite: data.suite, serial: data.serial, secret: data.secret, checkDigits: true }], { type: 'none' }, () => new Uint8Array(16));
      data.secret.fill(0);
      writeFileSync(join(dir, 'keys.pskcxml'), pskc);
      return ['--pskc', join(dir, 'keys.pskcxml'), '--serial', data.serial, '--pin', '2580', '--responses', '3'];
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^PASS {2}responses: 3 random challenges verify .*\(3 of 3 verified\)$/m);
    expect(run.stdout).toMatch(/^PASS {2}screen table: challenge --\[OK, wrong check digit\]--> badCheck/m);
  });
});
