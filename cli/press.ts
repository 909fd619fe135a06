/**
 * `dsc press`: feed keys to a device file headless and print each new display frame, one per line
 * (or NDJSON with --json). The card starts powered off, as after its auto power-off; the memory image is
 * saved on every commit and the virtual clock when done, so state carries across calls.
 */
import { resolve } from 'node:path';
import { openDeviceForCli } from './open-card.ts';
import { KeyScriptError, keyScriptHelp, parseKeyScript, runKeyScript } from '../emulator/key-script.ts';
import { shortPressMs, type Frame } from '../firmware/types.ts';
import { exitFailure, exitOk, parseOptions, required, UsageError, write, type Io } from './io.ts';

const help = `usage: dsc press --device DEVICE.json [--json] [--now] KEY…
       dsc press --replay SESSION.ndjson [--json]

Feeds keys to the card in DEVICE.json and prints each new display frame, one per line.
  ${keyScriptHelp}.
  A short press holds the key ${shortPressMs} ms of virtual time; PRESS:2000 powers the card on (or off).
  The card starts off; its clock resumes at the time saved in DEVICE.json.
  --now    start the card's clock at the current time instead (for time-based suites)
  --json   one JSON object per frame: {"number","text","indicators":{"lowBattery","locked"},"atMs"}
  --replay replay a session log recorded by the emulator (see docs/emulator.md)

Every frame has a number; a script that waits for frame N never needs a sleep.
Bad keys or a bad device file: exit 2 and the file is not touched.

example:
  $ dsc press --device card.json PRESS:2000 1234 OK 123456 OK
  PIN>
  PIN>-
  …
  CHALLNG>
  1
  …
  39842573`;

/**
 * `--replay FILE`: 0 when every recorded frame matched, 1 when not; a log that cannot be used is a
 * UsageError (exit 2). The replayer is loaded only here, so plain `dsc press` does not pay for it.
 */
async function replay(file: string, json: boolean, io: Io): Promise<number> {
  const log = await import('../emulator/session-log.ts');
  try {
    if (!json) return log.runReplay(file, io.stdout);
    const result = log.replaySessionLog(log.parseSessionLog(log.readSessionLogText(file), `session log ${JSON.stringify(file)}`));
    write(io.stdout, JSON.stringify(result));
    return result.ok ? exitOk : exitFailure;
  } catch (error) {
    if (error instanceof log.SessionLogError) throw new UsageError(error.message);
    throw error;
  }
}

export function formatFrame(frame: Frame, json: boolean): string {
  if (json) return JSON.stringify(frame);
  const marks = `${frame.indicators.lowBattery ? '  [LOW BATTERY]' : ''}${frame.indicators.locked ? '  [LOCKED]' : ''}`;
  return `${frame.text === '' ? '(off)' : frame.text}${marks}`;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseOptions(argv, { device: { type: 'string' }, json: { type: 'boolean' }, now: { type: 'boolean' }, replay: { type: 'string' } }, true);
  if (values.help) {
    write(io.stdout, help);
    return exitOk;
  }
  const json = values.json ?? false;
  if (values.replay !== undefined) {
    return replay(resolve(io.cwd, values.replay), json, io);
  }
  const devicePath = resolve(io.cwd, required('device', values.device));
  if (positionals.length === 0) throw new UsageError(`no keys given; ${keyScriptHelp}`);
  let actions;
  try {
    actions = parseKeyScript(positionals);
  } catch (error) {
    if (error instanceof KeyScriptError) throw new UsageError(error.message);
    throw error;
  }
  const card = openDeviceForCli(devicePath, values.now, 'dsc press');
  card.onFrame((frame) => write(io.stdout, formatFrame(frame, json)));
  try {
    runKeyScript(card, actions);
  } finally {
    card.close();
  }
  return exitOk;
}
