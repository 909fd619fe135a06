/**
 * `dsc conformance`: drive a card over a serial port (the emulator under `dsc bridge`, or hardware
 * running the firmware) and report which behaviours of the screen table and which responses conform.
 * It knows the card's secret from the device file (or a PSKC container), so it checks every response.
 */
import { openPort, closePort, defaultBaudRate, parseBaudRate, PortOpenError } from '../emulator/serial/port.ts';
import { PanelLink } from '../emulator/serial/panel-link.ts';
import { deviceNumber, watchPortPath } from '../emulator/serial/reconnect.ts';
import { Driver } from '../conformance/driver.ts';
import { plannedChecks, runConformance, type CheckResult } from '../conformance/run.ts';
import { loadScreenTable } from '../platform/screen-table.ts';
import { portLineHelp, portLineOptions, portLines } from './serve-card.ts';
import { progressLine } from './progress.ts';
import { targetFromDeviceFile, targetFromPskc, TargetError, type Target } from '../conformance/target.ts';
import { exploreHelp, exploreOptions, runExplore } from './conformance-explore.ts';
import { exitFailure, exitOk, integerOption, parseOptions, pinOption, required, UsageError, write, type Io } from './io.ts';
import { SecretReader, visibleNote } from './secrets.ts';

/** The most random challenges one run asks for. */
export const responsesMax = 1_000;
const responsesDefault = 5;
/** How long to wait for the card's hello answer when the run starts (a board may still be booting); the hello is repeated every second. */
export const connectTimeoutMs = 5_000;
/** The port closed under the run (a cable pulled out): nothing was judged. */
export const exitPortClosed = 3;
/** Stopped with Ctrl-C (128 + SIGINT, as shells report it). */
export const exitInterrupted = 130;

const help = `usage: dsc conformance --port PATH (--device DEVICE.json | --pskc FILE --serial N [--password P])
                       [--pin 1234] [--baud ${defaultBaudRate}] [--responses ${responsesDefault}] [--destructive] [--quick]
                       [--json] [--dtr on|off] [--rts on|off]
       dsc conformance --port PATH (--device … | --pskc …) --explore [--runs N] [--seed S [--path P]] [--max-keys K]

Drives the card on the serial port PATH (docs/serial-protocol.md) and reports, one line per check,
which behaviours conform: the hello, random challenges whose responses are verified with the OCRA
engine on the card's secret, the soft PIN (dscplus) or the PIN lock and unlock (digipass), the
protocol's refusals of damaged and repeated lines, every transition of the screen table
(fixtures/screens.json) that can be driven over serial, and every line the card sent.

  --device FILE    the card's device file: serial, profile, suite, secret and PIN
  --pskc FILE      or a PSKC key container (RFC 6030) with the card's OCRA key, chosen by --serial N;
                   --password P for a password-protected container; --pin is then required
  --pin 1234       the card's PIN, when the device file holds none or it was changed
  Secret options (--pin, --password): - reads each from stdin, one line each in that order.
  ${visibleNote}
  --baud N         line speed, default ${defaultBaudRate}
  --responses N    random challenges to verify (default ${responsesDefault})
  --destructive    also run the transitions that block a digipass card for good
  --quick          the short set (handshake, responses, PIN, protocol refusals, lines): under
                   2 minutes on a real clock
  --json           print the results as one JSON object instead of text
${portLineHelp}
${exploreHelp}

A card with a virtual clock (dsc bridge --clock virtual) is driven in virtual time; a real-clock
card (hardware) in real time: keys are held and timeouts waited for, about 12 minutes in all
(--quick: about one). A progress line on stderr counts the checks done of the total, the time so
far and an estimate of the time left. The card is left as found: off, its PIN set, not locked (a
locked card is unlocked again). Ctrl-C stops the run: the results so far and a summary are printed
and the card is switched off first. A port that closes during the run (a cable pulled out) is
noticed within a second: the run stops without judging the card.

example:
  $ dsc bridge --port /dev/pts/3 --device card.json --clock virtual &
  $ dsc conformance --port /dev/pts/4 --device card.json
  PASS  handshake: protocol version, model and serial number  (protocol 2, DSC+ firmware 1.0.0, …)
  …
  conformance: 60 passed, 0 failed, 6 skipped

Exit codes: 0 every check passed; 1 a check failed (named above), or no card answered; 2 bad
arguments, device file or port; 3 the port closed during the run; 130 stopped with Ctrl-C.`;

function formatResult(result: CheckResult): string {
  const tag = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[result.status];
  return `${tag}  ${result.name}  (${result.detail})`;
}

/** The secret options, in the order their `-` lines are read from stdin. */
const secretOrder = ['pin', 'password'] as const;

