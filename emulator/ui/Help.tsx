/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The `?` help: the key map (the same table the input handler uses) and the card's screens for the
 * current profile (fixtures/screens.json), side by side, cut to the terminal's height.
 */
import { Box, Text } from 'ink';
import { cardKeyMap, globalKeyMap, loginKeyMap, noKeyUpNote, type KeyMapRow } from './keymap.ts';
import type { ScreenRow } from './screen-table.ts';

export interface HelpProps {
  readonly screens: readonly ScreenRow[];
  readonly profile: string;
  readonly columns: number;
  readonly rows: number;
}

function KeyRows({ title, rows }: { title: string; rows: readonly KeyMapRow[] }) {
  return (
    <Box flexDirection="column">
      <Text bold underline>
        {title}
      </Text>
      {rows.map((row) => (
        <Text key={row.keys} wrap="truncate-end">
          {row.keys.padEnd(11)} {row.does}
        </Text>
      ))}
    </Box>
  );
}

/**
 * @example
 * <Help screens={loadScreenTable()} profile="dscplus" columns={120} rows={40} />
 */
export function Help({ screens, profile, columns, rows }: HelpProps) {
  const keysWidth = Math.floor(columns / 2);
  const shown = screens.filter((screen) => screen.profiles.includes(profile));
  // Header, title and footer rows; the rest is for the table.
  const tableRows = Math.max(1, rows - 6);
  const visible = shown.slice(0, tableRows);
  return (
    <Box flexDirection="column" width={columns}>
      <Box>
        <Box flexDirection="column" width={keysWidth} paddingRight={1}>
          <KeyRows title="Card (when it has the focus)" rows={cardKeyMap} />
          <KeyRows title="Login page (when it has the focus)" rows={loginKeyMap} />
          <KeyRows title="Everywhere" rows={globalKeyMap} />
          <Text wrap="wrap">{noKeyUpNote}</Text>
        </Box>
        <Box flexDirection="column" width={columns - keysWidth}>
          <Text bold underline>
            Screens ({profile})
          </Text>
          {visible.map((screen) => (
            <Text key={screen.id} wrap="truncate-end">
              {screen.text.padEnd(9)} {screen.meaning}
            </Text>
          ))}
          {shown.length > visible.length ? <Text dimColor>… {shown.length - visible.length} more in docs/screens.md</Text> : null}
        </Box>
      </Box>
      <Text dimColor>? or Esc closes this help · q quits</Text>
    </Box>
  );
}
