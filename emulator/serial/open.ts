/**
 * The start of `dsc serial` and `dsc bridge`: check the options, open the device file as a card
 * session and the port, turning every expected failure into a message that names the bad value.
 */
import type { SerialPort } from 'serialport';
import { DeviceFileError, openCard, type CardSession, type SessionOptions } from '../card.ts';
import { openPort, parseBaudRate, PortOpenError } from './port.ts';

/** A problem with what the user gave (an option, the device file, the port); the CLI exits 2 with the message. */
export class ServeSetupError extends Error {
  override name = 'ServeSetupError';
}

export interface ServeSetup {
  readonly session: CardSession;
  readonly port: SerialPort;
  readonly baudRate: number;
}

/**
 * Open the card (first, so a bad device file never touches the port) and then the port.
 * @example
 * const { session, port } = await openCardAndPort({ devicePath: 'card.json', portPath: '/dev/ttyUSB0', baud: '115200', clock: 'real' });
 */
export async function openCardAndPort(options: { devicePath: string; portPath: string; baud: string; clock: 'virtual' | 'real'; misstep?: SessionOptions['misstep'] }): Promise<ServeSetup> {
  let baudRate: number;
  try {
    baudRate = parseBaudRate(options.baud);
  } catch (error) {
    throw new ServeSetupError((error as Error).message);
  }
  let session: CardSession;
  try {
    session = openCard({ devicePath: options.devicePath, clock: options.clock, ...(options.misstep && { misstep: options.misstep }) });
  } catch (error) {
    if (error instanceof DeviceFileError) throw new ServeSetupError(error.message);
    throw error;
  }
  try {
    const port = await openPort(options.portPath, baudRate);
    return { session, port, baudRate };
  } catch (error) {
    session.close();
    if (error instanceof PortOpenError) throw new ServeSetupError(error.message);
    throw error;
  }
}

/** The identity a card session announces in its hello (the wire allows A-Z a-z 0-9 . _ + -). */
export function cardIdentity(session: CardSession, clock: 'virtual' | 'real') {
  return { model: session.info.model, firmware: session.info.firmwareVersion, serial: session.info.serial, clock } as const;
}
