/**
 * `dsc conformance` catches a deliberately broken card (`dsc bridge --fault …`, a hidden test-only
 * option): it exits 1 and names what broke. Plus its own bad arguments (exit 2).
 */
import { describe, expect, it } from 'vitest';
import { runDscInProcess } from '../support/cli.ts';
import { conformanceRun } from './support/conformance-run.ts';
import { ptySkipReason } from './support/socat.ts';

describe.skipIf(ptySkipReason !== null)('dsc conformance against a broken card', () => {
  it('names a wrong response', async () => {
    const run = await conformanceRun(['--pin', '2580'], ['--fault', 'wrong-response'], (_dir, device) => ['--device', device, '--responses', '2']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/FAILED responses: .*wrong response: 2 of 2 responses do not verify/);
    // Everything else about the card is right, and the report says so.
    expect(run.stdout).toMatch(/^PASS {2}lines: every line from the card is well-formed/m);
  });

  it('names a frame over 8 characters', async () => {
    const run = await conformanceRun(['--pin', '2580'], ['--fault', 'long-frame'], (_dir, device) => ['--device', device, '--responses', '2']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/FAILED lines: every line from the card is well-formed \(frames at most 8 characters\): frame over 8 characters: /);
    expect(run.stderr).toMatch(/has 9 characters, more than the 8 of the LCD/);
  });

  it('names a lock that is not honoured (digipass)', async () => {
    const run = await conformanceRun(['--profile', 'digipass', '--pin', '2580'], ['--fault', 'ignore-lock']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/FAILED lock: .*lock not honoured: after 5 wrong PINs in a row the card shows "PIN>" without the lock indicator/);
  });
});

describe('dsc conformance arguments', () => {
  it.each([
    [['--device', 'x.json'], /--port is required/],
    [['--port', '/dev/null'], /give either --device FILE or --pskc FILE --serial N/],
    [['--port', '/dev/null', '--device', 'a.json', '--pskc', 'b.xml'], /give either --device FILE or --pskc FILE --serial N/],
    [['--port', '/dev/null', '--device', '/nonexistent/card.json'], /device file "\/nonexistent\/card.json" does not exist/],
    [['--port', '/dev/null', '--pskc', '/nonexistent/keys.xml'], /--serial is required/],
    [['--port', '/dev/null', '--pskc', '/nonexistent/keys.xml', '--serial', '1'], /PSKC file "\/nonexistent\/keys.xml" cannot be read/],
    [['--port', '/dev/null', '--device', 'x.json', '--pin', '12a4'], /--pin expected 4 digits, got a character that is not a digit/],
    [['--port', '/dev/null', '--device', 'x.json', '--responses', 'many'], /--responses expected a non-negative integer, got "many"/],
    [['--port', '/dev/null', '--device', 'x.json', '--baud', '0'], /--baud expected one of/],
  ])('dsc conformance %j exits 2 with a clear message', async (args, message) => {
    const result = await runDscInProcess(['conformance', ...args]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
