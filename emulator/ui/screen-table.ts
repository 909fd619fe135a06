/**
 * The screen table (fixtures/screens.json, the firmware's shared fact) as the `?` help shows it.
 * Read once at start; a missing or malformed file is reported by name, never guessed around.
 */
import { readFileSync } from 'node:fs';

export interface ScreenRow {
  readonly id: string;
  /** What the LCD shows, or its pattern (e.g. `FAIL n`). */
  readonly text: string;
  readonly profiles: readonly string[];
  readonly meaning: string;
}

export const screenTableUrl = new URL('../../fixtures/screens.json', import.meta.url);

function stringField(row: Record<string, unknown>, name: string, index: number): string {
  const value = row[name];
  if (typeof value !== 'string') throw new TypeError(`screens.json: screen ${index} expected a string "${name}", got ${typeof value}`);
  return value;
}

/** `"both"`, one profile name, or a list of them. */
function profilesOf(value: unknown, index: number): string[] {
  if (value === 'both') return ['dscplus', 'digipass'];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((p) => typeof p === 'string')) return value as string[];
  throw new TypeError(`screens.json: screen ${index} expected "profiles" to be "both", a profile or a list, got ${typeof value}`);
}

/**
 * Pick the screens out of the parsed fixture (the transitions are for the firmware's tests).
 * @example
 * parseScreenTable({ screens: [{ id: 'pin', example: 'PIN>----', pattern: '^PIN>-{0,4}$', profiles: 'both', meaning: 'type the PIN' }] })
 */
export function parseScreenTable(json: unknown): ScreenRow[] {
  const screens = (json as { screens?: unknown } | null)?.screens;
  if (!Array.isArray(screens)) throw new TypeError('screens.json: expected an object with a "screens" array');
  return screens.map((value: unknown, index) => {
    if (typeof value !== 'object' || value === null) throw new TypeError(`screens.json: screen ${index} expected an object`);
    const row = value as Record<string, unknown>;
    const example = stringField(row, 'example', index);
    return {
      id: stringField(row, 'id', index),
      // An example reads better than a regular expression; the blank screen has none, so its pattern says "(blank)".
      text: example === '' ? stringField(row, 'pattern', index) : example,
      profiles: profilesOf(row.profiles, index),
      meaning: stringField(row, 'meaning', index),
    };
  });
}

/**
 * @example
 * loadScreenTable().filter((screen) => screen.profiles.includes('digipass'))
 */
export function loadScreenTable(url: URL = screenTableUrl): ScreenRow[] {
  return parseScreenTable(JSON.parse(readFileSync(url, 'utf8')) as unknown);
}
