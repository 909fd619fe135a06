/**
 * Opening a serial port for the protocol, with errors a person can act on. The port is a Duplex
 * stream of bytes; the protocol (link.ts) neither knows nor cares whether it is a USB adapter,
 * a pseudo-terminal or serialport's mock binding.
 */
import { SerialPort } from 'serialport';

/** The default line speed; the protocol's lines are short enough for far slower links. */
export const defaultBaudRate = 115_200;
/** The standard rates a USB serial adapter and a microcontroller UART both offer. */
export const baudRates = [1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600] as const;

/** A port that could not be opened; the message names the path and the system's reason. */
export class PortOpenError extends Error {
  override name = 'PortOpenError';
}

/** Check a --baud value: one of the standard rates. Returns the number. */
export function parseBaudRate(text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(baudRates as readonly number[]).includes(value)) {
    throw new RangeError(`--baud expected one of ${baudRates.join(', ')}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Check a --dtr or --rts value: on or off. Returns the line's level. */
export function parseLineLevel(name: 'dtr' | 'rts', text: string): boolean {
  if (text !== 'on' && text !== 'off') throw new RangeError(`--${name} expected on or off, got ${JSON.stringify(text)}`);
  return text === 'on';
}

/** The modem control lines to set right after opening; a line left out stays as the system set it (Linux raises both). */
export interface PortLines {
  readonly dtr?: boolean;
  readonly rts?: boolean;
  /** Told when a line cannot be set because the port has none (a pseudo-terminal). */
  readonly onWarning?: (text: string) => void;
}

/**
 * Open `path` at `baudRate` (8 data bits, no parity, 1 stop bit, no flow control), with HUPCL off so
 * that closing does not drop DTR (an Arduino-style board resets when DTR rises: at most once, at the
 * first open), then set DTR and RTS as asked.
 * @example
 * const port = await openPort('/dev/ttyUSB0', 115_200, { dtr: false, rts: false }); // an ESP32 board
 */
export async function openPort(path: string, baudRate: number, lines: PortLines = {}): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, hupcl: false, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((error) => {
      if (error) reject(new PortOpenError(`cannot open serial port ${JSON.stringify(path)}: ${error.message.replace(/^Error: /, '')}`));
      else resolve();
    });
  });
  const wanted = { ...(lines.dtr !== undefined && { dtr: lines.dtr }), ...(lines.rts !== undefined && { rts: lines.rts }) };
  if (Object.keys(wanted).length > 0) {
    await new Promise<void>((resolve) => {
      port.set(wanted, (error) => {
        // A pseudo-terminal has no modem lines (ENOTTY); the link works without them, so say so and go on.
        if (error) lines.onWarning?.(`cannot set ${Object.keys(wanted).map((name) => name.toUpperCase()).join(' and ')} on ${JSON.stringify(path)} (${error.message.replace(/^Error: /, '')}): it has no modem control lines; going on without`);
        resolve();
      });
    });
  }
  return port;
}

/** The longest a closing port waits for queued lines to go out, in milliseconds: a peer that never reads must not hold up a stop. */
export const closeDrainMsMax = 500;

/** Close a port, waiting (up to closeDrainMsMax) for queued lines to go out first; never throws (the port may already be gone). */
export async function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, closeDrainMsMax);
    port.drain(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, closeDrainMsMax);
    port.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
