/**
 * Property tests of the receiving side: random bytes, random splits of valid lines, flipped bits,
 * noise between lines, and duplicated/reordered key events through the card's link end.
 * The promises: no crash, no phantom key (nothing decodes that was not sent), every valid line decoded.
 * The seed is printed once per file; replay with FC_SEED=<seed>.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CardLink } from '../../emulator/serial/card-link.ts';
import { decodeLine, encodeLine } from '../../emulator/serial/codec.ts';
import { LineParser } from '../../emulator/serial/line-parser.ts';
import { protocolVersion, sequenceModulo, type Decoded, type Envelope, type Message } from '../../emulator/serial/messages.ts';
import { propertyParams } from '../support/seed.ts';
import { keyArb, messageArb, seqArb, splitAt } from './support/arbitraries.ts';
import { duplexPair } from './support/duplex.ts';
import { FakeCard } from './support/fake-card.ts';

/** Feed chunks through a fresh parser synchronously (Transform pushes synchronously) and collect what it emits. */
function feed(chunks: ReadonlyArray<string | Uint8Array>): Decoded[] {
  const parser = new LineParser();
  const out: Decoded[] = [];
  parser.on('data', (decoded: Decoded) => out.push(decoded));
  for (const chunk of chunks) parser.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.from(chunk));
  parser.end();
  return out;
}

const envelopes = fc.array(fc.record({ seq: seqArb, message: messageArb }), { minLength: 1, maxLength: 12 });
const encodeAll = (list: readonly Envelope[]) => list.map(({ seq, message }) => encodeLine(seq, message)).join('');

describe('the parser under hostile input', () => {
  it('decodes every message from valid lines cut into random chunks', () => {
    fc.assert(
      fc.property(envelopes, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), (list, cuts) => {
        const out = feed(splitAt(encodeAll(list), cuts));
        expect(out).toEqual(list.map((envelope) => ({ ok: true, envelope })));
      }),
      propertyParams(1500),
    );
  });

  it('never decodes a message from random bytes, and never throws', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), (chunks) => {
        const out = feed(chunks);
        expect(out.filter((decoded) => decoded.ok)).toEqual([]);
      }),
      propertyParams(3000),
    );
  });

  it('never turns a line with flipped bits into another message', () => {
    fc.assert(
      fc.property(fc.record({ seq: seqArb, message: messageArb }), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), ({ seq, message }, flips) => {
        const bytes = Buffer.from(encodeLine(seq, message), 'latin1');
        const bodyBits = (bytes.length - 2) * 8; // the CR LF stay; a flip inside them is a cut, tested above
        const flipped = new Set(flips.map((flip) => flip % bodyBits));
        for (const bit of flipped) bytes[bit >> 3]! ^= 1 << (bit & 7);
        for (const decoded of feed([bytes])) {
          // CRC-16/CCITT-FALSE detects every error of 1 to 3 bits in a line this short; the only flip
          // that survives is a hex letter of the CRC changing case, which leaves the very same message.
          if (decoded.ok) expect(decoded.envelope).toEqual({ seq, message });
        }
      }),
      propertyParams(3000),
    );
  });

  it('still decodes every valid line when noise lines sit between them', () => {
    const noise = fc.uint8Array({ maxLength: 120 }).map((bytes) => Buffer.from(bytes).toString('latin1').replace(/[\r\n]/g, ''));
    fc.assert(
      fc.property(envelopes, fc.array(noise, { minLength: 12, maxLength: 12 }), (list, noises) => {
        const text = list.map(({ seq, message }, i) => `${noises[i]}\n${encodeLine(seq, message)}`).join('');
        const out = feed([text]);
        const decodedOk = out.filter((decoded): decoded is Extract<Decoded, { ok: true }> => decoded.ok).map((decoded) => decoded.envelope);
        expect(decodedOk).toEqual(list);
        // Each non-empty noise line is refused once, no more (the valid line after it is not swallowed).
        const noiseLines = noises.slice(0, list.length).filter((line) => line !== '').length;
        expect(out.length - decodedOk.length).toBe(noiseLines);
      }),
      propertyParams(1000),
    );
  });

  it('agrees with decodeLine on every line it emits', () => {
    fc.assert(
      fc.property(fc.record({ seq: seqArb, message: messageArb }), ({ seq, message }) => {
        const line = encodeLine(seq, message);
        expect(decodeLine(line.slice(0, -2))).toEqual(feed([line])[0]);
      }),
      propertyParams(1000),
    );
  });
});

describe('the card end under duplicated and reordered key events', () => {
  it('applies each key line at most once, in order, and only lines that are newer than the last applied', async () => {
    const helloSeq = 0;
    const schedule = fc.array(fc.record({ seq: fc.integer({ min: 1, max: 40 }), key: keyArb, down: fc.boolean() }), { minLength: 1, maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(schedule, async (lines) => {
        const [cardEnd, testerEnd] = duplexPair();
        const card = new FakeCard();
        const link = new CardLink(cardEnd, card, { identity: { model: 'FAKE', firmware: '0', serial: '1', clock: 'virtual' }, clock: 'virtual' });
        const hello: Message = { type: 'hello', version: protocolVersion, model: 'T', firmware: '0', serial: '-', clock: 'real' };
        testerEnd.write(encodeLine(helloSeq, hello));
        for (const { seq, key, down } of lines) testerEnd.write(encodeLine(seq, { type: down ? 'keyDown' : 'keyUp', key }));
        await new Promise((resolve) => setImmediate(resolve));
        // The model: a line is applied exactly when its number is ahead of the last applied one.
        const expected: string[] = [];
        let last = helloSeq;
        for (const { seq, key, down } of lines) {
          const distance = (seq - last + sequenceModulo) % sequenceModulo;
          if (distance === 0 || distance >= sequenceModulo / 2) continue;
          expected.push(`${down ? 'down' : 'up'} ${key}`);
          last = seq;
        }
        expect(card.applied).toEqual(expected);
        link.close();
      }),
      propertyParams(500),
    );
  });
});
