/**
 * Which layout fits the terminal: the large LCD beside the login page, the compact one, or a notice
 * that the terminal is too small (drawing a cut-off card would be worse than saying so).
 * Pure: the Ink layer hands in the terminal's size.
 */
import { lcdWidthChars } from '../../firmware/types.ts';
import { lcdColumns, glyphCells, type LcdSize } from './segments.ts';

/** The smallest terminal the emulator draws in (the classic VT100 size). */
export const minColumns = 80;
export const minRows = 24;

/** Columns of the login page beside the card. */
export const loginColumnsMin = 36;
/** Columns around the LCD's glyphs inside the card: LCD border and padding, card border and padding. */
export const cardChromeColumns = 8;
/** Rows the card needs beyond its LCD glyphs: title, LCD frame and text line, keypad, PRESS, borders. */
export const cardChromeRows = 12;
/** Rows outside the panels: the header and the status line. */
export const screenChromeRows = 3;

export type Layout =
  | { readonly type: 'fits'; readonly lcd: LcdSize; readonly cardColumns: number; readonly loginColumns: number }
  | { readonly type: 'tooSmall'; readonly columns: number; readonly rows: number };

function cardColumnsFor(size: LcdSize): number {
  return lcdColumns(lcdWidthChars, size) + cardChromeColumns;
}

function rowsFor(size: LcdSize): number {
  return glyphCells[size].rows + cardChromeRows + screenChromeRows;
}

/**
 * @example
 * chooseLayout(120, 40) // { type: 'fits', lcd: 'large', … }
 * chooseLayout(80, 24)  // { type: 'fits', lcd: 'compact', … }
 * chooseLayout(79, 24)  // { type: 'tooSmall', columns: 79, rows: 24 }
 */
export function chooseLayout(columns: number, rows: number): Layout {
  if (columns < minColumns || rows < minRows) return { type: 'tooSmall', columns, rows };
  for (const lcd of ['large', 'compact'] as const) {
    const cardColumns = cardColumnsFor(lcd);
    if (cardColumns + loginColumnsMin <= columns && rowsFor(lcd) <= rows) {
      return { type: 'fits', lcd, cardColumns, loginColumns: Math.min(columns - cardColumns, 60) };
    }
  }
  // 80×24 always fits the compact card (checked by the layout test), so this is a broken constant.
  throw new RangeError(`no layout fits ${columns}×${rows} although it is at least ${minColumns}×${minRows}`);
}

/**
 * What the emulator shows instead of the card when the terminal is too small.
 * @example
 * tooSmallMessage(70, 20) // 'The terminal is 70×20; the card needs at least 80×24. …'
 */
export function tooSmallMessage(columns: number, rows: number): string {
  return `The terminal is ${columns}×${rows}; the card needs at least ${minColumns}×${minRows}. Enlarge the window (q quits).`;
}
