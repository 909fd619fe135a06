/**
 * First start of `npm start` with no arguments: a demo card and a demo user, ready to log in.
 * Kept under `./.dsc/` so the card remembers its counters, lock and PIN between runs:
 *   .dsc/demo.json          which files, which user, the demo PIN and password (owner-only: it names them)
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
import { isWeakPin } from '../firmware/card-suite.ts';

export const demoUser = 'demo';
const demoFiles = { config: 'demo.json', device: 'demo-card.json', db: 'demo-host.sqlite' } as const;

export interface DemoSetup {
  readonly devicePath: string;
  readonly dbPath: string;
  readonly user: string;
  /** The PIN chosen "at ordering" (or the last one changed through the login page). */
  readonly pin: string;
  /** The demo user's password (the first factor). */
  readonly password: string;
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

/** The demo password: digits (the login page's keys type digits), shown on screen like the demo PIN. */
export const demoPasswordDigits = 10;

function randomPassword(): string {
  let out = '';
  while (out.length < demoPasswordDigits) out += String(randomInt(0, 10));
  return out;
}

// The keypad's rule (firmware/card-suite.ts), so the demo never teaches a PIN the card or server refuses.
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
  const { user, pin, password } = json;
  if (typeof user !== 'string' || typeof pin !== 'string' || !new RegExp(`^\\d{${pinDigits}}$`).test(pin) || (password !== undefined && typeof password !== 'string')) {
    throw new DemoSetupError(`demo setup ${JSON.stringify(configPath)} expected "user" and a ${pinDigits}-digit "pin"; remove ${JSON.stringify(folder)} to start afresh`);
  }
  const setup = { devicePath: join(folder, demoFiles.device), dbPath: join(folder, demoFiles.db), user, pin, password: (password as string | undefined) ?? '', configPath, created: false };
  if (password !== undefined) return setup;
  // A demo from before passwords: give its user one now.
  const fresh = randomPassword();
  const host = openHost({ dbPath: setup.dbPath });
  try {
    host.setPassword({ user, password: fresh, by: 'demo setup' });
  } finally {
    host.close();
  }
  writeConfig(configPath, user, pin, fresh);
  return { ...setup, password: fresh };
}

function writeConfig(configPath: string, user: string, pin: string, password: string): void {
  writeFileAtomic(configPath, `${JSON.stringify({ user, pin, password, device: demoFiles.device, db: demoFiles.db }, null, 2)}\n`);
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
  const password = randomPassword();
  const host = openHost({ dbPath });
  try {
    host.enroll({ user: demoUser, record });
    host.setPassword({ user: demoUser, password, by: 'demo setup' });
  } finally {
    host.close();
  }
  writeConfig(configPath, demoUser, pin, password);
  return { devicePath, dbPath, user: demoUser, pin, password, configPath, created: true };
}

/**
 * After a PIN change through the login page, remember the new demo PIN (it is shown on screen).
 * @example
 * rememberDemoPin(ensureDemo(join(process.cwd(), '.dsc')), '7391');
 */
export function rememberDemoPin(setup: DemoSetup, pin: string): void {
  writeConfig(setup.configPath, setup.user, pin, setup.password);
  chmodSync(setup.configPath, 0o600);
}
