/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The keypad as laid out on the card: 1-9 in three rows, then ◄ 0 OK, and the round PRESS button.
 * The key being pressed (the emulator holds it for the tap or hold time) lights up.
 */
import { Box, Text } from 'ink';
import type { Key } from '../../firmware/types.ts';

export const keypadRows: readonly (readonly Key[])[] = [
  ['1', '2', '3'],
  ['4', '5', '6'],
  ['7', '8', '9'],
  ['BACK', '0', 'OK'],
];

/**
 * How a key's face reads on the card.
 * @example
 * keyFace('BACK') // '◄'
 */
export function keyFace(key: Key): string {
  if (key === 'BACK') return '◄';
  return key;
}

/**
 * A key cap, the same width lit or not so the keypad never shifts: `[ 5 ]` at rest, `[▸5◂]` lit.
 * The lit key is also drawn inverse; the arrows keep it visible where colours are off.
 * @example
 * keyCap('5', true) // '[▸5◂]'
 */
export function keyCap(key: Key, lit: boolean): string {
  if (key === 'PRESS') return lit ? '(▸ PRESS ◂)' : '(  PRESS  )';
  const face = keyFace(key);
  if (face.length === 2) return lit ? `[▸${face}]` : `[ ${face}]`;
  return lit ? `[▸${face}◂]` : `[ ${face} ]`;
}

export interface KeypadProps {
  /** The key currently held down by the emulator, if any. */
  readonly pressed: Key | undefined;
}

/**
 * @example
 * <Keypad pressed="OK" />
 */
export function Keypad({ pressed }: KeypadProps) {
  return (
    <Box flexDirection="column" alignItems="center">
      <Box marginBottom={0}>
        <Text inverse={pressed === 'PRESS'} bold>
          {keyCap('PRESS', pressed === 'PRESS')}
        </Text>
      </Box>
      {keypadRows.map((row, index) => (
        <Box key={index} gap={1}>
          {row.map((key) => (
            <Text key={key} inverse={pressed === key}>
              {keyCap(key, pressed === key)}
            </Text>
          ))}
        </Box>
      ))}
    </Box>
  );
}
