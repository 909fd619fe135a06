/**
 * First start of `npm start` with no arguments: a demo card and a demo user, ready to log in.
 * Kept under `./.dsc/` so the card remembers its counters, lock and PIN between runs:
 *   .dsc/demo.json          which files, which user, the demo PIN and password (owner-only: it names them)
 *   .dsc/demo-card.json     the device file (the card's memory image, secret sealed)
 *   .dsc/host.sqlite        the login server's database, the one `dsc host` uses by default, so
 *                           `dsc host devices --user demo` finds the demo (+ .key, its sealing key, owner-only)
 * demo.json is written last: a setup interrupted before it is redone next time (a new card; the database
 * is never removed, since `dsc host` may keep other users in it).
 */
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../platform/atomic-file.ts';
import { DeviceFileError, provisionDeviceFile, readDeviceFile } from './card.ts';
import { openHostFile, type HostFile } from '../host/index.ts';
import { pinDigits } from '../firmware/types.ts';
import { isPin, isWeakPin } from '../firmware/pin.ts';

export const demoUser = 'demo';
const demoFiles = { config: 'demo.json', device: 'demo-card.json', db: 'host.sqlite' } as const;

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

// The keypad's rule (firmware/pin.ts), so the demo never teaches a PIN the card or server refuses.
function randomPin(): string {
  for (;;) {
    const pin = String(randomInt(0, 10 ** pinDigits)).padStart(pinDigits, '0');
    if (!isWeakPin(pin)) return pin;
  }
}

/** The demo's database, opened as `dsc host` opens it (DSC_HOST_KEY or the key file beside it). */
function openDemoHost(dbPath: string, hostKeyHex: string | undefined, create: boolean): Promise<HostFile> {
  return openHostFile({ dbPath, create, ...(hostKeyHex !== undefined && { hostKeyHex }) });
}

async function readConfig(folder: string, hostKeyHex: string | undefined): Promise<DemoSetup> {
  const configPath = join(folder, demoFiles.config);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new DemoSetupError(`demo setup ${JSON.stringify(configPath)} cannot be read (${(error as Error).message}); remove ${JSON.stringify(folder)} to start afresh`);
  }
  const { user, pin, password, db } = json;
  if (typeof user !== 'string' || !isPin(pin) || (password !== undefined && typeof password !== 'string')) {
    throw new DemoSetupError(`demo setup ${JSON.stringify(configPath)} expected "user" and a ${pinDigits}-digit "pin"; remove ${JSON.stringify(folder)} to start afresh`);
  }
  // A demo made before the database was shared names its own ("demo-host.sqlite"); it keeps it.
  const dbName = typeof db === 'string' && /^[\w.-]+\.sqlite$/.test(db) ? db : demoFiles.db;
  const setup = { devicePath: join(folder, demoFiles.device), dbPath: join(folder, dbName), user, pin, password: (password as string | undefined) ?? '', configPath, created: false };
  if (password !== undefined) return setup;
  // A demo from before passwords: give its user one now.
  const fresh = randomPassword();
  const file = await openDemoHost(setup.dbPath, hostKeyHex, false);
  try {
    await file.host.setPassword({ user, password: fresh, by: 'demo setup' });
  } finally {
    await file.close();
  }
  writeConfig(configPath, user, pin, fresh, setup.dbPath);
  return { ...setup, password: fresh };
}

function writeConfig(configPath: string, user: string, pin: string, password: string, dbPath: string): void {
  writeFileAtomic(configPath, `${JSON.stringify({ user, pin, password, device: demoFiles.device, db: basename(dbPath) }, null, 2)}\n`);
}

/** The serial of an interrupted first run's demo card, when its file is there and readable. */
function leftoverSerial(devicePath: string): string | undefined {
  if (!existsSync(devicePath)) return undefined;
  try {
    return readDeviceFile(devicePath).serial;
  } catch (error) {
    if (error instanceof DeviceFileError) return undefined;
    throw error;
  }
}

/**
 * The demo setup in `folder` (normally `./.dsc/` or `$DSC_HOME`), made on first use.
 * @example
 * const demo = await ensureDemo(join(process.cwd(), '.dsc'));
 * demo.pin // e.g. '4826', shown on screen
 */
export async function ensureDemo(folder: string, hostKeyHex?: string): Promise<DemoSetup> {
  const configPath = join(folder, demoFiles.config);
  if (existsSync(configPath)) return readConfig(folder, hostKeyHex);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const devicePath = join(folder, demoFiles.device);
  const dbPath = join(folder, demoFiles.db);
  // No demo.json: a demo card here is from an interrupted first run (it holds nothing else).
  const leftover = leftoverSerial(devicePath);
  rmSync(devicePath, { force: true });
  const pin = randomPin();
  const { record } = provisionDeviceFile(devicePath, { profile: 'dscplus', pin });
  const password = randomPassword();
  const file = await openDemoHost(dbPath, hostKeyHex, true);
  try {
    await file.host.enroll({ user: demoUser, record });
    await file.host.setPassword({ user: demoUser, password, by: 'demo setup' });
    // The interrupted run may have enrolled its card already: withdraw it, so the demo user holds only this one.
    if (leftover !== undefined && (await file.host.devices(demoUser)).some((device) => device.serial === leftover && device.active)) {
      await file.host.assign({ user: demoUser, serial: leftover, active: false });
    }
    if (file.publish() === 'raced') throw new DemoSetupError(`${dbPath} was created by another process while the demo was being made; start again`);
  } finally {
    await file.close();
  }
  writeConfig(configPath, demoUser, pin, password, dbPath);
  return { devicePath, dbPath, user: demoUser, pin, password, configPath, created: true };
}

/**
 * After a PIN change through the login page, remember the new demo PIN (it is shown on screen).
 * @example
 * rememberDemoPin(await ensureDemo(join(process.cwd(), '.dsc')), '7391');
 */
export function rememberDemoPin(setup: DemoSetup, pin: string): void {
  writeConfig(setup.configPath, setup.user, pin, setup.password, setup.dbPath);
  chmodSync(setup.configPath, 0o600);
}
