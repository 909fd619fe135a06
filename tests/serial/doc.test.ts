/**
 * docs/serial-protocol.md is what a hardware tester builds against: every protocol line it shows
 * must carry a correct CRC (checked with the independent bit-by-bit CRC) and decode, the byte dump
 * must be the bytes of its line, and every session it shows (the hello, the key events, the
 * recovery cases) is played against the emulated card: the card's lines must be the page's, byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeLine } from '../../emulator/serial/codec.ts';
import { CardLink } from '../../emulator/serial/card-link.ts';
import { cardIdentity } from '../../emulator/serial/open.ts';
import { openCardFromRecord, newDeviceRecord } from '../../emulator/card.ts';
import {
  errorTextCharsMax,
  frameTextCharsMax,
  helloRetryMs,
  junkRepliesPerSecondMax,
  lineBytesMax,
  protocolVersion,
  sendQueueBytesMax,
  sendQueuePauseBytes,
  sequenceModulo,
} from '../../emulator/serial/messages.ts';
import { replyTimeoutMs } from '../../emulator/serial/panel-link.ts';
import { duplexPair } from './support/duplex.ts';
import { referenceCrc16 } from './support/reference.ts';

const doc = readFileSync(new URL('../../docs/serial-protocol.md', import.meta.url), 'utf8');
const linePattern = /^(?:[<>] )?([A-Z]{2} \d+ [^\n]*?\*[0-9A-F]{4})(?=\s|␍|$)/;
const docLines = doc.split('\n').flatMap((text) => {
  const match = linePattern.exec(text);
  return match === null ? [] : [{ line: match[1]!, damaged: /\(damaged\)/.test(text) }];
});

/** The fenced blocks of the page whose lines are a conversation (`>` panel, `<` card). */
function sessions(): Array<Array<{ from: '>' | '<'; line: string }>> {
  const fenced: string[][] = [];
  let inside = false;
  for (const text of doc.split('\n')) {
    if (text.startsWith('```')) {
      inside = !inside;
      if (inside) fenced.push([]);
    } else if (inside) fenced.at(-1)!.push(text);
  }
  const blocks = fenced.map((block) =>
    block
      .map((text) => /^([<>]) (\S+(?: \S+)*?\*[0-9A-F]{4})(?=\s|$)/.exec(text))
      .filter((match) => match !== null)
      .map((match) => ({ from: match![1] as '>' | '<', line: match![2]! })),
  );
  const result: Array<Array<{ from: '>' | '<'; line: string }>> = [];
  for (const block of blocks) {
    if (!block.some((entry) => entry.from === '>')) continue; // a list of examples, not a conversation
    if (/^HI /.test(block[0]!.line)) result.push([...block]);
    else [...result].reverse().find((session) => session[0]!.from === '>')!.push(...block); // "continuing the (panel's) session above"
  }
  return result;
}

/** Play one conversation against a card with the serial number of the page (40417265). */
async function play(session: Array<{ from: '>' | '<'; line: string }>): Promise<{ expected: string[]; actual: string[] }> {
  const clock = / R\*/.test(session[0]!.line) && session[0]!.from === '<' ? 'real' : 'virtual';
  const record = newDeviceRecord({ serial: 40417265, pin: '4711', clockMs: 1_000_000 });
  const card = openCardFromRecord(record, { clock, now: () => 1_000_000 });
  const [ours, theirs] = duplexPair();
  const link = new CardLink(ours, card, { identity: cardIdentity(card, clock), clock });
  const actual: string[] = [];
  let pending = '';
  theirs.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    const parts = pending.split('\r\n');
    pending = parts.pop()!;
    actual.push(...parts);
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  if (session[0]!.from === '<') link.hello(); // the card greets first (dsc serial)
  for (const entry of session) {
    if (entry.from === '>') theirs.write(`${entry.line}\r\n`);
    await settle();
  }
  await settle();
  link.close();
  card.close();
  return { expected: session.filter((entry) => entry.from === '<').map((entry) => entry.line), actual };
}

describe('docs/serial-protocol.md', () => {
  it('shows two dozen or more protocol lines', () => {
    expect(docLines.length).toBeGreaterThanOrEqual(24);
  });

  it.each(docLines)('$line has a correct CRC and decodes (or is marked damaged and fails its CRC)', ({ line, damaged }) => {
    const star = line.lastIndexOf('*');
    const crc = referenceCrc16(line.slice(0, star)).toString(16).toUpperCase().padStart(4, '0');
    if (damaged) {
      expect(line.slice(star + 1)).not.toBe(crc);
      expect(decodeLine(line)).toMatchObject({ ok: false, error: { code: 'CRC' } });
    } else {
      expect(line.slice(star + 1)).toBe(crc);
      expect(decodeLine(line)).toMatchObject({ ok: true });
    }
  });

  it('plays every conversation it shows against the emulated card, line for line', async () => {
    const all = sessions();
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const session of all) {
      const { expected, actual } = await play(session);
      expect(actual).toEqual(expected);
    }
  });

  it('dumps the bytes of its example line', () => {
    const dump = /^KD 12 OK\*3DC6␍␊\n([0-9A-F ]+)\n/m.exec(doc);
    expect(dump).not.toBeNull();
    expect(dump![1]!.trim().split(' ').map((hex) => Number.parseInt(hex, 16))).toEqual([...Buffer.from('KD 12 OK*3DC6\r\n', 'latin1')]);
  });

  it('states the version and the bounds the code uses', () => {
    expect(doc).toContain(`# The dscplus serial protocol (version ${protocolVersion})`);
    expect(doc).toContain(`| \`lineBytesMax\` | ${lineBytesMax} bytes |`);
    expect(doc).toContain(`| \`sequenceModulo\` | ${sequenceModulo} |`);
    expect(doc).toContain(`| \`frameTextCharsMax\` | ${frameTextCharsMax} |`);
    expect(doc).toContain(`| \`errorTextCharsMax\` | ${errorTextCharsMax} |`);
    expect(doc).toContain(`| \`replyTimeoutMs\` | ${replyTimeoutMs} ms |`);
    expect(doc).toContain(`| \`helloRetryMs\` | ${helloRetryMs} ms |`);
    expect(doc).toContain(`| \`junkRepliesPerSecondMax\` | ${junkRepliesPerSecondMax} |`);
    expect(doc).toContain(`| \`sendQueuePauseBytes\` | ${sendQueuePauseBytes} bytes |`);
    expect(doc).toContain(`| \`sendQueueBytesMax\` | ${sendQueueBytesMax} bytes |`);
  });

  it('states the STALE window the code applies (1 to 500 behind)', () => {
    expect(doc).toContain('**1 to 500 behind** is `STALE`');
    expect(doc).not.toMatch(/500 to 999 behind/);
  });
});
