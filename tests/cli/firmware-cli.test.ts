// `dsc provision`, `dsc press` and `dsc respond` through `main(argv, io)` on real device files (the binary itself: tests/cli/binary.test.ts).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '@noble/hashes/utils.js';
import { provisionDeviceFile, type ProvisionOptions } from '../../emulator/card.ts';
import { parseDeviceRecord, recordImage } from '../../firmware/device-record.ts';
import { decodeImage } from '../../firmware/memory.ts';
import { wrongPinsMax } from '../../firmware/types.ts';
import { runDscInProcess as runDsc } from '../support/cli.ts';
import { scratchFolder } from '../support/temp.ts';

const seed = '3132333435363738393031323334353637383930';
/** More than the card time dsc respond's key script takes: a 2 s power-on hold, then a dozen short presses. */
const respondScriptMsMax = 10_000;
const dir = scratchFolder('dsc-firmware-cli-');
let files = 0;

/** A device file for a test, made in-process with a PIN the keypad would accept (dsc provision itself is tested through the binary above). */
function provision(options: Omit<ProvisionOptions, 'secret'> = {}): string {
  const out = join(dir, `card-${files++}.json`);
  provisionDeviceFile(out, { pin: '4826', ...options, secret: hexToBytes(seed) });
  return out;
}

async function ocra(suite: string, challenge: string, extra: string[] = []): Promise<string> {
  const result = await runDsc(['ocra', '--suite', suite, '--key', seed, '--challenge', challenge, ...extra]);
  expect(result.status).toBe(0);
  return result.stdout.trim();
}

