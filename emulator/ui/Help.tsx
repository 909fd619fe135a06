/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The `?` help: the key map (the same table the input handler uses) and the card's screens for the
 * current profile (fixtures/screens.json), side by side, cut to the terminal's height.
 */
import { Box, Text } from 'ink';
import { cardKeyMap, globalKeyMap, loginKeyMap, noKeyUpNote, type KeyMapRow } from './keymap.ts';
import type { HelpScreenRow } from './screen-table.ts';

/** Columns of the key names and of the screen texts, so the explanations line up. */
const keyColumnChars = 15;
const screenColumnChars = 10;

export interface HelpProps {
  readonly screens: readonly HelpScreenRow[];
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
        <Box key={row.keys}>
          <Box width={keyColumnChars} flexShrink={0}>
            <Text>{row.keys}</Text>
          </Box>
          <Text wrap="wrap">{row.does}</Text>
        </Box>
      ))}
    </Box>
  );
}

export type HelpPage = 'keys' | 'screens';

/**
 * Two pages, so each fits an 80×24 terminal: the key map, then the screens (`?` turns the page).
 * @example
 * <Help page="screens" screens={helpScreens()} profile="dscplus" columns={120} rows={40} />
 */
export function Help({ page, screens, profile, columns, rows }: HelpProps & { readonly page: HelpPage }) {
  const footer = <Text dimColor>{page === 'keys' ? '? next: the screens' : '? closes'} · Esc closes · q quits</Text>;
  if (page === 'keys') {
    return (
      <Box flexDirection="column" width={columns}>
        <KeyRows title="Card (when it has the focus)" rows={cardKeyMap} />
        <KeyRows title="Login page (when it has the focus)" rows={loginKeyMap} />
        <KeyRows title="Everywhere" rows={globalKeyMap} />
        <Text wrap="wrap">{noKeyUpNote}</Text>
        {footer}
      </Box>
    );
  }
  const shown = screens.filter((screen) => screen.profiles.includes(profile));
  // Title, footer and the "more" line; the rest is for the table, each screen taking as many rows
  // as its explanation wraps to.
  const tableRows = Math.max(1, rows - 3);
  const meaningChars = Math.max(10, columns - screenColumnChars);
  const visible: HelpScreenRow[] = [];
  let used = 0;
  for (const screen of shown) {
    const height = Math.ceil(screen.meaning.length / meaningChars);
    if (used + height > tableRows) break;
    visible.push(screen);
    used += height;
  }
  return (
    <Box flexDirection="column" width={columns}>
      <Text bold underline>
        Screens of the {profile} card (fixtures/screens.json)
      </Text>
      {visible.map((screen) => (
        <Box key={screen.id}>
          <Box width={screenColumnChars} flexShrink={0}>
            <Text>{screen.text}</Text>
          </Box>
          <Text wrap="wrap">{screen.meaning}</Text>
        </Box>
      ))}
      {shown.length > visible.length ? <Text dimColor>… {shown.length - visible.length} more in docs/screens.md</Text> : null}
      {footer}
    </Box>
  );
}