function loadTarget(values: { device?: string; pskc?: string; serial?: string; pin?: string; password?: string }): Target {
  if ((values.device === undefined) === (values.pskc === undefined)) throw new UsageError('give either --device FILE or --pskc FILE --serial N');
  // The PIN itself is never echoed, not even a wrong one.
  if (values.pin !== undefined) pinOption('pin', values.pin);
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
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
    ...portLineOptions,
    explore: { type: 'boolean' },
    runs: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    'max-keys': { type: 'string' },
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
  const lines = portLines(values, (text) => write(io.stderr, `dsc conformance: ${text}`));
  const explore = values.explore === true ? exploreOptions(values) : undefined;
  const secrets = new SecretReader(io);
  const pin = await secrets.optional(values, 'pin', secretOrder);
  const password = await secrets.optional(values, 'password', secretOrder);
  const target = loadTarget({ ...values, pin, password });
  try {
    let port;
    try {
      port = await openPort(portPath, baudRate, lines);
    } catch (error) {
      if (error instanceof PortOpenError) throw new UsageError(error.message);
      throw error;
    }
    const panel = new PanelLink(port, { identity: { model: 'DSC-CONFORMANCE', firmware: '1', serial: '-', clock: 'real' } });
    // Ctrl-C and a port that goes away stop the run; which one is the reason.
    const stop = new AbortController();
    const onSigint = () => stop.abort('interrupted');
    process.once('SIGINT', onSigint);
    const portGone = () => {
      if (stop.signal.aborted) return;
      stop.abort('port closed');
      panel.close(); // every wait for an AK ends now, not after its timeout
    };
    const opened = deviceNumber(portPath);
    const stopWatching = watchPortPath(portPath, portGone);
    port.once('close', portGone);
    port.on('error', portGone);
    // A failing check first asks whether the cable is still there (the watch looks only every 250 ms).
    const linkUp = () => {
      if (stop.signal.reason === 'port closed') return false;
      if (port.isOpen && opened !== null && deviceNumber(portPath) === opened) return true;
      portGone();
      return false;
    };
    try {
      try {
        await panel.connect(connectTimeoutMs);
      } catch (error) {
        if (stop.signal.reason === 'port closed') return portClosed(io, portPath, []);
        write(io.stderr, `dsc conformance: no card answered on ${portPath}: ${(error as Error).message}`);
        return exitFailure;
      }
      if (explore !== undefined) {
        const code = await runExplore(panel, target, { ...explore, signal: stop.signal }, argv, values.json === true, io);
        if (stop.signal.reason === 'port closed') return portClosed(io, portPath, []);
        if (stop.signal.reason !== 'interrupted') return code;
        await switchOff(panel, io);
        return exitInterrupted;
      }
      const options = { responses, destructive: values.destructive === true, quick: values.quick === true, signal: stop.signal, linkUp };
      const progress = progressLine(io.stderr, plannedChecks(target, options));
      const results = await runConformance(panel, target, {
        ...options,
        onResult: (result) => {
          if (!values.json) progress.clear();
          if (!values.json) write(io.stdout, formatResult(result));
          progress.done();
        },
      });
      progress.stop();
      if (stop.signal.reason === 'port closed' || !linkUp()) return portClosed(io, portPath, results);
      const count = (status: CheckResult['status']) => results.filter((result) => result.status === status).length;
      const failed = results.filter((result) => result.status === 'fail');
      const interrupted = stop.signal.reason === 'interrupted';
      if (interrupted) await switchOff(panel, io);
      if (values.json) {
        write(io.stdout, JSON.stringify({ port: portPath, serial: target.serial, profile: target.profile, suite: target.suite.text, ...(interrupted && { interrupted: true }), passed: count('pass'), failed: count('fail'), skipped: count('skip'), results }, null, 2));
      } else {
        write(io.stdout, `conformance: ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped${interrupted ? `; interrupted after ${results.length} of ${plannedChecks(target, options)} checks` : ''}`);
        for (const result of failed) write(io.stderr, `dsc conformance: FAILED ${result.name}: ${result.detail}`);
      }
      if (interrupted) return exitInterrupted;
      return failed.length === 0 ? exitOk : exitFailure;
    } finally {
      process.removeListener('SIGINT', onSigint);
      stopWatching();
      panel.close();
      await closePort(port);
    }
  } finally {
    target.wipe();
  }
}

/** The cable went, not the card: say so, with what had been checked, and exit 3. */
function portClosed(io: Io, portPath: string, results: readonly CheckResult[]): number {
  const passed = results.filter((result) => result.status === 'pass').length;
  write(io.stderr, `dsc conformance: port ${portPath} closed during the run (cable unplugged?); stopped after ${results.length} checks (${passed} passed). The card was not judged: plug it in and run again.`);
  return exitPortClosed;
}

/** After Ctrl-C: switch the card off (a 2 s hold, on a real clock) so that it is not left on. */
async function switchOff(panel: PanelLink, io: Io): Promise<void> {
  const { powerHoldMs, idleTimeoutMs } = loadScreenTable().display;
  write(io.stderr, 'dsc conformance: interrupted; switching the card off (Ctrl-C again to quit at once)');
  const quit = () => process.exit(exitInterrupted);
  process.once('SIGINT', quit);
  try {
    await new Driver(panel).off(powerHoldMs, idleTimeoutMs);
  } catch (error) {
    write(io.stderr, `dsc conformance: the card could not be switched off: ${(error as Error).message}`);
  } finally {
    process.removeListener('SIGINT', quit);
  }
}