describe('dsc provision', () => {
  it('writes a valid device file and prints only its serial; refuses to overwrite without --force', async () => {
    const out = join(dir, 'provisioned.json');
    const first = await runDsc(['provision', '--pin', '4826', '--out', out]);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^\d{8}\n$/);
    const record = parseDeviceRecord(JSON.parse(readFileSync(out, 'utf8')));
    expect(record).toMatchObject({ serial: first.stdout.trim(), profile: 'dscplus', suite: 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1' });
    const bytes = readFileSync(out);
    const again = await runDsc(['provision', '--out', out]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists.*--force/);
    expect(readFileSync(out).equals(bytes)).toBe(true);
    const forced = await runDsc(['provision', '--profile', 'digipass', '--serial', '42', '--force', '--out', out]);
    expect(forced).toMatchObject({ status: 0, stdout: '42\n' });
  });

  it.each<[string[], RegExp]>([
    [['--profile', 'rsa'], /--profile expected dscplus or digipass, got "rsa"/],
    [['--pin', '12345'], /^dsc provision: --pin expected 4 digits, got 5 characters \(not shown\)\n$/],
    [['--pin', '12a4'], /^dsc provision: --pin expected 4 digits, got a character that is not a digit \(not shown\)\n$/],
    // Weak PINs, refused as the keypad refuses them (firmware/pin.ts), never echoed.
    ...['1234', '0000', '9876'].map((pin): [string[], RegExp] => [['--pin', pin], /^dsc provision: --pin is too easy to guess \(all one digit, or a run up or down\), and the card's keypad refuses such a PIN: choose another\n$/]),
    [['--seed', 'a1b2c3d4e5f6a7b8c9d0g1'], /^dsc provision: --seed expected an even number of hex digits, got 22 characters \(not shown: it is a secret\)\n$/],
    [['--seed', '0102'], /--seed expected 16\.\.64 bytes, got 2/],
    [['--suite', 'OCRA-1:HOTP-SHA1-8:QA06'], /--suite expected a numeric question/],
    [['--serial', '99999999999'], /--serial expected at most 4294967295/],
  ])('exits 2 and writes nothing for %j', async (args, message) => {
    const out = join(dir, `never-${files++}.json`);
    const result = await runDsc(['provision', ...args, '--out', out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});

describe('dsc press and dsc respond', () => {
  it('prints each new frame; the response equals dsc ocra on the same secret, suite, PIN and challenge', async () => {
    const device = provision();
    const result = await runDsc(['press', '--device', device, 'PRESS:2000', '4826', 'OK', '123456', 'OK', 'WAIT:30000']);
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 6)).toEqual(['PIN>', 'PIN>-', 'PIN>--', 'PIN>---', 'PIN>----', 'CHALLNG>']);
    expect(lines.slice(6, 12)).toEqual(['1', '12', '123', '1234', '12345', '123456']);
    expect(lines[12]).toBe(await ocra('OCRA-1:HOTP-SHA1-8:QN06-PSHA1', '123456', ['--pin', '4826']));
    expect(lines[13]).toBe('(off)');
    for (const line of lines) expect(line.replace(/ {2}\[.*$/, '').length).toBeLessThanOrEqual(8);
  });

  it('prints NDJSON frames with consecutive numbers and virtual time with --json', async () => {
    const device = provision();
    const clockBefore = parseDeviceRecord(JSON.parse(readFileSync(device, 'utf8'))).clockMs;
    const result = await runDsc(['press', '--device', device, '--json', 'PRESS:2000', '12', 'BACK', 'WAIT:31000']);
    expect(result.status).toBe(0);
    const frames = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { number: number; text: string; atMs: number; indicators: object });
    expect(frames.map((f) => f.text)).toEqual(['PIN>', 'PIN>-', 'PIN>--', 'PIN>-', '']);
    expect(frames.map((f) => f.number)).toEqual([1, 2, 3, 4, 5]);
    expect(frames[0]!.atMs).toBe(clockBefore + 2000);
    expect(frames[0]!.indicators).toEqual({ lowBattery: false, locked: false });
    // The virtual clock is saved: the next call starts where this one ended.
    expect(parseDeviceRecord(JSON.parse(readFileSync(device, 'utf8'))).clockMs).toBe(frames[3]!.atMs + 100 + 31_000);
  });

  it('carries state across calls: digipass wrong PINs count on, and respond reports the screen with exit 1', async () => {
    const device = provision({ profile: 'digipass', pin: '2580' });
    expect((await runDsc(['press', '--device', device, 'PRESS:2000', '1111', 'OK'])).stdout.trimEnd().split('\n').at(-1)).toBe('FAIL 1');
    expect((await runDsc(['press', '--device', device, 'PRESS:2000', '1111', 'OK'])).stdout.trimEnd().split('\n').at(-1)).toBe('FAIL 2');
    const wrong = await runDsc(['respond', '--device', device, '--pin', '0000', '--challenge', '123456']);
    expect(wrong).toMatchObject({ status: 1, stdout: '' });
    expect(wrong.stderr).toMatch(/the card shows "FAIL 3" \(pinFail\), not CHALLNG>/);
    const right = await runDsc(['respond', '--device', device, '--pin', '2580', '--challenge', '123456']);
    expect(right).toEqual({ status: 0, stdout: `${await ocra('OCRA-1:HOTP-SHA1-8:QN06', '123456')}\n`, stderr: '' });
    // One wrong PIN cost one try: the right PIN reset the counter to 0 after exactly three.
    expect(decodeImage(recordImage(parseDeviceRecord(JSON.parse(readFileSync(device, 'utf8'))))).state.wrongPins).toBe(0);
  });

  it('dsc respond equals dsc ocra for a counter suite (C = 0, then 1) and with a Luhn check digit', async () => {
    const suite = 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1';
    const device = provision({ suite, pin: '4711' });
    for (const counter of ['0', '1']) {
      const result = await runDsc(['respond', '--device', device, '--pin', '4711', '--challenge', '12345678']);
      expect(result.stdout).toBe(`${await ocra(suite, '12345678', ['--pin', '4711', '--counter', counter])}\n`);
    }
    const luhn = provision({ checkDigit: true });
    const withDigit = await runDsc(['respond', '--device', luhn, '--pin', '4826', '--challenge', '1234566']);
    const added = await runDsc(['respond', '--device', luhn, '--pin', '4826', '--challenge', '123456']);
    const expected = `${await ocra('OCRA-1:HOTP-SHA1-8:QN06-PSHA1', '123456', ['--pin', '4826'])}\n`;
    expect(withDigit.stdout).toBe(expected);
    expect(added.stdout).toBe(expected);
    expect(await runDsc(['respond', '--device', luhn, '--pin', '4826', '--challenge', '1234567'])).toMatchObject({ status: 1 });
  });

  it('dsc respond on a time suite answers for the current time step, not the clock saved in the device file', async () => {
    const suite = 'OCRA-1:HOTP-SHA1-8:QN06-T1M';
    const device = provision({ profile: 'digipass', pin: '2580', suite, clockMs: Date.UTC(2020, 0, 1) });
    const before = Math.floor(Date.now() / 60_000);
    const result = await runDsc(['respond', '--device', device, '--pin', '2580', '--challenge', '123456']);
    // The card's clock starts now and runs on through respond's key script (the 2 s power-on hold, then the
    // presses), so the response may belong to the next step when the script crosses a minute.
    const after = Math.floor((Date.now() + respondScriptMsMax) / 60_000);
    const expected = new Set<string>();
    for (let step = before; step <= after; step++) expected.add(await ocra(suite, '123456', ['--time', new Date(step * 60_000).toISOString()]));
    expect(result.status, result.stderr).toBe(0);
    expect([...expected]).toContain(result.stdout.trim());
    const saved = await ocra(suite, '123456', ['--time', new Date(Date.UTC(2020, 0, 1)).toISOString()]);
    expect(result.stdout.trim()).not.toBe(saved);
  });

  it('dsc respond on a locked digipass card names the lock code (and how to get an unlock code), not UNLOCK>', async () => {
    const device = provision({ profile: 'digipass', pin: '2580' });
    for (let i = 0; i < wrongPinsMax; i++) await runDsc(['press', '--device', device, 'PRESS:2000', '1111', 'OK']);
    const result = await runDsc(['respond', '--device', device, '--pin', '2580', '--challenge', '123456']);
    expect(result).toMatchObject({ status: 1, stdout: '' });
    expect(result.stderr).toMatch(/^dsc respond: the card is locked and shows its lock code (L\d{7}) \(lockCode\): an administrator turns it into an unlock code with `dsc host unlock-code --device \d+ --lock-code \1`, not PIN>\n$/);
    expect(result.stderr).not.toContain('UNLOCK>');
  });

  const corruptions: Array<[string, (text: string) => string, RegExp]> = [
    ['truncated', (t) => t.slice(0, t.length / 2), /not valid JSON \(truncated or corrupt\?\)/],
    ['not JSON', () => 'hello', /not valid JSON/],
    ['a newer version', (t) => t.replace('"version": 1', '"version": 2'), /"version" 2 is not supported/],
    ['a flipped image byte', (t) => t.replace(/"image": "(.{20})(.)/, (_, a: string, b: string) => `"image": "${a}${b === '0' ? '1' : '0'}`), /"image": .*CRC-32/],
    ['an empty file', () => '', /not valid JSON/],
  ];

  it.each(corruptions)('exits 2 on a device file that is %s and leaves its bytes alone', async (_, corrupt, message) => {
    const device = provision();
    writeFileSync(device, corrupt(readFileSync(device, 'utf8')));
    const bytes = readFileSync(device);
    for (const args of [['press', '--device', device, 'PRESS:2000'], ['respond', '--device', device, '--pin', '4826', '--challenge', '123456']]) {
      const result = await runDsc(args);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain(device);
      expect(readFileSync(device).equals(bytes)).toBe(true);
    }
  });

  it.each([
    [['press', 'PRESS:2000', 'PUSH'], /unknown key "PUSH"/],
    [['press', 'PRESS:2000', 'WAIT:soon'], /key "WAIT:soon": expected milliseconds/],
    [['press'], /no keys given/],
    [['respond', '--pin', '1234', '--challenge', '12a456'], /--challenge expected decimal digits, got "12a456"/],
    [['respond', '--pin', '1234', '--challenge', '12345'], /--challenge expected 6 digits .* got 5/],
    [['respond', '--pin', '12', '--challenge', '123456'], /^dsc respond: --pin expected 4 digits, got 2 characters \(not shown\)\n$/],
  ])('exits 2 on bad input %j and never rewrites the device file', async (args, message) => {
    const device = provision();
    const bytes = readFileSync(device);
    const [command, ...rest] = args as [string, ...string[]];
    const result = await runDsc([command, '--device', device, ...rest]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(readFileSync(device).equals(bytes)).toBe(true);
  });

  it('names a missing device file', async () => {
    const result = await runDsc(['respond', '--device', join(dir, 'nope.json'), '--pin', '1234', '--challenge', '123456']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/nope\.json" does not exist \(make one with dsc provision\)/);
  });
});
