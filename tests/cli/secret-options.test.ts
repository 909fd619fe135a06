/**
 * Every command that takes a secret (PIN, key, seed, container password) reads it from stdin when given as `-`,
 * one line per such option in the order its help lists them, so it never has to be on the command line where
 * other users see it (`ps`); the help of each says so; a missing line is a usage error that names the option.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDscInProcess } from '../support/cli.ts';

const rfcSuite = 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1';
const rfcKey = '3132333435363738393031323334353637383930313233343536373839303132';
// RFC 6287 Appendix C, counter-based vector: C=0, Q=12345678, PIN 1234.
const rfcResponse = '65347737';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dsc-secret-options-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('dsc ocra', () => {
  it('reads --key and --pin from stdin, in that order, and gives the RFC answer', async () => {
    const result = await runDscInProcess(['ocra', '--suite', rfcSuite, '--key', '-', '--challenge', '12345678', '--counter', '0', '--pin', '-'], { input: `${rfcKey}\n1234\n` });
    expect(result).toMatchObject({ status: 0, stdout: `${rfcResponse}\n` });
  });

  it('names the option whose stdin line is missing, and never echoes the key', async () => {
    const result = await runDscInProcess(['ocra', '--suite', rfcSuite, '--key', '-', '--challenge', '12345678', '--counter', '0', '--pin', '-'], { input: `${rfcKey}\n` });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--pin -: stdin has no line 2/);
    expect(result.stderr).not.toContain(rfcKey);
  });

  it('says in its help that a secret on the command line is visible', async () => {
    expect((await runDscInProcess(['ocra', '--help'])).stdout).toMatch(/Secret options \(--key, --pin, --pin-hash\).*\n.*visible to other users/);
  });
});

describe('dsc provision and dsc respond', () => {
  it('take the PIN and the seed from stdin, and the card answers as the engine does with them', async () => {
    const seed = '3132333435363738393031323334353637383930';
    const out = join(dir, 'card.json');
    const made = await runDscInProcess(['provision', '--pin', '-', '--seed', '-', '--serial', '12345678', '--out', out], { input: `4826\n${seed}\n` });
    expect(made.status).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toContain(seed);
    const answered = await runDscInProcess(['respond', '--device', out, '--pin', '-', '--challenge', '123456'], { input: '4826\n' });
    expect(answered.status).toBe(0);
    const expected = await runDscInProcess(['ocra', '--suite', 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', '--key', '-', '--challenge', '123456', '--pin', '-'], { input: `${seed}\n4826\n` });
    expect(answered.stdout).toBe(expected.stdout);
  });

  it('refuse a missing PIN line, naming --pin, and write nothing', async () => {
    const out = join(dir, 'card.json');
    const made = await runDscInProcess(['provision', '--pin', '-', '--seed', '-', '--out', out], { input: '4826\n' });
    expect(made.status).toBe(2);
    expect(made.stderr).toMatch(/--seed -: stdin has no line 2/);
    expect(() => readFileSync(out)).toThrow();
  });
});

describe('dsc conformance', () => {
  it('reads --pin from stdin before it opens anything (a bad PIN line is refused without echo)', async () => {
    const result = await runDscInProcess(['conformance', '--port', join(dir, 'no-port'), '--device', join(dir, 'no.json'), '--pin', '-'], { input: '12a4\n' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--pin/);
    expect(result.stderr).not.toContain('12a4');
  });

  it('says in its help how to keep --pin and --password off the command line', async () => {
    expect((await runDscInProcess(['conformance', '--help'])).stdout).toMatch(/Secret options \(--pin, --password\): - reads each from stdin/);
  });
});
