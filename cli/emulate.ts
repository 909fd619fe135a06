/**
 * `dsc emulate` (what `npm start` runs): the card drawn in the terminal, with a login page beside it
 * on the real host library. With no arguments it opens the demo card and user under ./.dsc/, made on
 * first start. The card runs on the real clock; its device file is rewritten on every commit.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DeviceFileError, holdDeviceFile, openCardFromRecord, readDeviceFile } from '../emulator/card.ts';
import { DemoSetupError, ensureDemo, rememberDemoPin, type DemoSetup } from '../emulator/demo.ts';
import { SessionLogError, SessionRecorder } from '../emulator/session-log.ts';
import { KeyDriver, realScheduler } from '../emulator/ui/key-driver.ts';
import { LoginModel } from '../emulator/ui/login-model.ts';
import { helpScreens } from '../emulator/ui/screen-table.ts';
import { HostError, HostKeyError, openHost, openHostFile, StoreError, type DeviceInfo, type LoginHost } from '../host/index.ts';
import type { DeviceRecord } from '../firmware/device-record.ts';
import type { Key } from '../firmware/types.ts';
import { dataFolder, exitOk, parseOptions, UsageError, write, type Io } from './io.ts';

const help = `usage: dsc emulate [--device DEVICE.json] [--db PATH] [--user NAME] [--record SESSION.ndjson]

Opens the card in the terminal with a login page beside it. Tab switches the keyboard between them;
? shows the key map and the screen table; q quits.

  (no options)     the demo card and user under ./.dsc/ (or $DSC_HOME), made on first start (the demo
                   PIN is on screen); the card keeps its counters, lock and PIN there between runs
  --device FILE    a device file from dsc provision (rewritten as the card commits; a corrupt one is
                   reported and left alone)
  --db PATH        the login server's database (default with --device: in memory, the device enrolled
                   for --user); the device is enrolled for --user when it is not yet
  --user NAME      the user who logs in (default: demo, or "user" with --device)
  --record FILE    write every key and frame, with frame numbers, as NDJSON; replay it headless with
                   dsc press --replay FILE. The log holds the whole card, its secret included, and the
                   keys typed, PIN included (a replay recomputes the responses): demo cards only

Card keys: 0-9, Enter = OK, Backspace = ◄, p = short PRESS, h or Space = PRESS held ~2 s
(terminals send no key-up, so a hold is its own key). Needs a terminal of at least 80×24.

Exit codes: 0 after q; 2 bad options, not a terminal, or a device file that cannot be used.`;

export interface Setup {
  readonly devicePath: string;
  readonly host: LoginHost;
  readonly user: string;
  readonly demo: DemoSetup | undefined;
  readonly notice: string | undefined;
  /** What the login page says to do about a locked account: the unlock command for this database. */
  readonly unlockHint?: string;
}

function isTerminal(stream: unknown): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** The device's enrolment in `host`, or undefined when the database does not know it. */
async function enrolment(host: LoginHost, serial: string): Promise<DeviceInfo | undefined> {
  try {
    return await host.device(serial);
  } catch (error) {
    if (error instanceof HostError && error.reason === 'unknown device') return undefined;
    throw error;
  }
}

/**
 * The login page's user must hold the card. A device the database does not know yet is enrolled for the
 * user (a first start); a device enrolled for others is refused rather than shared with a new user, since
 * a mistyped --user would otherwise make one silently. Sharing is `dsc host assign`.
 */
async function checkUser(host: LoginHost, record: DeviceRecord, user: string, shownDb: string): Promise<void> {
  const info = await enrolment(host, record.serial);
  if (info === undefined) {
    await host.enroll({ user, record });
    return;
  }
  if (info.users.includes(user)) return;
  throw new UsageError(
    `--user ${JSON.stringify(user)}: device ${record.serial} is enrolled in ${shownDb} for ${info.users.map((u) => JSON.stringify(u)).join(', ')}, not for this user ` +
      `(check the spelling; \`dsc host assign --user ${user} --serial ${record.serial}\` shares the device)`,
  );
}

