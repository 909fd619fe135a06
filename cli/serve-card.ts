/**
 * What `dsc serial` and `dsc bridge` share around `serveCard`: the port options (`--dtr`, `--rts`,
 * `--reconnect-s`), opening the device file and the port (either one wrong is the user's to fix:
 * exit 2), and the exit code and last line for however the serving ended.
 */
import { openCardAndPort, ServeSetupError, type CardAndPortOptions, type ServeSetup } from '../emulator/serial/open.ts';
import { parseLineLevel, type PortLines } from '../emulator/serial/port.ts';
import { reconnectSecondsDefault, reconnectSecondsMax } from '../emulator/serial/reconnect.ts';
import type { ServeEnd } from '../emulator/serial/serve.ts';
import { exitFailure, exitOk, integerOption, UsageError, write, type Io } from './io.ts';

/** The options every command that opens a port takes, for parseOptions. */
export const portLineOptions = {
  dtr: { type: 'string' },
  rts: { type: 'string' },
} as const;

/** The options of the commands that serve a card on a port (`dsc serial`, `dsc bridge`), for parseOptions. */
export const serveCardOptions = {
  port: { type: 'string' },
  device: { type: 'string' },
  baud: { type: 'string' },
  trace: { type: 'boolean' },
  'reconnect-s': { type: 'string' },
  ...portLineOptions,
} as const;

/** The last lines of their help: `exitForEnd` and the usage errors give these codes. */
export const serveCardExitHelp = `Exit codes: 0 stopped by a signal; 1 the port stayed away, or the card stopped; 2 bad arguments,
device file (or it is in use) or port.`;

/** The help lines of those options. */
export const portLineHelp = `  --dtr on|off     set DTR right after opening (default: as the system sets it, on)
  --rts on|off     set RTS right after opening (default: on); ESP32 boards need --dtr off --rts off`;

/** Check --dtr and --rts; `warn` hears when the port has no modem lines (a pseudo-terminal). */
export function portLines(values: { dtr?: string; rts?: string }, warn: (text: string) => void): PortLines {
  try {
    return {
      ...(values.dtr !== undefined && { dtr: parseLineLevel('dtr', values.dtr) }),
      ...(values.rts !== undefined && { rts: parseLineLevel('rts', values.rts) }),
      onWarning: warn,
    };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Check --reconnect-s; returns milliseconds. */
export function reconnectMs(text: string | undefined): number {
  return (text === undefined ? reconnectSecondsDefault : integerOption('reconnect-s', text, reconnectSecondsMax)) * 1000;
}

export async function openCardAndPortForCli(options: CardAndPortOptions): Promise<ServeSetup> {
  try {
    return await openCardAndPort(options);
  } catch (error) {
    if (error instanceof ServeSetupError) throw new UsageError(error.message);
    throw error;
  }
}

/** Exit 0 when a signal stopped it; otherwise say why on stderr and exit 1. */
export function exitForEnd(command: string, portPath: string, end: ServeEnd, io: Io): number {
  if (end.type === 'signal') {
    write(io.stderr, `${command}: stopped by ${end.signal}; the card is saved and ${portPath} is free`);
    return exitOk;
  }
  if (end.type === 'card stopped') write(io.stderr, `${command}: the card stopped: ${end.error}`);
  else write(io.stderr, `${command}: port ${portPath} closed${end.error ? `: ${end.error}` : ''}`);
  return exitFailure;
}
