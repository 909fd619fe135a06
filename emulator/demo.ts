/**
 * First start of `npm start` with no arguments: a demo card and a demo user, ready to log in.
 * Kept under `./.dsc/` so the card remembers its counters, lock and PIN between runs:
 *   .dsc/demo.json          which files, which user, the demo PIN (owner-only: it names the PIN)
 *   .dsc/demo-card.json     the device file (the card's memory image, secret sealed)
 *   .dsc/demo-host.sqlite   the login server's database (+ .key, its sealing key, owner-only)
 * demo.json is written last: a setup interrupted before it is redone from scratch next time.
 */
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../platform/atomic-file.ts';
import { provisionDeviceFile } from './card.ts';
import { openHost } from '../host/index.ts';
import { pinDigits } from '../firmware/types.ts';

export const demoUser = 'demo';
const demoFiles = { config: 'demo.json', device: 'demo-card.json', db: 'demo-host.sqlite' } as const;

export interface DemoSetup {
  readonly devicePath: string;
  readonly dbPath: string;
  readonly user: string;
  /** The PIN chosen "at ordering" (or the last one changed through the login page). */
  readonly pin: string;
  readonly configPath: string;
  /** True when this call made the demo (first run). */
  readonly created: boolean;
}

/**
 * The demo setup cannot be used (a broken demo.json); the message names the file. Nothing was changed.
 * @example
 * throw new DemoSetupError('demo setup ".dsc/demo.json" cannot be read …');
 */
export class DemoSetupError extends Error {
  override name = 'DemoSetupError';
}

/**
 * A PIN the card's digipass profile would not call weak: not all one digit, not a run up or down
 * (1234, 9876). The demo card is dscplus, but a demo should not teach a weak PIN.
 * @example
 * isWeakPin('1234') // true
 */
export function isWeakPin(pin: string): boolean {
  const digits = [...pin].map(Number);
  const steps = digits.slice(1).map((d, i) => d - digits[i]!);
  return steps.every((s) => s === 0) || steps.every((s) => s === 1) || steps.every((s) => s === -1);
}

function randomPin(): string {
  for (;;) {
    const pin = String(randomInt(0, 10 ** pinDigits)).padStart(pinDigits, '0');
    if (!isWeakPin(pin)) return pin;
  }
}

function readConfig(folder: string): DemoSetup {
  const configPath = join(folder, demoFiles.config);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new DemoSetupError(`demo setup ${JSON.stringify(configPath)} cannot be read (${(error as Error).message}); remove ${JSON.stringify(folder)} to start afresh`);
  }
  const { user, pin } = json;
  if (typeof user !== 'string' || typeof pin !== 'string' || !new RegExp(`^\\d{${pinDigits}}$`).test(pin)) {
    throw new DemoSetupError(`demo setup ${JSON.stringify(configPath)} expected "user" and a ${pinDigits}-digit "pin"; remove ${JSON.stringify(folder)} to start afresh`);
  }
  return { devicePath: join(folder, demoFiles.device), dbPath: join(folder, demoFiles.db), user, pin, configPath, created: false };
}

function writeConfig(configPath: string, user: string, pin: string): void {
  writeFileAtomic(configPath, `${JSON.stringify({ user, pin, device: demoFiles.device, db: demoFiles.db }, null, 2)}\n`);
}

/**
 * The demo setup in `folder` (normally `./.dsc/` or `$DSC_HOME`), made on first use.
 * @example
 * const demo = ensureDemo(join(process.cwd(), '.dsc'));
 * demo.pin // e.g. '4826', shown on screen
 */
export function ensureDemo(folder: string): DemoSetup {
  const configPath = join(folder, demoFiles.config);
  if (existsSync(configPath)) return readConfig(folder);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const devicePath = join(folder, demoFiles.device);
  const dbPath = join(folder, demoFiles.db);
  // No demo.json: any demo files here are from an interrupted first run (they hold nothing else).
  for (const leftover of [devicePath, dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}.key`]) rmSync(leftover, { force: true });
  const pin = randomPin();
  const { record } = provisionDeviceFile(devicePath, { profile: 'dscplus', pin });
  const host = openHost({ dbPath });
  try {
    host.enroll({ user: demoUser, record });
  } finally {
    host.close();
  }
  writeConfig(configPath, demoUser, pin);
  return { devicePath, dbPath, user: demoUser, pin, configPath, created: true };
}

/**
 * After a PIN change through the login page, remember the new demo PIN (it is shown on screen).
 * @example
 * rememberDemoPin(ensureDemo(join(process.cwd(), '.dsc')), '7391');
 */
export function rememberDemoPin(setup: DemoSetup, pin: string): void {
  writeConfig(setup.configPath, setup.user, pin);
  chmodSync(setup.configPath, 0o600);
}
