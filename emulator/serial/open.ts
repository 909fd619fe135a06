/**
 * The start of `dsc serial` and `dsc bridge`: check the options, open the device file as a card
 * session and the port, turning every expected failure into a message that names the bad value.
 */
import type { SerialPort } from 'serialport';
import { DeviceFileError, openCard, type CardSession, type SessionOptions } from '../card.ts';
import type { ScreenId } from '../../firmware/screens.ts';
import { openPort, parseBaudRate, PortOpenError, type PortLines } from './port.ts';

/** A problem with what the user gave (an option, the device file, the port); the CLI exits 2 with the message. */
export class ServeSetupError extends Error {
  override name = 'ServeSetupError';
}

export interface ServeSetup {
  readonly session: CardSession;
  readonly port: SerialPort;
  readonly baudRate: number;
  /** Open the same port again with the same settings (after the cable came back). */
  readonly reopen: () => Promise<SerialPort>;
}

export interface CardAndPortOptions {
  readonly devicePath: string;
  readonly portPath: string;
  readonly baud: string;
  readonly clock: 'virtual' | 'real';
  /** The command holding the card, as the device file's lock names it (`dsc bridge`). */
  readonly command: string;
  readonly lines?: PortLines;
  readonly misstep?: SessionOptions['misstep'];
}

/**
 * Open the card (first, so a bad device file never touches the port) and then the port.
 * @example
 * const { session, port } = await openCardAndPort({ devicePath: 'card.json', portPath: '/dev/ttyUSB0', baud: '115200', clock: 'real' });
 */
export async function openCardAndPort(options: CardAndPortOptions): Promise<ServeSetup> {
  let baudRate: number;
  try {
    baudRate = parseBaudRate(options.baud);
  } catch (error) {
    throw new ServeSetupError((error as Error).message);
  }
  let session: CardSession;
  try {
    session = openCard({ devicePath: options.devicePath, command: options.command, clock: options.clock, ...(options.misstep && { misstep: options.misstep }) });
  } catch (error) {
    if (error instanceof DeviceFileError) throw new ServeSetupError(error.message);
    throw error;
  }
  try {
    const reopen = () => openPort(options.portPath, baudRate, options.lines);
    const port = await reopen();
    return { session, port, baudRate, reopen };
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

/** Screens where what is typed shows as it is; anywhere else a digit may be a PIN digit (a key also ends a message and types on the next screen). */
const typingShown: ReadonlySet<ScreenId> = new Set<ScreenId>(['off', 'challenge', 'response', 'badCheck', 'lockCode', 'unlock', 'unlockFail', 'blocked']);

/**
 * True while the card masks what is typed (PIN, new PIN): `--trace` then hides digit keys, as the display does.
 * @example
 * traceLine(io.stderr, event, { masking: () => masksTyping(session) });
 */
export function masksTyping(session: CardSession): boolean {
  return !typingShown.has(session.screenId);
}
