/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The card as drawn: model and serial number, battery level, the LCD and the keypad.
 * Its border is bold and cyan while the keyboard goes to the card.
 */
import { Box, Text } from 'ink';
import type { CardInfo, Frame, Key } from '../../firmware/types.ts';
import { Keypad } from './Keypad.tsx';
import { Lcd } from './Lcd.tsx';
import type { LcdSize } from './segments.ts';

export interface CardProps {
  readonly info: Pick<CardInfo, 'serial' | 'model' | 'profile'>;
  readonly frame: Frame;
  readonly pressed: Key | undefined;
  /** Battery level in percent (0-100), as the card's budget of operations stands. */
  readonly batteryPercent: number;
  readonly size: LcdSize;
  readonly focused: boolean;
  readonly width: number;
}

/**
 * The battery as a 5-cell gauge and a percentage.
 * @example
 * batteryGauge(60) // '▮▮▮▯▯ 60%'
 */
export function batteryGauge(percent: number): string {
  const cells = 5;
  const clamped = Math.max(0, Math.min(100, Math.round(percent)));
  const full = Math.ceil((clamped / 100) * cells);
  return `${'▮'.repeat(full)}${'▯'.repeat(cells - full)} ${clamped}%`;
}

/**
 * @example
 * <Card info={session.info} frame={frame} pressed={undefined} batteryPercent={100} size="large" focused width={63} />
 */
export function Card({ info, frame, pressed, batteryPercent, size, focused, width }: CardProps) {
  return (
    <Box
      flexDirection="column"
      borderStyle={focused ? 'bold' : 'round'}
      borderColor={focused ? 'cyan' : 'gray'}
      paddingX={1}
      width={width}
      alignItems="center"
    >
      <Box justifyContent="space-between" width={width - 4}>
        <Text bold>
          {info.model} {info.profile === 'digipass' ? '(digipass)' : ''}
        </Text>
        <Text>S/N {info.serial}</Text>
        <Text>{batteryGauge(batteryPercent)}</Text>
      </Box>
      <Lcd frame={frame} size={size} />
      <Keypad pressed={pressed} />
    </Box>
  );
}
