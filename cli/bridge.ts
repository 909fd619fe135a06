/**
 * `dsc bridge`: the emulated card answers on a serial port exactly as a hardware card (a board running
 * the firmware) would: it takes key events and answers each with its frames and an AK
 * (docs/serial-protocol.md). Point `dsc conformance`, a test rig or a person in a terminal at the port.
 */
import { cardFaults, misstepOf, type CardFault } from '../emulator/faults.ts';
import { faults as wireFaults, type Fault } from '../emulator/serial/card-link.ts';
import { cardIdentity, masksTyping } from '../emulator/serial/open.ts';
import { defaultBaudRate } from '../emulator/serial/port.ts';
import { serveCard } from '../emulator/serial/serve.ts';
import { traceLine } from '../emulator/serial/trace.ts';
import { exitForEnd, openCardAndPortForCli, portLineHelp, portLines, reconnectMs, serveCardExitHelp, serveCardOptions } from './serve-card.ts';
import { exitOk, parseOptions, required, UsageError, write, type Io } from './io.ts';

const help = `usage: dsc bridge --port PATH --device DEVICE.json [--baud ${defaultBaudRate}] [--clock real|virtual] [--trace]
                  [--dtr on|off] [--rts on|off] [--reconnect-s 30]

Makes the card in DEVICE.json answer on the serial port PATH as a hardware card would: it takes
key events (KD/KU lines) and answers each with the display frames it produced (FR) and an
acknowledgement naming the frame now shown (AK). Protocol: docs/serial-protocol.md.

  --port PATH      the serial port (a USB adapter, or one end of a socat pty pair)
  --device FILE    the device file (dsc provision makes one); it is updated as the card is used
  --baud N         line speed, default ${defaultBaudRate}
  --clock real     the card keeps real time, like hardware (default)
  --clock virtual  time moves only on TM lines from the other end: fast, repeatable test runs
  --trace          print every line sent (tx) and received (rx) on stderr; PIN digits are hidden
${portLineHelp}
  --reconnect-s N  when the port goes away (cable pulled), wait up to N seconds for it to come
                   back, then greet again (default 30; 0 stops at once)

The device file is locked while the bridge runs: another dsc command on it waits 5 s, then is
refused with this process's id. Runs until Ctrl-C (or SIGTERM: the card is saved once and the
port and the file are freed) or until the port stays away longer than --reconnect-s.

example:
  $ socat -d -d pty,raw,echo=0 pty,raw,echo=0      # prints two /dev/pts paths
  $ dsc bridge --port /dev/pts/3 --device card.json --clock virtual
  $ dsc conformance --port /dev/pts/4 --device card.json

${serveCardExitHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, {
    ...serveCardOptions,
    clock: { type: 'string' },
    // Test-only: misbehave on purpose, to prove `dsc conformance` catches it. Not in --help.
    fault: { type: 'string' },
  });
  if (values.help) {
    write(io.stdout, help);
    return exitOk;
  }
  const portPath = required('port', values.port);
  const devicePath = required('device', values.device);
  const clock = values.clock ?? 'real';
  if (clock !== 'real' && clock !== 'virtual') throw new UsageError(`--clock expected real or virtual, got ${JSON.stringify(clock)}`);
  const fault = values.fault;
  const faults: readonly string[] = [...wireFaults, ...cardFaults];
  if (fault !== undefined && !faults.includes(fault)) throw new UsageError(`--fault expected one of ${faults.join(', ')}, got ${JSON.stringify(fault)}`);
  const wireFault = (wireFaults as readonly string[]).includes(fault ?? '') ? (fault as Fault) : undefined;
  const cardFault = (cardFaults as readonly string[]).includes(fault ?? '') ? (fault as CardFault) : undefined;
  const reconnect = reconnectMs(values['reconnect-s']);
  const lines = portLines(values, (text) => write(io.stderr, `dsc bridge: ${text}`));
  const { session, port, baudRate, reopen } = await openCardAndPortForCli({
    devicePath,
    portPath,
    command: 'dsc bridge',
    lines,
    baud: values.baud ?? String(defaultBaudRate),
    clock,
    ...(cardFault !== undefined && { misstep: misstepOf(cardFault) }),
  });
  const { info } = session;
  write(io.stderr, `dsc bridge: card ${info.serial} (${info.profile}, ${info.suite}) answering on ${portPath} at ${baudRate} baud, ${clock} clock${fault ? `, FAULT ${fault}` : ''}; Ctrl-C stops`);
  let end;
  try {
    end = await serveCard(port, session, {
      identity: cardIdentity(session, clock),
      clock,
      greet: 'after-reconnect',
      portPath,
      reopen,
      reconnectMs: reconnect,
      onStatus: (text) => write(io.stderr, `dsc bridge: ${text}`),
      ...(wireFault !== undefined && { fault: wireFault }),
      isResponse: () => session.screenId === 'response',
      onEvent: (event) => {
        if (values.trace) traceLine(io.stderr, event, { masking: () => masksTyping(session) });
        else if (event.type === 'refused') write(io.stderr, `dsc bridge: refused a line (${event.code}): ${event.detail}`);
      },
    });
  } finally {
    session.close(); // the one write at the end (the clock), then the device file's lock is let go
  }
  return exitForEnd('dsc bridge', portPath, end, io);
}
