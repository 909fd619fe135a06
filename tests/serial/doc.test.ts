/**
 * docs/serial-protocol.md is what a hardware tester builds against: every protocol line it shows
 * must carry a correct CRC (checked with the independent bit-by-bit CRC) and decode, and the byte
 * dump must be the bytes of its line.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeLine } from '../../emulator/serial/codec.ts';
import { lineBytesMax, sequenceModulo, frameTextCharsMax, errorTextCharsMax } from '../../emulator/serial/messages.ts';
import { referenceCrc16 } from './support/reference.ts';

const doc = readFileSync(new URL('../../docs/serial-protocol.md', import.meta.url), 'utf8');
const lines = [...doc.matchAll(/^(?:[<>] )?([A-Z]{2} \d+ [^\n]*?\*[0-9A-F]{4})(?=\s|␍|$)/gm)].map((match) => match[1]!);

describe('docs/serial-protocol.md', () => {
  it('shows a dozen or more protocol lines', () => {
    expect(lines.length).toBeGreaterThanOrEqual(12);
  });

  it.each(lines)('%s has a correct CRC and decodes', (line) => {
    const star = line.lastIndexOf('*');
    expect(line.slice(star + 1)).toBe(referenceCrc16(line.slice(0, star)).toString(16).toUpperCase().padStart(4, '0'));
    expect(decodeLine(line)).toMatchObject({ ok: true });
  });

  it('dumps the bytes of its example line', () => {
    const dump = /^KD 12 OK\*3DC6␍␊\n([0-9A-F ]+)\n/m.exec(doc);
    expect(dump).not.toBeNull();
    expect(dump![1]!.trim().split(' ').map((hex) => Number.parseInt(hex, 16))).toEqual([...Buffer.from('KD 12 OK*3DC6\r\n', 'latin1')]);
  });

  it('states the bounds the code uses', () => {
    expect(doc).toContain(`| \`lineBytesMax\` | ${lineBytesMax} bytes |`);
    expect(doc).toContain(`| \`sequenceModulo\` | ${sequenceModulo} |`);
    expect(doc).toContain(`| \`frameTextCharsMax\` | ${frameTextCharsMax} |`);
    expect(doc).toContain(`| \`errorTextCharsMax\` | ${errorTextCharsMax} |`);
  });
});
