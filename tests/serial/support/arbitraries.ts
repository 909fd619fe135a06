/** fast-check arbitraries for protocol messages: every message the wire can carry. */
import fc from 'fast-check';
import { errorCodes, frameNumberMax, sequenceModulo, timeAdvanceMsMax, wireKeys, type Message } from '../../../emulator/serial/messages.ts';

const identityText = fc.stringMatching(/^[A-Za-z0-9._+-]{1,16}$/);
const printable = fc.stringMatching(/^[ !#-)+-~]*$/);

export const seqArb = fc.integer({ min: 0, max: sequenceModulo - 1 });
export const keyArb = fc.constantFrom(...wireKeys);

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constantFrom('hello' as const, 'helloReply' as const),
    version: fc.integer({ min: 0, max: 99 }),
    model: identityText,
    firmware: identityText,
    serial: identityText,
    clock: fc.constantFrom('real' as const, 'virtual' as const),
  }),
  fc.record({ type: fc.constantFrom('keyDown' as const, 'keyUp' as const), key: keyArb }),
  fc.record({ type: fc.constant('time' as const), ms: fc.integer({ min: 1, max: timeAdvanceMsMax }) }),
  fc.record({ type: fc.constant('ack' as const), ref: seqArb, frame: fc.integer({ min: 0, max: frameNumberMax }) }),
  fc.record({
    type: fc.constant('frame' as const),
    number: fc.integer({ min: 0, max: frameNumberMax }),
    text: printable.map((text) => text.slice(0, 8)),
    lowBattery: fc.boolean(),
    locked: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('error' as const),
    ref: fc.option(seqArb, { nil: null }),
    code: fc.constantFrom(...errorCodes),
    text: printable.map((text) => text.slice(0, 48)),
  }),
);

/** Cut `text` at the given fractions into consecutive chunks (some empty). */
export function splitAt(text: string, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((cut) => Math.floor(cut * text.length)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(text.slice(start, point));
    start = point;
  }
  chunks.push(text.slice(start));
  return chunks;
}