/** The database file given with --db; its folder must exist (a typo in it should not make a new tree). */
function dbOption(db: string, io: Io): string {
  const dbPath = resolve(io.cwd, db);
  if (!existsSync(dirname(dbPath))) throw new UsageError(`--db ${JSON.stringify(db)}: the folder ${JSON.stringify(dirname(dbPath))} does not exist`);
  return dbPath;
}

/**
 * The card, the login page's database and its user, as the options ask; the demo is made on first start.
 * Exported for the tests: it runs after the terminal check, which an in-process test cannot pass.
 * @example
 * const setup = await openSetup({ user: 'demo' }, io); // the demo card on ./.dsc/host.sqlite
 */
export async function openSetup(values: { device?: string; db?: string; user?: string }, io: Io): Promise<Setup> {
  const hostKeyHex = io.env.DSC_HOST_KEY;
  const keyOption = hostKeyHex === undefined ? {} : { hostKeyHex };
  if (values.device === undefined) {
    if (values.db !== undefined) throw new UsageError('--db goes with --device (the demo uses the default database, ./.dsc/host.sqlite or $DSC_HOME/host.sqlite)');
    const demo = await ensureDemo(dataFolder(io), hostKeyHex);
    const user = values.user ?? demo.user;
    const file = await openHostFile({ dbPath: demo.dbPath, create: false, ...keyOption });
    try {
      await checkUser(file.host, readDeviceFile(demo.devicePath), user, demo.dbPath);
    } catch (error) {
      await file.close();
      throw error;
    }
    return { devicePath: demo.devicePath, host: file.host, user, demo, notice: undefined, unlockHint: `unlock with npx dsc host unlock --user ${user} --db ${demo.dbPath}` };
  }
  const devicePath = resolve(io.cwd, values.device);
  const user = values.user ?? 'user';
  const record = readDeviceFile(devicePath);
  if (values.db === undefined) {
    const host = await openHost({ dbPath: ':memory:' });
    const notice = await enrolOrNote(host, record, user, 'memory');
    if (notice !== undefined) return { devicePath, host, user, demo: undefined, notice };
    // A database that lives as long as this window: its user gets a password shown here, as the demo's is.
    const password = String(randomInt(10 ** 9, 10 ** 10));
    await host.setPassword({ user, password, by: 'emulator' });
    return { devicePath, host, user, demo: undefined, notice: `login page on an in-memory database (--db PATH keeps it); password ${password}`, unlockHint: 'restart the emulator (its database is in memory)' };
  }
  const dbPath = dbOption(values.db, io);
  const file = await openHostFile({ dbPath, shownAs: values.db, create: true, ...keyOption });
  const notice = await enrolOrNote(file.host, record, user, values.db, file.close);
  // A new database lives in memory until published: publish it, then work on the file itself.
  const published = notice === undefined ? file.publish() : 'existing';
  const unlockHint = `unlock with npx dsc host unlock --user ${user} --db ${values.db}`;
  const noPassword = async (host: LoginHost) => ((await host.hasPassword(user)) ? undefined : `user ${user} has no password yet: npx dsc host set-password --user ${user} --db ${values.db}`);
  if (published === 'existing') return { devicePath, host: file.host, user, demo: undefined, notice: notice ?? (await noPassword(file.host)), unlockHint };
  await file.close();
  if (published === 'raced') throw new UsageError(`--db ${JSON.stringify(values.db)}: another process created this database meanwhile; run again`);
  const host = (await openHostFile({ dbPath, shownAs: values.db, create: false, ...keyOption })).host;
  return { devicePath, host, user, demo: undefined, notice: notice ?? (await noPassword(host)), unlockHint };
}

/**
 * `checkUser`, except that a device the server cannot take (its suite, its profile) still runs: the login
 * page says why (the returned note). Anything else closes the host (`close`) and is thrown.
 */
async function enrolOrNote(host: LoginHost, record: DeviceRecord, user: string, shownDb: string, close: () => Promise<void> = () => host.close()): Promise<string | undefined> {
  try {
    await checkUser(host, record, user, shownDb);
    return undefined;
  } catch (error) {
    if (error instanceof HostError) return `login page: ${error.message}`;
    await close();
    throw error;
  }
}

/**
 * Load the Ink UI. Ink decides once, when it is first loaded, whether it runs "in CI" (the CI or
 * CONTINUOUS_INTEGRATION variable) and then draws nothing until exit. This command has already
 * checked that it runs on a terminal, so those variables are hidden while Ink loads, and restored.
 */
