/**
 * Read the drawn LCD back off a captured screen by its glyph shapes, as a person reads it: find the
 * LCD's frame (the box whose last inner line is the `display:` small print), cut out the glyph rows
 * and decode them with the font. Used on ink-testing-library frames and on tmux captures alike.
 */
import { decodeLcd, glyphCells, lcdColumns, type LcdSize } from '../../../emulator/ui/segments.ts';
import { lcdWidthChars } from '../../../firmware/types.ts';
import { plainTextLabel } from '../../../emulator/ui/Lcd.tsx';

export interface LcdReading {
  /** What the glyphs say. */
  readonly glyphs: string;
  /** What the small print under the LCD says (its JSON-quoted text, or '' when off). */
  readonly plain: string;
  readonly size: LcdSize;
}

export function readLcd(screen: string): LcdReading {
  const lines = screen.split('\n');
  const labelRow = lines.findIndex((line) => line.includes(`│ ${plainTextLabel} `));
  if (labelRow < 0) throw new Error(`no LCD on screen:\n${screen}`);
  const label = lines[labelRow]!;
  const left = label.indexOf(`│ ${plainTextLabel} `) + 2;
  const match = /display: (\(off\)|"[^"]*")/.exec(label);
  const plain = match?.[1] === '(off)' ? '' : (JSON.parse(match?.[1] ?? '""') as string);
  for (const size of ['large', 'compact'] as const) {
    const rows = glyphCells[size].rows;
    // The glyph rows sit right above the small print, under the indicator row.
    const glyphRows = lines.slice(labelRow - rows, labelRow).map((line) => [...line].slice(left, left + lcdColumns(lcdWidthChars, size)).join(''));
    const indicatorRow = lines[labelRow - rows - 1] ?? '';
    if (!/│ /.test(indicatorRow) || glyphRows.length !== rows) continue;
    // The frame's top border is right above the indicator row only for the right size.
    const border = lines[labelRow - rows - 2] ?? '';
    if (!border.includes('┌')) continue;
    return { glyphs: decodeLcd(glyphRows, lcdWidthChars, size), plain, size };
  }
  throw new Error(`LCD frame not recognised:\n${screen}`);
}
