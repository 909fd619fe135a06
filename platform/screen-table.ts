/**
 * The screen table (fixtures/screens.json) read once and checked field by field: the one loader for
 * everyone who reads it (the conformance tester, the emulator's `?` help, the firmware's tests). The
 * firmware keeps its own pure copy of the texts (firmware/screens.ts); tests/firmware/screens.test.ts
 * holds the two together. A malformed fixture is a bug in the repository, so every check throws a
 * TypeError that names the row and the field.
 */
import { readFileSync } from 'node:fs';
import { profiles, type Profile } from '../firmware/types.ts';

export interface ScreenRow {
  readonly id: string;
  /** What the LCD shows in a typical case ('' for the blank display). */
  readonly example: string;
  /** A regular expression over the display text, or "(blank)" for the empty display. */
  readonly pattern: string;
  readonly profiles: 'both' | Profile;
  readonly meaning: string;
}

export interface Indicators {
  readonly lowBattery?: boolean;
  readonly locked?: boolean;
}

export interface TransitionRow {
  readonly from: string;
  readonly input: string;
  readonly to: string;
  readonly profiles: 'both' | Profile;
  /** Keys (dsc press syntax) that reach `from` on a fresh card. */
  readonly setup: string;
  /** Keys that take `from` to `to`. */
  readonly keys: string;
  /** Which kind of device the scripts assume: one of the table's `devices`. */
  readonly device: string;
  readonly note: string;
  readonly indicators?: Indicators;
}

export interface DisplayFacts {
  readonly widthChars: number;
  readonly messageMs: number;
  readonly idleTimeoutMs: number;
  readonly powerHoldMs: number;
  readonly turnMs: number;
}

export interface ScreenTable {
  readonly display: DisplayFacts;
  readonly devices: Readonly<Record<string, string>>;
  readonly screens: readonly ScreenRow[];
  readonly transitions: readonly TransitionRow[];
}

export const screenTableUrl = new URL('../fixtures/screens.json', import.meta.url);

type Fields = Record<string, unknown>;

