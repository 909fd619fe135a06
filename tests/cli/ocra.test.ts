// `dsc ocra` through `main(argv, io)`: every Appendix C vector, and bad arguments (the real binary answers the vectors in tests/cli/binary.test.ts).
import { describe, expect, it } from 'vitest';
import { runDscInProcess as runDsc } from '../support/cli.ts';
import { ocraVectors, pinHashSHA1 } from '../support/vectors.ts';

const k20 = '3132333435363738393031323334353637383930';

describe('dsc ocra', () => {
  it('answers every Appendix C vector in --batch mode, one line per request, in order', async () => {
    const requests = ocraVectors.map((v) => JSON.stringify({ suite: v.suite, key: v.key, challenge: v.challenge, counter: v.counter, pin: v.pin, timeStep: v.timeStep }));
    const result = await runDsc(['ocra', '--batch'], { input: `${requests.join('\n')}\n` });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    const answers = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { response?: string });
    expect(answers.map((a) => a.response)).toEqual(ocraVectors.map((v) => v.response));
  });

  it.each([
    ['C.1 plain', ['--suite', 'OCRA-1:HOTP-SHA1-6:QN08', '--key', k20, '--challenge', '55555555'], '388898'],
    ['C.1 counter + PIN', ['--suite', 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1', '--key', ocraVectors[10]!.key, '--challenge', '12345678', '--counter', '3', '--pin', '1234'], '71565254'],
    ['C.1 PIN hash', ['--suite', 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1', '--key', ocraVectors[10]!.key, '--challenge', '12345678', '--counter', '3', '--pin-hash', pinHashSHA1], '71565254'],
    ['C.1 time as ISO 8601', ['--suite', 'OCRA-1:HOTP-SHA512-8:QN08-T1M', '--key', ocraVectors.find((v) => v.suite.endsWith('T1M'))!.key, '--challenge', '00000000', '--time', '2008-03-25T12:06:59Z'], '95209754'],
    ['C.2 mutual, two --challenge', ['--suite', 'OCRA-1:HOTP-SHA256-8:QA08', '--key', ocraVectors[10]!.key, '--challenge', 'CLI22220', '--challenge', 'SRV11110'], '28247970'],
  ])('prints only the response: %s', async (_, args, expected) => {
    const result = await runDsc(['ocra', ...args]);
    expect(result).toEqual({ status: 0, stdout: `${expected}\n`, stderr: '' });
  });

  it.each([
    ['no suite', ['--key', k20, '--challenge', '1'], /--suite is required/],
    ['lower-case suite', ['--suite', 'ocra-1:HOTP-SHA1-6:QN08', '--key', k20, '--challenge', '1'], /"suite" .*"ocra-1:HOTP-SHA1-6:QN08"/],
    ['odd hex key', ['--suite', 'OCRA-1:HOTP-SHA1-6:QN08', '--key', '123', '--challenge', '1'], /"key" expected an even number of hex digits/],
    ['letters in a numeric challenge', ['--suite', 'OCRA-1:HOTP-SHA1-6:QN08', '--key', k20, '--challenge', '12a456'], /"challenge" expected decimal digits for QN, got "12a456"/],
    ['challenge too long', ['--suite', 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', '--key', k20, '--challenge', '1234567', '--pin', '1234'], /"challenge" expected 1\.\.6 characters/],
    ['PIN missing', ['--suite', 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', '--key', k20, '--challenge', '123456'], /"pin" is required/],
    ['PIN hash of the wrong length', ['--suite', 'OCRA-1:HOTP-SHA1-8:QN06-PSHA1', '--key', k20, '--challenge', '123456', '--pin-hash', 'abcd'], /"pinHash" expected 20 bytes, got 2/],
    ['counter for a suite without C', ['--suite', 'OCRA-1:HOTP-SHA1-6:QN08', '--key', k20, '--challenge', '1', '--counter', '5'], /"counter" is not part of suite/],
    ['bad counter', ['--suite', 'OCRA-1:HOTP-SHA512-8:C-QN08', '--key', k20, '--challenge', '1', '--counter=-1'], /"counter" expected a non-negative integer, got "-1"/],
    ['counter not a number', ['--suite', 'OCRA-1:HOTP-SHA512-8:C-QN08', '--key', k20, '--challenge', '1', '--counter', 'ten'], /"counter" expected a non-negative integer, got "ten"/],
    ['time without zone', ['--suite', 'OCRA-1:HOTP-SHA512-8:QN08-T1M', '--key', k20, '--challenge', '1', '--time', '2008-03-25 12:06'], /"time" expected an ISO 8601 time/],
    ['a mistyped key is located, never echoed', ['--suite', 'OCRA-1:HOTP-SHA1-6:QN08', '--key', '31323334353637x8', '--challenge', '1'], /^dsc ocra: "key" expected hex digits, got a non-hex character at position 15 of 16\n$/],
    ['three challenges', ['--suite', 'OCRA-1:HOTP-SHA256-8:QA08', '--key', k20, '--challenge', 'A', '--challenge', 'B', '--challenge', 'C'], /at most 2/],
    ['unknown option', ['--suite', 'x', '--colour'], /Unknown option '--colour'/],
  ])('exits 2 naming the bad value: %s', async (_, args, message) => {
    const result = await runDsc(['ocra', ...args]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });

  it('keeps going past bad requests in --batch mode and says what was wrong with each', async () => {
    const good = JSON.stringify({ suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: k20, challenge: '11111111' });
    const input = [good, 'not json', '[1,2]', JSON.stringify({ suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: 'zz', challenge: '1' }), '', good, `{"pad":"${'x'.repeat(20_000)}"}`, good].join('\n');
    const result = await runDsc(['ocra', '--batch'], { input });
    expect(result.status).toBe(0);
    const answers = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
    expect(answers).toHaveLength(7);
    expect(answers[0]).toEqual({ response: '243178' });
    expect(answers[1]!.error).toMatch(/^request is not JSON/);
    expect(answers[1]!.error).not.toContain('not json');
    expect(answers[2]!.error).toMatch(/JSON object/);
    expect(answers[3]!.error).toBe('"key" expected hex digits, got a non-hex character at position 1 of 2');
    expect(answers[4]).toEqual({ response: '243178' });
    expect(answers[5]!.error).toMatch(/longer than 16384/);
    expect(answers[6]).toEqual({ response: '243178' });
  });

  it('explains itself with an example in --help, and dsc --help lists the commands', async () => {
    const ocraHelp = await runDsc(['ocra', '--help']);
    expect(ocraHelp.status).toBe(0);
    expect(ocraHelp.stdout).toMatch(/usage: dsc ocra/);
    expect(ocraHelp.stdout).toMatch(/65347737/);
    const help = await runDsc(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/ocra\s+compute an OCRA/);
    const unknown = await runDsc(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
  });
});
