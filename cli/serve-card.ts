/**
 * What `dsc serial` and `dsc bridge` share around `serveCard`: opening the device file and the port (either
 * one wrong is the user's to fix: exit 2), and the exit code and last line for however the serving ended.
 */
import { openCardAndPort, ServeSetupError, type ServeSetup } from '../emulator/serial/open.ts';
import type { ServeEnd } from '../emulator/serial/serve.ts';
import { exitFailure, exitOk, UsageError, write, type Io } from './io.ts';

export async function openCardAndPortForCli(options: Parameters<typeof openCardAndPort>[0]): Promise<ServeSetup> {
  try {
    return await openCardAndPort(options);
  } catch (error) {
    if (error instanceof ServeSetupError) throw new UsageError(error.message);
    throw error;
  }
}

/** Exit 0 when a signal stopped it; otherwise say why on stderr and exit 1. */
export function exitForEnd(command: string, portPath: string, end: ServeEnd, io: Io): number {
  if (end.type === 'signal') return exitOk;
  if (end.type === 'card stopped') write(io.stderr, `${command}: the card stopped: ${end.error}`);
  else write(io.stderr, `${command}: port ${portPath} closed${end.error ? `: ${end.error}` : ''}`);
  return exitFailure;
}
