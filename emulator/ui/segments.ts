/**
 * The LCD's large font: every character the card can show as a 3×5 dot matrix, drawn in two sizes.
 *
 * - `large`: each dot is two full blocks wide and one row tall (5 rows, 6 columns per character),
 *   square-ish dots that read well from across a desk.
 * - `compact`: two dots stacked per terminal cell with half blocks (3 rows, 3 columns per
 *   character), so the whole 8-character LCD fits in 32 columns of an 80×24 terminal.
 *
 * Every glyph is distinct, so a drawn LCD decodes back to its text (`decodeLcd`): the end-to-end
 * test reads the response off the screen exactly as a person would, by the shapes.
 * Pure: no Ink, no I/O.
 */

/** Dot columns and rows of one glyph. */
export const glyphDotsWide = 3;
export const glyphDotsTall = 5;
/** Blank columns between two characters on the LCD. */
export const glyphGapColumns = 1;

export type LcdSize = 'large' | 'compact';

/** Terminal rows and columns of one glyph in each size. */
export const glyphCells: Readonly<Record<LcdSize, { readonly rows: number; readonly columns: number }>> = {
  large: { rows: glyphDotsTall, columns: glyphDotsWide * 2 },
  compact: { rows: Math.ceil(glyphDotsTall / 2), columns: glyphDotsWide },
};

// Rows top to bottom, '#' a lit dot. Letters that a 3×5 grid would draw like a digit get a
// rounder shape (O, S, B, Z, I) so that decoding stays unambiguous; the unit test checks it.
const bitmaps: Readonly<Record<string, string>> = {
  '0': '### #.# #.# #.# ###',
  '1': '.#. ##. .#. .#. ###',
  '2': '### ..# ### #.. ###',
  '3': '### ..# .## ..# ###',
  '4': '#.# #.# ### ..# ..#',
  '5': '### #.. ### ..# ###',
  '6': '### #.. ### #.# ###',
  '7': '### ..# ..# .#. .#.',
  '8': '### #.# ### #.# ###',
  '9': '### #.# ### ..# ###',
  A: '.#. #.# ### #.# #.#',
  B: '##. #.# ##. #.# ##.',
  C: '.## #.. #.. #.. .##',
  D: '##. #.# #.# #.# ##.',
  E: '### #.. ##. #.. ###',
  F: '### #.. ##. #.. #..',
  G: '.## #.. #.# #.# .##',
  H: '#.# #.# ### #.# #.#',
  I: '### .#. .#. .#. ###',
  J: '..# ..# ..# #.# .#.',
  K: '#.# #.# ##. #.# #.#',
  L: '#.. #.. #.. #.. ###',
  M: '#.# ### ### #.# #.#',
  N: '##. #.# #.# #.# #.#',
  O: '.#. #.# #.# #.# .#.',
  P: '##. #.# ##. #.. #..',
  Q: '.#. #.# #.# ##. .##',
  R: '##. #.# ##. #.# #.#',
  S: '.## #.. .#. ..# ##.',
  T: '### .#. .#. .#. .#.',
  U: '#.# #.# #.# #.# ###',
  V: '#.# #.# #.# #.# .#.',
  W: '#.# #.# ### ### #.#',
  X: '#.# #.# .#. #.# #.#',
  Y: '#.# #.# .#. .#. .#.',
  Z: '### ..# .#. #.. ###',
  ' ': '... ... ... ... ...',
  '>': '#.. .#. ..# .#. #..',
  '<': '..# .#. #.. .#. ..#',
  '-': '... ... ### ... ...',
  _: '... ... ... ... ###',
  '.': '... ... ... ... .#.',
  ':': '... .#. ... .#. ...',
  '=': '... ### ... ### ...',
  '+': '... .#. ### .#. ...',
  '/': '..# ..# .#. #.. #..',
  '?': '### ..# .## ... .#.',
  '!': '.#. .#. .#. ... .#.',
  '*': '#.# .#. #.# ... ...',
};

/** What a character the font lacks is drawn as: a checkerboard, so it is visibly "not a character". */
export const unknownGlyphChar = '\uFFFD';
const unknownBitmap = '#.# .#. #.# .#. #.#';

/** The characters the font draws (lower-case letters are drawn as their capitals, as an LCD does). */
export const lcdCharacters: readonly string[] = Object.keys(bitmaps);

