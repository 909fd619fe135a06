/**
 * `dsc emulate` (what `npm start` runs): the card drawn in the terminal, with a login page beside it
 * on the real host library. With no arguments it opens the demo card and user under ./.dsc/, made on
 * first start. The card runs on the real clock; its device file is rewritten on every commit.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { DeviceFileError, holdDeviceFile, openCardFromRecord, readDeviceFile } from '../emulator/card.ts';
import { DemoSetupError, ensureDemo, rememberDemoPin, type DemoSetup } from '../emulator/demo.ts';
import { SessionLogError, SessionRecorder } from '../emulator/session-log.ts';
import { KeyDriver, realScheduler } from '../emulator/ui/key-driver.ts';
import { LoginModel } from '../emulator/ui/login-model.ts';
import { helpScreens } from '../emulator/ui/screen-table.ts';
import { HostError, HostKeyError, openHost, StoreError, type LoginHost } from '../host/index.ts';
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
                   dsc press --replay FILE (the log holds the keys typed, PIN included: demo cards only)

Card keys: 0-9, Enter = OK, Backspace = ◄, p = short PRESS, h or Space = PRESS held ~2 s
(terminals send no key-up, so a hold is its own key). Needs a terminal of at least 80×24.

Exit codes: 0 after q; 2 bad options, not a terminal, or a device file that cannot be used.`;

interface Setup {
  readonly devicePath: string;
  readonly host: LoginHost;
  readonly user: string;
  readonly demo: DemoSetup | undefined;
  readonly notice: string | undefined;
}

function isTerminal(stream: unknown): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** Open the host for a given device: enrol the device for the user when it is not theirs yet. */
function hostForDevice(devicePath: string, dbPath: string | undefined, user: string): { host: LoginHost; notice: string | undefined } {
  const record = readDeviceFile(devicePath);
  const host = openHost({ dbPath: dbPath ?? ':memory:' });
  try {
    const known = (() => {
      try {
        return host.devices(user).some((device) => device.serial === record.serial);
      } catch (error) {
        if (error instanceof HostError && error.reason === 'unknown user') return false;
        throw error;
      }
    })();
    if (!known) host.enroll({ user, record });
    return { host, notice: dbPath === undefined ? 'login page on an in-memory database (--db PATH keeps it)' : undefined };
  } catch (error) {
    if (error instanceof HostError) return { host, notice: `login page: ${error.message}` };
    host.close();
    throw error;
  }
}

function openSetup(values: { device?: string; db?: string; user?: string }, io: Io): Setup {
  if (values.device === undefined) {
    if (values.db !== undefined) throw new UsageError('--db goes with --device (the demo keeps its own database under ./.dsc/ or $DSC_HOME)');
    const demo = ensureDemo(dataFolder(io));
    const user = values.user ?? demo.user;
    return { devicePath: demo.devicePath, host: openHost({ dbPath: demo.dbPath }), user, demo, notice: undefined };
  }
  const devicePath = resolve(io.cwd, values.device);
  const user = values.user ?? 'user';
  const { host, notice } = hostForDevice(devicePath, values.db === undefined ? undefined : resolve(io.cwd, values.db), user);
  return { devicePath, host, user, demo: undefined, notice };
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
  if (!isTerminal(io.stdin) || !isTerminal(io.stdout)) {
    throw new UsageError('draws the card in a terminal: run it in one (stdin and stdout must be a TTY); for scripts use dsc press');
  }
  let setup: Setup;
  let record;
  try {
    setup = openSetup(values, io);
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
    host.close();
    if (error instanceof DeviceFileError) throw new UsageError(error.message);
    throw error;
  }
  record = held.record;
  let demoPin = demo?.pin;
  let recorder: SessionRecorder | undefined;
  try {
    recorder = values.record === undefined ? undefined : SessionRecorder.create(resolve(io.cwd, values.record), record, (n) => new Uint8Array(randomBytes(n)));
  } catch (error) {
    host.close();
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
  });
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
    host.close();
  }
  if (demo) write(io.stdout, `demo card ${session.info.serial}, user ${user}: state kept in ${dataFolder(io)}`);
  return exitOk;
}