function objectAt(value: unknown, where: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`screens.json: ${where} expected an object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  return value as Fields;
}

function stringAt(row: Fields, name: string, where: string): string {
  const value = row[name];
  if (typeof value !== 'string') throw new TypeError(`screens.json: ${where} expected a string "${name}", got ${typeof value}`);
  return value;
}

function numberAt(row: Fields, name: string, where: string): number {
  const value = row[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new TypeError(`screens.json: ${where} expected a positive integer "${name}", got ${JSON.stringify(value)}`);
  return value;
}

function profilesAt(row: Fields, where: string): 'both' | Profile {
  const value = row.profiles;
  if (value === 'both' || (profiles as readonly unknown[]).includes(value)) return value as 'both' | Profile;
  throw new TypeError(`screens.json: ${where} expected "profiles" to be "both" or one of ${profiles.join(', ')}, got ${JSON.stringify(value)}`);
}

function screenAt(value: unknown, index: number): ScreenRow {
  const where = `screen ${index}`;
  const row = objectAt(value, where);
  const pattern = stringAt(row, 'pattern', where);
  if (pattern !== '(blank)') {
    try {
      new RegExp(pattern);
    } catch {
      throw new TypeError(`screens.json: ${where} has a "pattern" that is not a regular expression: ${JSON.stringify(pattern)}`);
    }
  }
  return { id: stringAt(row, 'id', where), example: stringAt(row, 'example', where), pattern, profiles: profilesAt(row, where), meaning: stringAt(row, 'meaning', where) };
}

function transitionAt(value: unknown, index: number, ids: ReadonlySet<string>, devices: Readonly<Record<string, string>>): TransitionRow {
  const where = `transition ${index}`;
  const row = objectAt(value, where);
  const from = stringAt(row, 'from', where);
  const to = stringAt(row, 'to', where);
  for (const [name, id] of [['from', from], ['to', to]] as const) if (!ids.has(id)) throw new TypeError(`screens.json: ${where} names an unknown screen in "${name}": ${JSON.stringify(id)}`);
  const device = stringAt(row, 'device', where);
  if (!Object.hasOwn(devices, device)) throw new TypeError(`screens.json: ${where} names an unknown device: ${JSON.stringify(device)}`);
  let indicators: Indicators | undefined;
  if (row.indicators !== undefined) {
    const fields = objectAt(row.indicators, `${where} "indicators"`);
    for (const [name, shown] of Object.entries(fields)) {
      if ((name !== 'lowBattery' && name !== 'locked') || typeof shown !== 'boolean') throw new TypeError(`screens.json: ${where} "indicators" expected lowBattery/locked booleans, got ${JSON.stringify(name)}: ${JSON.stringify(shown)}`);
    }
    indicators = fields as Indicators;
  }
  return {
    from,
    input: stringAt(row, 'input', where),
    to,
    profiles: profilesAt(row, where),
    setup: stringAt(row, 'setup', where),
    keys: stringAt(row, 'keys', where),
    device,
    note: stringAt(row, 'note', where),
    ...(indicators !== undefined && { indicators }),
  };
}

/**
 * Check a parsed screen table; throws a TypeError naming the first bad field.
 * @example
 * parseScreenTable(JSON.parse(readFileSync(screenTableUrl, 'utf8'))).screens.length
 */
export function parseScreenTable(json: unknown): ScreenTable {
  const top = objectAt(json, 'the top level');
  const displayFields = objectAt(top.display, '"display"');
  const display: DisplayFacts = {
    widthChars: numberAt(displayFields, 'widthChars', '"display"'),
    messageMs: numberAt(displayFields, 'messageMs', '"display"'),
    idleTimeoutMs: numberAt(displayFields, 'idleTimeoutMs', '"display"'),
    powerHoldMs: numberAt(displayFields, 'powerHoldMs', '"display"'),
    turnMs: numberAt(displayFields, 'turnMs', '"display"'),
  };
  const deviceFields = objectAt(top.devices, '"devices"');
  const devices: Record<string, string> = {};
  for (const name of Object.keys(deviceFields)) devices[name] = stringAt(deviceFields, name, '"devices"');
  if (!Array.isArray(top.screens)) throw new TypeError('screens.json: expected a "screens" array');
  if (!Array.isArray(top.transitions)) throw new TypeError('screens.json: expected a "transitions" array');
  const screens = top.screens.map(screenAt);
  const ids = new Set(screens.map((screen) => screen.id));
  if (ids.size !== screens.length) throw new TypeError('screens.json: two screens have the same "id"');
  const transitions = top.transitions.map((row: unknown, index: number) => transitionAt(row, index, ids, devices));
  return { display, devices, screens, transitions };
}

let loaded: ScreenTable | undefined;

/**
 * The repository's screen table, read and checked on first use (the fixture does not change while a process runs).
 * @example
 * shows(loadScreenTable(), 'pin', 'PIN>--'); // true
 */
export function loadScreenTable(): ScreenTable {
  loaded ??= parseScreenTable(JSON.parse(readFileSync(screenTableUrl, 'utf8')) as unknown);
  return loaded;
}

/** The row of screen `id`; an unknown id is a bug in the caller. */
export function screenRow(table: ScreenTable, id: string): ScreenRow {
  const screen = table.screens.find((row) => row.id === id);
  if (screen === undefined) throw new TypeError(`the screen table has no screen ${JSON.stringify(id)}`);
  return screen;
}

/** The screen's pattern as a regular expression ("(blank)" is the empty display). */
export function patternRegExp(table: ScreenTable, id: string): RegExp {
  const { pattern } = screenRow(table, id);
  return new RegExp(pattern === '(blank)' ? '^$' : pattern);
}

/**
 * Does the display text `text` show screen `id`?
 * @example
 * shows(loadScreenTable(), 'lockCode', 'L4811270') // true
 */
export function shows(table: ScreenTable, id: string, text: string): boolean {
  return patternRegExp(table, id).test(text);
}

/** The pattern of a screen as a person reads it in a report. */
export function patternOf(table: ScreenTable, id: string): string {
  return table.screens.find((row) => row.id === id)?.pattern ?? '?';
}

/** Does a row (screen or transition) apply to `profile`? */
export function forProfile(row: { readonly profiles: 'both' | Profile }, profile: Profile): boolean {
  return row.profiles === 'both' || row.profiles === profile;
}

/** A row's name in a report: `pin --[OK with a wrong PIN (1st to 4th)]--> pinFail`. */
export function transitionName(row: TransitionRow): string {
  return `${row.from} --[${row.input}]--> ${row.to}`;
}