type Dots = readonly (readonly boolean[])[];

function parseBitmap(bitmap: string): Dots {
  return bitmap.split(' ').map((row) => [...row].map((dot) => dot === '#'));
}

const glyphs = new Map<string, Dots>(Object.entries(bitmaps).map(([char, bitmap]) => [char, parseBitmap(bitmap)]));
const unknownGlyph = parseBitmap(unknownBitmap);

/**
 * The dots of one character: rows top to bottom, `true` where the dot is lit.
 * @example
 * glyphDots('-')[2] // [true, true, true]
 */
export function glyphDots(char: string): Dots {
  return glyphs.get(char.toUpperCase()) ?? unknownGlyph;
}

function drawGlyph(dots: Dots, size: LcdSize): string[] {
  if (size === 'large') return dots.map((row) => row.map((lit) => (lit ? '██' : '  ')).join(''));
  const lines: string[] = [];
  for (let top = 0; top < glyphDotsTall; top += 2) {
    const upper = dots[top]!;
    const lower = dots[top + 1];
    lines.push(upper.map((lit, column) => halfBlock(lit, lower?.[column] ?? false)).join(''));
  }
  return lines;
}

function halfBlock(upper: boolean, lower: boolean): string {
  if (upper && lower) return '█';
  if (upper) return '▀';
  if (lower) return '▄';
  return ' ';
}

/**
 * Draw `text` as LCD lines, one character cell per position up to `widthChars` (blank cells pad it,
 * as an LCD shows unlit segments), each line the same width.
 *
 * @example
 * drawLcd('PIN>', 8, 'compact') // 3 lines of 8 × 4 - 1 = 31 columns
 */
export function drawLcd(text: string, widthChars: number, size: LcdSize): string[] {
  const chars = [...text.padEnd(widthChars, ' ')].slice(0, widthChars);
  const drawn = chars.map((char) => drawGlyph(glyphDots(char), size));
  const gap = ' '.repeat(glyphGapColumns);
  return Array.from({ length: glyphCells[size].rows }, (_, row) => drawn.map((glyph) => glyph[row]!).join(gap));
}

const decodeTable = new Map<string, string>(
  [...glyphs].map(([char, dots]) => [drawGlyph(dots, 'large').join('\n'), char] as const),
);

/** Turn the compact (half-block) cell rows of one glyph back into its dots. */
function compactToDots(cells: readonly string[]): Dots {
  const dots: boolean[][] = [];
  for (const line of cells) {
    const chars = [...line];
    dots.push(chars.map((c) => c === '█' || c === '▀'));
    dots.push(chars.map((c) => c === '█' || c === '▄'));
  }
  return dots.slice(0, glyphDotsTall);
}

/**
 * Read drawn LCD lines back to text, as the end-to-end test reads the response off a real terminal.
 * `lines` are exactly the glyph rows (any left margin already removed); trailing blanks are trimmed.
 * A glyph that is not in the font decodes to `unknownGlyphChar`.
 *
 * @example
 * decodeLcd(drawLcd('12345678', 8, 'large'), 8, 'large') // '12345678'
 */
export function decodeLcd(lines: readonly string[], widthChars: number, size: LcdSize): string {
  const { rows, columns } = glyphCells[size];
  if (lines.length !== rows) throw new RangeError(`"lines" expected ${rows} rows for a ${size} LCD, got ${lines.length}`);
  const padded = lines.map((line) => [...line]);
  let text = '';
  for (let index = 0; index < widthChars; index++) {
    const start = index * (columns + glyphGapColumns);
    const cells = padded.map((chars) => chars.slice(start, start + columns).join('').padEnd(columns, ' '));
    const dots = size === 'large' ? cells.map((cell) => [...cell].filter((_, i) => i % 2 === 0).map((c) => c === '█')) : compactToDots(cells);
    text += decodeTable.get(drawGlyph(dots, 'large').join('\n')) ?? unknownGlyphChar;
  }
  return text.trimEnd();
}

/**
 * Columns the drawn LCD takes for `widthChars` characters.
 * @example
 * lcdColumns(8, 'compact') // 31
 */
export function lcdColumns(widthChars: number, size: LcdSize): number {
  return widthChars * glyphCells[size].columns + (widthChars - 1) * glyphGapColumns;
}
