import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLcd, drawLcd, glyphCells, glyphDots, lcdCharacters, lcdColumns, unknownGlyphChar, type LcdSize } from '../../emulator/ui/segments.ts';

const sizes: readonly LcdSize[] = ['large', 'compact'];

describe('segment font', () => {
  it('gives every character a distinct 3×5 glyph, so a drawn LCD can be read back', () => {
    const shapes = lcdCharacters.map((char) => JSON.stringify(glyphDots(char)));
    expect(new Set(shapes).size).toBe(lcdCharacters.length);
    for (const char of lcdCharacters) {
      const dots = glyphDots(char);
      expect(dots).toHaveLength(5);
      for (const row of dots) expect(row).toHaveLength(3);
    }
  });

  it('draws the characters every screen uses: digits, capitals, > and -', () => {
    for (const char of '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ>-') expect(lcdCharacters).toContain(char);
  });

  it('draws a dash as one lit middle row and a blank as nothing', () => {
    expect(drawLcd('-', 1, 'large')).toEqual(['      ', '      ', '██████', '      ', '      ']);
    expect(drawLcd(' ', 1, 'compact')).toEqual(['   ', '   ', '   ']);
    // The compact size stacks dot rows 2 and 3 in one cell: the dash's row 2 is the upper half.
    expect(drawLcd('-', 1, 'compact')).toEqual(['   ', '▀▀▀', '   ']);
  });

  for (const size of sizes) {
    it(`${size}: every line has the LCD's width and the glyph's height`, () => {
      const lines = drawLcd('PIN>', 8, size);
      expect(lines).toHaveLength(glyphCells[size].rows);
      for (const line of lines) expect([...line]).toHaveLength(lcdColumns(8, size));
    });

    it(`${size}: decoding a drawn text gives the text back (property, upper-cased, trailing blanks trimmed)`, () => {
      const seed = Date.now();
      console.log(`segments ${size} round-trip seed ${seed}`);
      const text = fc.array(fc.constantFrom(...lcdCharacters, 'a', 'z'), { maxLength: 8 }).map((chars) => chars.join(''));
      fc.assert(
        fc.property(text, (t) => {
          expect(decodeLcd(drawLcd(t, 8, size), 8, size)).toBe(t.toUpperCase().trimEnd());
        }),
        { seed, numRuns: 2_000 },
      );
    });

    it(`${size}: a character outside the font is drawn as the checkerboard and decodes as unknown`, () => {
      expect(decodeLcd(drawLcd('1é2', 8, size), 8, size)).toBe(`1${unknownGlyphChar}2`);
    });

    it(`${size}: a smudged glyph (one dot flipped) never decodes as another character`, () => {
      const lines = drawLcd('8', 1, size);
      const flipped = [...lines];
      const row = [...flipped[0]!];
      row[0] = row[0] === ' ' ? '█' : ' ';
      flipped[0] = row.join('');
      expect(decodeLcd(flipped, 1, size)).not.toBe('8');
    });
  }

  it('refuses lines of the wrong height, naming the count', () => {
    expect(() => decodeLcd(['x'], 8, 'large')).toThrow(/expected 5 rows for a large LCD, got 1/);
  });
});
