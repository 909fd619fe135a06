/**
 * `dsc conformance`: drive a card over a serial port (the emulator under `dsc bridge`, or hardware
 * running the firmware) and report which behaviours of the screen table and which responses conform.
 * It knows the card's secret from the device file (or a PSKC container), so it checks every response.
 */
import { openPort, closePort, defaultBaudRate, parseBaudRate, PortOpenError } from '../emulator/serial/port.ts';
import { PanelLink } from '../emulator/serial/panel-link.ts';
import { runConformance, type CheckResult } from '../conformance/run.ts';
import { targetFromDeviceFile, targetFromPskc, TargetError, type Target } from '../conformance/target.ts';
import { exitFailure, exitOk, integerOption, parseOptions, required, UsageError, write, type Io } from './io.ts';

/** The most random challenges one run asks for. */
export const responsesMax = 1_000;
const responsesDefault = 5;
/** How long to wait for the card's hello answer when the run starts (a board may still be booting). */
const connectTimeoutMs = 5_000;

const help = `usage: dsc conformance --port PATH (--device DEVICE.json | --pskc FILE --serial N [--password P])
                       [--pin 1234] [--baud ${defaultBaudRate}] [--responses ${responsesDefault}] [--destructive] [--json]

Drives the card on the serial port PATH (docs/serial-protocol.md) and reports, one line per check,
which behaviours conform: the hello, random challenges whose responses are verified with the OCRA
engine on the card's secret, the soft PIN (dscplus) or the PIN lock and unlock (digipass), the
protocol's refusals of damaged and repeated lines, every transition of the screen table
(fixtures/screens.json) that can be driven over serial, and every line the card sent.

  --device FILE    the card's device file: serial, profile, suite, secret and PIN
  --pskc FILE      or a PSKC key container (RFC 6030) with the card's OCRA key, chosen by --serial N;
                   --password P for a password-protected container; --pin is then required
  --pin 1234       the card's PIN, when the device file holds none or it was changed
  --baud N         line speed, default ${defaultBaudRate}
  --responses N    random challenges to verify (default ${responsesDefault})
  --destructive    also run the transitions that block a digipass card for good
  --json           print the results as one JSON object instead of text

A card with a virtual clock (dsc bridge --clock virtual) is driven in virtual time; a real-clock
card (hardware) in real time: keys are held and timeouts waited for, about 12 minutes in all.
The card is left as found: off, its PIN set, not locked (a locked card is unlocked again).

example:
  $ dsc bridge --port /dev/pts/3 --device card.json --clock virtual &
  $ dsc conformance --port /dev/pts/4 --device card.json
  PASS  handshake: protocol version, model and serial number  (protocol 2, DSC+ firmware 1.0.0, …)
  …
  conformance: 60 passed, 0 failed, 6 skipped

Exit codes: 0 every check passed; 1 a check failed (named above); 2 bad arguments, device file or port.`;

function formatResult(result: CheckResult): string {
  const tag = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[result.status];
  return `${tag}  ${result.name}  (${result.detail})`;
}

function loadTarget(values: { device?: string; pskc?: string; serial?: string; pin?: string; password?: string }): Target {
  if ((values.device === undefined) === (values.pskc === undefined)) throw new UsageError('give either --device FILE or --pskc FILE --serial N');
  // The PIN itself is never echoed, not even a wrong one.
  if (values.pin !== undefined && !/^[0-9]{4}$/.test(values.pin)) {
    throw new UsageError(`--pin expected 4 digits, got ${values.pin.length === 4 ? 'a character that is not a digit' : `${values.pin.length} characters`}`);
  }
  try {
    if (values.device !== undefined) return targetFromDeviceFile(values.device, values.pin);
    return targetFromPskc(values.pskc!, required('serial', values.serial), values.pin, values.password);
  } catch (error) {
    if (error instanceof TargetError) throw new UsageError(error.message);
    throw error;
  }
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, {
    port: { type: 'string' },
    device: { type: 'string' },
    pskc: { type: 'string' },
    serial: { type: 'string' },
    password: { type: 'string' },
    pin: { type: 'string' },
    baud: { type: 'string' },
    responses: { type: 'string' },
    destructive: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    write(io.stdout, help);
    return exitOk;
  }
  const portPath = required('port', values.port);
  let baudRate: number;
  try {
    baudRate = parseBaudRate(values.baud ?? String(defaultBaudRate));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const responses = values.responses === undefined ? responsesDefault : integerOption('responses', values.responses, responsesMax);
  const target = loadTarget(values);
  try {
    let port;
    try {
      port = await openPort(portPath, baudRate);
    } catch (error) {
      if (error instanceof PortOpenError) throw new UsageError(error.message);
      throw error;
    }
    const panel = new PanelLink(port, { identity: { model: 'DSC-CONFORMANCE', firmware: '1', serial: '-', clock: 'real' } });
    try {
      try {
        await panel.connect(connectTimeoutMs);
      } catch (error) {
        write(io.stderr, `dsc conformance: no card answered on ${portPath}: ${(error as Error).message}`);
        return exitFailure;
      }
      const results = await runConformance(panel, target, {
        responses,
        destructive: values.destructive === true,
        onResult: (result) => {
          if (!values.json) write(io.stdout, formatResult(result));
        },
      });
      const count = (status: CheckResult['status']) => results.filter((result) => result.status === status).length;
      const failed = results.filter((result) => result.status === 'fail');
      if (values.json) {
        write(io.stdout, JSON.stringify({ port: portPath, serial: target.serial, profile: target.profile, suite: target.suite.text, passed: count('pass'), failed: count('fail'), skipped: count('skip'), results }, null, 2));
      } else {
        write(io.stdout, `conformance: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
        for (const result of failed) write(io.stderr, `dsc conformance: FAILED ${result.name}: ${result.detail}`);
      }
      return failed.length === 0 ? exitOk : exitFailure;
    } finally {
      panel.close();
      await closePort(port);
    }
  } finally {
    target.wipe();
  }
}