async function loadTerminalUi(): Promise<typeof import('../emulator/ui/terminal.tsx')> {
  const hidden = ['CI', 'CONTINUOUS_INTEGRATION'].filter((name) => Object.hasOwn(process.env, name)).map((name) => [name, process.env[name]] as const);
  for (const [name] of hidden) delete process.env[name];
  try {
    return await import('../emulator/ui/terminal.tsx');
  } finally {
    for (const [name, value] of hidden) process.env[name] = value;
  }
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, {
    device: { type: 'string' },
    db: { type: 'string' },
    user: { type: 'string' },
    record: { type: 'string' },
  });
  if (values.help) {
    write(io.stdout, help);
    return exitOk;
  }
  // A bad device file is reported before anything else happens (and is never rewritten).
  if (values.device !== undefined) {
    try {
      readDeviceFile(resolve(io.cwd, values.device));
    } catch (error) {
      if (error instanceof DeviceFileError) throw new UsageError(error.message);
      throw error;
    }
  }
  if (values.db !== undefined && values.device !== undefined) dbOption(values.db, io);
  if (!isTerminal(io.stdin) || !isTerminal(io.stdout)) {
    throw new UsageError('draws the card in a terminal: run it in one (stdin and stdout must be a TTY); for scripts use dsc press');
  }
  let setup: Setup;
  let record;
  try {
    setup = await openSetup(values, io);
    record = readDeviceFile(setup.devicePath);
  } catch (error) {
    // A database or key file that cannot be used is reported like a bad device file: nothing was changed.
    if (error instanceof DeviceFileError || error instanceof DemoSetupError || error instanceof StoreError || error instanceof HostKeyError) {
      throw new UsageError(error.message);
    }
    throw error;
  }
  const { devicePath, host, user, demo } = setup;
  // One owner per device file: hold it (and its lock) for as long as the card runs here.
  let held;
  try {
    held = holdDeviceFile(devicePath, { command: 'dsc emulate' });
  } catch (error) {
    await host.close();
    if (error instanceof DeviceFileError) throw new UsageError(error.message);
    throw error;
  }
  record = held.record;
  let demoPin = demo?.pin;
  let recorder: SessionRecorder | undefined;
  try {
    recorder = values.record === undefined ? undefined : SessionRecorder.create(resolve(io.cwd, values.record), record, (n) => new Uint8Array(randomBytes(n)));
  } catch (error) {
    await host.close();
    held.release();
    if (error instanceof SessionLogError) throw new UsageError(error.message);
    throw error;
  }
  const session = openCardFromRecord(record, {
    clock: 'real',
    ...(recorder && { random: recorder.random }),
    save: (next) => held.save(next),
    onClose: () => held.release(),
  });
  recorder?.attach(session);

  const pressedListeners = new Set<(key: Key | undefined) => void>();
  const driver = new KeyDriver(session, realScheduler, {
    onPressed: (key) => pressedListeners.forEach((listener) => listener(key)),
    onKey: (event, key, frame) => recorder?.key(event, key, frame, session.nowMs),
  });
  const login = new LoginModel(host, user, (_serial, pin) => {
    if (!demo) return;
    rememberDemoPin(demo, pin);
    demoPin = pin;
  }, setup.unlockHint);
  const started = login.start(session.info.serial).then(() => {
    if (setup.notice) login.note(setup.notice);
  });

  const screens = helpScreens();
  try {
    const { showEmulator } = await loadTerminalUi();
    await Promise.all([
      started,
      showEmulator(
        {
          card: session,
          driver,
          login,
          screens,
          demoPin: () => demoPin,
          demoPassword: demo?.password,
          onPressed: (listener) => {
            pressedListeners.add(listener);
            return () => pressedListeners.delete(listener);
          },
        },
        io.stdout as NodeJS.WriteStream,
        io.stdin as NodeJS.ReadStream,
      ),
    ]);
  } finally {
    driver.close();
    recorder?.close(session.nowMs);
    session.close();
    await host.close();
  }
  if (demo) write(io.stdout, `demo card ${session.info.serial}, user ${user}: state kept in ${dataFolder(io)}`);
  return exitOk;
}
