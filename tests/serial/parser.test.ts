/** The stream parser: line ends of every kind, lines split across chunks, the hard line bound, and flush. */
import { describe, expect, it } from 'vitest';
import { LineParser } from '../../emulator/serial/line-parser.ts';
import { lineBytesMax, type Decoded } from '../../emulator/serial/messages.ts';
import { judgeSequence } from '../../emulator/serial/sequence.ts';
import { referenceLine } from './support/reference.ts';

async function parse(chunks: Array<string | Buffer>, options?: ConstructorParameters<typeof LineParser>[0]): Promise<Decoded[]> {
  const parser = new LineParser(options);
  const out: Decoded[] = [];
  parser.on('data', (decoded: Decoded) => out.push(decoded));
  const done = new Promise((resolve) => parser.on('end', resolve));
  for (const chunk of chunks) parser.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  parser.end();
  await done;
  return out;
}

const kd = (seq: number, key: string) => referenceLine(`KD ${seq} ${key}`);

describe('LineParser', () => {
  it('accepts CR LF, bare LF and bare CR (a terminal Enter) and skips empty lines', async () => {
    const lines = [kd(1, '1'), kd(2, '2').replace('\r\n', '\n'), kd(3, '3').replace('\r\n', '\r'), '\r\n\r\n'];
    const out = await parse([lines.join('')]);
    expect(out.map((d) => d.ok && d.envelope.seq)).toEqual([1, 2, 3]);
  });

  it('keeps leftover bytes between chunks, one byte at a time', async () => {
    const text = kd(1, 'OK') + kd(2, 'BACK');
    const out = await parse(text.split(''));
    expect(out.map((d) => d.ok && d.envelope.message)).toEqual([
      { type: 'keyDown', key: 'OK' },
      { type: 'keyDown', key: 'BACK' },
    ]);
  });

  it('drops an overlong line whole, reports it once as LONG, and resynchronises at the next line', async () => {
    const junk = 'x'.repeat(lineBytesMax * 3);
    const out = await parse([junk.slice(0, 50), junk.slice(50), kd(7, '7').slice(0, 3), kd(7, '7').slice(3) + '\n' + kd(8, '8')]);
    expect(out[0]).toEqual({ ok: false, error: { code: 'LONG', seq: null, detail: `line of ${junk.length + 3 + kd(7, '7').length - 5} bytes is longer than ${lineBytesMax}` } });
    expect(out.slice(1).map((d) => d.ok && d.envelope.seq)).toEqual([8]);
  });

  it('takes a line of exactly the bound and refuses one byte more', async () => {
    const out = await parse(['y'.repeat(lineBytesMax) + '\n' + 'y'.repeat(lineBytesMax + 1) + '\n']);
    expect(out.map((d) => !d.ok && d.error.code)).toEqual(['SYNTAX', 'LONG']);
  });

  it('flushes a last line that lacks its line end, and reports a cut-off one', async () => {
    expect((await parse([kd(4, '4').trim()])).map((d) => d.ok)).toEqual([true]);
    expect((await parse([kd(4, '4').slice(0, 6)])).map((d) => !d.ok && d.error.code)).toEqual(['SYNTAX']);
  });

  it('honours a smaller bound when asked', async () => {
    const out = await parse([kd(5, 'PRESS')], { lineBytesMax: 8 });
    expect(out.map((d) => !d.ok && d.error.code)).toEqual(['LONG']);
  });
});

describe('judgeSequence', () => {
  it.each([
    [null, 5, { type: 'next' }],
    [4, 5, { type: 'next' }],
    [999, 0, { type: 'next' }],
    [4, 4, { type: 'duplicate' }],
    [4, 7, { type: 'gap', lost: 2 }],
    [998, 1, { type: 'gap', lost: 2 }],
    [4, 3, { type: 'stale' }],
    [1, 999, { type: 'stale' }],
    [0, 500, { type: 'stale' }],
    [0, 499, { type: 'gap', lost: 498 }],
  ] as const)('last %s, got %s: %o', (last, seq, verdict) => {
    expect(judgeSequence(last, seq)).toEqual(verdict);
  });
});
