/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The card's LCD: the frame's text in large dot-matrix glyphs, the low-battery and lock indicators,
 * and the same text in small print underneath (for screen readers and copy-paste).
 * Renders a Frame and nothing else: it never looks at firmware state.
 */
import { Box, Text } from 'ink';
import type { Frame } from '../../firmware/types.ts';
import { lcdWidthChars } from '../../firmware/types.ts';
import { drawLcd, lcdColumns, type LcdSize } from './segments.ts';

/** Label beside the small-print copy of the display, which the e2e test also looks for. */
export const plainTextLabel = 'display:';
export const offText = '(off)';

export interface LcdProps {
  readonly frame: Frame;
  readonly size: LcdSize;
}

/**
 * @example
 * <Lcd frame={{ number: 3, text: 'PIN>', indicators: { lowBattery: false, locked: false }, atMs: 0 }} size="compact" />
 */
export function Lcd({ frame, size }: LcdProps) {
  const width = lcdColumns(lcdWidthChars, size);
  const lines = drawLcd(frame.text, lcdWidthChars, size);
  const battery = frame.indicators.lowBattery ? 'LOW BAT' : '';
  const lock = frame.indicators.locked ? 'LOCKED' : '';
  const plain = frame.text === '' ? offText : JSON.stringify(frame.text);
  return (
    <Box flexDirection="column" borderStyle="single" paddingX={1} width={width + 4}>
      <Box justifyContent="space-between" width={width}>
        <Text color="red">{battery.padEnd(7)}</Text>
        <Text color="yellow">{lock.padStart(6)}</Text>
      </Box>
      {lines.map((line, row) => (
        <Text key={row} color="green">
          {line}
        </Text>
      ))}
      <Text dimColor>
        {plainTextLabel} {plain} #{frame.number}
      </Text>
    </Box>
  );
}
