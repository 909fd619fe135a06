/**
 * Open a device file for a headless command (press, respond) on the virtual clock. A device file that cannot be
 * used is the user's input, so it becomes a UsageError (exit 2) and the file is left as it was.
 */
import { DeviceFileError, openCard, readDeviceFile, type CardSession } from '../emulator/card.ts';
import type { DeviceRecord } from '../firmware/device-record.ts';
import { UsageError } from './io.ts';

/**
 * @param startNow start the virtual clock at the real time (for time-based suites), never earlier than the card's clock
 * @example
 * const card = openDeviceForCli('card.json', false);
 */
export function openDeviceForCli(devicePath: string, startNow: boolean | undefined, command = 'dsc'): CardSession {
  try {
    // openCard holds the file's lock until card.close(): a second command waits, then is refused by name.
    return openCard({ devicePath, command, clock: 'virtual', ...(startNow && { startMs: Math.max(readDeviceFile(devicePath).clockMs, Date.now()) }) });
  } catch (error) {
    if (error instanceof DeviceFileError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The device file's record without opening the card, to check arguments against it first (a refusal writes nothing).
 * @example
 * const { suite, profile } = readDeviceForCli('card.json');
 */
export function readDeviceForCli(devicePath: string): DeviceRecord {
  try {
    return readDeviceFile(devicePath);
  } catch (error) {
    if (error instanceof DeviceFileError) throw new UsageError(error.message);
    throw error;
  }
}
