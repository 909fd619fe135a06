/**
 * `dsc`: one binary, one table of commands. Each command lives in its own module and is loaded
 * only when used, so `dsc ocra` does not pay for Ink or SQLite.
 */
import { exitUsage, processIo, UsageError, write, type Command, type Io } from './io.ts';

interface Entry {
  readonly summary: string;
  readonly load: () => Promise<{ run: Command }>;
}

export const commands: Readonly<Record<string, Entry>> = {
  emulate: { summary: 'open the card in the terminal with a login page beside it (what `npm start` runs)', load: () => import('./emulate.ts') },
  ocra: { summary: 'compute an OCRA (RFC 6287) response, or answer NDJSON requests with --batch', load: () => import('./ocra.ts') },
  provision: { summary: 'make a new device file (secret, serial, profile, suite)', load: () => import('./provision.ts') },
  press: { summary: 'feed keys to a device file headless and print each display frame', load: () => import('./press.ts') },
  respond: { summary: 'run PIN + challenge on a device file and print the response', load: () => import('./respond.ts') },
  host: { summary: 'the login server: enroll, challenge, verify, unlock, PSKC import/export', load: () => import('./host/index.ts') },
  serial: { summary: 'run the firmware with a serial keypad/display board as its keys and LCD', load: () => import('./serial.ts') },
  bridge: { summary: 'make the emulated card answer on a serial port as a hardware card would', load: () => import('./bridge.ts') },
  conformance: { summary: 'drive a card over serial and report which behaviours conform', load: () => import('./conformance.ts') },
  ports: { summary: 'list the serial ports of this machine', load: () => import('./ports.ts') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return [
    'dsc: a simulator of the Digital Security Card+ challenge/response login card (OCRA, RFC 6287)',
    '',
    'usage: dsc COMMAND [options]     (dsc COMMAND --help for each)',
    '',
    ...lines,
    '',
    'example:',
    '  dsc ocra --suite OCRA-1:HOTP-SHA1-6:QN08 --key 3132333435363738393031323334353637383930 --challenge 00000000',
    '  237653',
    '',
    'Exit codes: 0 ok, 1 an expected failure (a rejected response, a failed check), 2 bad arguments or input.',
  ].join('\n');
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    write(name === undefined ? io.stderr : io.stdout, usage());
    return name === undefined ? exitUsage : 0;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    write(io.stderr, `dsc: unknown command ${JSON.stringify(name)}; run \`dsc --help\` for the list`);
    return exitUsage;
  }
  try {
    const { run } = await entry.load();
    return await run(rest, io);
  } catch (error) {
    // Only a UsageError is the user's doing; anything else is a bug and keeps its stack trace.
    if (error instanceof UsageError) {
      write(io.stderr, `dsc ${name}: ${(error as Error).message}`);
      return exitUsage;
    }
    throw error;
  }
}
