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

/**
 * Open `path` at `baudRate` (8 data bits, no parity, 1 stop bit, no flow control).
 * @example
 * const port = await openPort('/dev/ttyUSB0', 115_200);
 */
export async function openPort(path: string, baudRate: number): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((error) => {
      if (error) reject(new PortOpenError(`cannot open serial port ${JSON.stringify(path)}: ${error.message.replace(/^Error: /, '')}`));
      else resolve();
    });
  });
  return port;
}

/** Close a port, waiting for queued lines to go out first; never throws (the port may already be gone). */
export async function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return;
  await new Promise<void>((resolve) => port.drain(() => resolve()));
  await new Promise<void>((resolve) => port.close(() => resolve()));
}
