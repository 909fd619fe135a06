/**
 * The screen table (fixtures/screens.json, the firmware helper's shared fact) as the tester reads it:
 * screens with their display patterns, transitions with the key scripts that exercise them.
 */
import { readFileSync } from 'node:fs';
import type { Profile } from '../firmware/types.ts';

export interface ScreenRow {
  readonly id: string;
  readonly pattern: string;
}

export interface TransitionRow {
  readonly from: string;
  readonly input: string;
  readonly to: string;
  readonly profiles: 'both' | Profile;
  readonly setup: string;
  readonly keys: string;
  /** Which kind of device the scripts assume: default, check-digit, no-pin, 10-digit. */
  readonly device: string;
  readonly note: string;
  readonly indicators?: { readonly lowBattery?: boolean; readonly locked?: boolean };
}

export interface ScreenTable {
  readonly display: { readonly widthChars: number; readonly messageMs: number; readonly idleTimeoutMs: number; readonly powerHoldMs: number; readonly turnMs: number };
  readonly devices: Readonly<Record<string, string>>;
  readonly screens: readonly ScreenRow[];
  readonly transitions: readonly TransitionRow[];
}

export const screenTableUrl = new URL('../fixtures/screens.json', import.meta.url);

/**
 * Read the screen table; a malformed fixture is a bug in the repository, so it throws.
 * @example
 * shows(loadScreenTable(), 'pin', 'PIN>--'); // true
 */
export function loadScreenTable(): ScreenTable {
  const table = JSON.parse(readFileSync(screenTableUrl, 'utf8')) as ScreenTable;
  if (!Array.isArray(table.screens) || !Array.isArray(table.transitions) || typeof table.display?.powerHoldMs !== 'number') {
    throw new TypeError(`${screenTableUrl.pathname} is not a screen table (screens, transitions, display)`);
  }
  return table;
}

/** Does the display text `text` show screen `id`? ("(blank)" is the empty display.) */
export function shows(table: ScreenTable, id: string, text: string): boolean {
  const screen = table.screens.find((row) => row.id === id);
  if (screen === undefined) throw new TypeError(`the screen table has no screen ${JSON.stringify(id)}`);
  return screen.pattern === '(blank)' ? text === '' : new RegExp(screen.pattern).test(text);
}

/** The pattern of a screen as a person reads it in a report. */
export function patternOf(table: ScreenTable, id: string): string {
  return table.screens.find((row) => row.id === id)?.pattern ?? '?';
}

/** A row's name in a report: `pin --[OK with a wrong PIN (1st to 4th)]--> pinFail`. */
export function transitionName(row: TransitionRow): string {
  return `${row.from} --[${row.input}]--> ${row.to}`;
}
