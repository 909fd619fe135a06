/**
 * `dsc serial`: the firmware runs on this PC and a serial keypad/display board is its keys and LCD.
 * The board sends key-down/key-up lines; the card answers with display frames and acknowledgements
 * (docs/serial-protocol.md). Time is real: a finger holds PRESS for two seconds, the card powers off
 * after thirty idle seconds, and those frames go to the board as they happen.
 */
import { cardIdentity, masksTyping } from '../emulator/serial/open.ts';
import { defaultBaudRate } from '../emulator/serial/port.ts';
import { serveCard } from '../emulator/serial/serve.ts';
import { traceLine } from '../emulator/serial/trace.ts';
import { exitForEnd, openCardAndPortForCli, portLineHelp, portLines, reconnectMs, serveCardExitHelp, serveCardOptions } from './serve-card.ts';
import { exitOk, parseOptions, required, write, type Io } from './io.ts';

const help = `usage: dsc serial --port PATH --device DEVICE.json [--baud ${defaultBaudRate}] [--json] [--trace]
                  [--dtr on|off] [--rts on|off] [--reconnect-s 30]

Runs the card in DEVICE.json on this PC with a serial keypad/display board as its keys and LCD.
The board sends KD/KU lines for its keys and shows the FR lines it receives; both ends greet each
other (HI/HA) first: this end says hello as soon as the port is open, and again every second until
the board answers (for ten minutes; a board that resets when the port opens still connects). Protocol: docs/serial-protocol.md.

  --port PATH      the board's serial port (dsc ports lists them), e.g. /dev/ttyUSB0
  --device FILE    the device file (dsc provision makes one); it is updated as the card is used
  --baud N         line speed, default ${defaultBaudRate}
  --json           print each frame as a JSON line on stdout instead of text
  --trace          print every line sent (tx) and received (rx) on stderr; PIN digits are hidden
${portLineHelp}
  --reconnect-s N  when the port goes away (cable pulled), wait up to N seconds for it to come
                   back, then greet the board again (default 30; 0 stops at once)

Each frame the board is sent is also printed here, so you can see what its LCD should show.
The device file is locked while this runs (another dsc command on it waits 5 s, then is refused
with this process's id). Runs until Ctrl-C (or SIGTERM: the card is saved once and the port and
the file are freed) or until the port stays away longer than --reconnect-s.

example:
  $ dsc serial --port /dev/ttyUSB0 --device card.json
  frame 1  "PIN>"
  frame 2  "PIN>-"

${serveCardExitHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, {
    ...serveCardOptions,
    json: { type: 'boolean' },
  });
  if (values.help) {
    write(io.stdout, help);
    return exitOk;
  }
  const portPath = required('port', values.port);
  const devicePath = required('device', values.device);
  const reconnect = reconnectMs(values['reconnect-s']);
  const lines = portLines(values, (text) => write(io.stderr, `dsc serial: ${text}`));
  const { session, port, baudRate, reopen } = await openCardAndPortForCli({ devicePath, portPath, baud: values.baud ?? String(defaultBaudRate), clock: 'real', command: 'dsc serial', lines });
  write(io.stderr, `dsc serial: card ${session.info.serial} (${session.info.profile}) using the board on ${portPath} at ${baudRate} baud as keys and LCD; Ctrl-C stops`);
  let end;
  try {
    end = await serveCard(port, session, {
      identity: cardIdentity(session, 'real'),
      clock: 'real',
      greet: 'always',
      portPath,
      reopen,
      reconnectMs: reconnect,
      onStatus: (text) => write(io.stderr, `dsc serial: ${text}`),
      onEvent: (event) => {
        if (values.trace) traceLine(io.stderr, event, { masking: () => masksTyping(session) });
        else if (event.type === 'refused') write(io.stderr, `dsc serial: refused a line from the board (${event.code}): ${event.detail}`);
        else if (event.type === 'connected') write(io.stderr, `dsc serial: board ${event.peer.model} ${event.peer.firmware} (serial ${event.peer.serial}) connected`);
        if (event.type !== 'sent' || !event.line.startsWith('FR ')) return;
        // Print what the board was just told to show, from the line itself: exactly what went out.
        const match = /^FR \d+ (\d+) ([B-])([L-]) "([^"]*)"/.exec(event.line);
        if (match === null) return;
        const [, number, battery, lock, text] = match as unknown as [string, string, string, string, string];
        if (values.json) {
          write(io.stdout, JSON.stringify({ frame: Number(number), text, lowBattery: battery === 'B', locked: lock === 'L' }));
        } else {
          write(io.stdout, `frame ${number}  ${JSON.stringify(text)}${battery === 'B' ? '  [low battery]' : ''}${lock === 'L' ? '  [locked]' : ''}`);
        }
      },
    });
  } finally {
    session.close(); // the one write at the end, then the device file's lock is let go
  }
  return exitForEnd('dsc serial', portPath, end, io);
}
