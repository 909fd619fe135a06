/**
 * The screen table (platform/screen-table.ts reads and checks fixtures/screens.json) as the `?` help
 * shows it: one line per screen, an example rather than a regular expression.
 */
import { loadScreenTable, type ScreenTable } from '../../platform/screen-table.ts';
import { profiles as allProfiles } from '../../firmware/types.ts';

export interface HelpScreenRow {
  readonly id: string;
  /** What the LCD shows, or its pattern for the blank screen, which has no example. */
  readonly text: string;
  readonly profiles: readonly string[];
  readonly meaning: string;
}

/**
 * @example
 * helpScreens().filter((screen) => screen.profiles.includes('digipass'))
 */
export function helpScreens(table: ScreenTable = loadScreenTable()): HelpScreenRow[] {
  return table.screens.map((row) => ({
    id: row.id,
    // An example reads better than a regular expression; the blank screen has none, so its pattern says "(blank)".
    text: row.example === '' ? row.pattern : row.example,
    profiles: row.profiles === 'both' ? [...allProfiles] : [row.profiles],
    meaning: row.meaning,
  }));
}
