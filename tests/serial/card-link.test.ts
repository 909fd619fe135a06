/** The card's link end in-process: frames before acks, ROLE and CLOCK refusals, and a card that fails. */
import { describe, expect, it } from 'vitest';
import { CardLink } from '../../emulator/serial/card-link.ts';
import { decodeLine, encodeLine } from '../../emulator/serial/codec.ts';
import { protocolVersion, type Message } from '../../emulator/serial/messages.ts';
import { duplexPair } from './support/duplex.ts';
import { FakeCard } from './support/fake-card.ts';

const hello: Message = { type: 'hello', version: protocolVersion, model: 'T', firmware: '0', serial: '-', clock: 'real' };
const identity = { model: 'FAKE', firmware: '0', serial: '1', clock: 'real' } as const;

/** Write lines to a card link and collect the decoded lines it answers with. */
async function exchange(card: FakeCard, lines: string[], options: Partial<ConstructorParameters<typeof CardLink>[2]> = {}) {
  const [cardEnd, testerEnd] = duplexPair();
  const link = new CardLink(cardEnd, card, { identity, clock: 'real', ...options });
  const answers: string[] = [];
  testerEnd.on('data', (chunk: Buffer) => answers.push(...chunk.toString('latin1').split('\r\n').filter((line) => line !== '')));
  for (const line of lines) testerEnd.write(line);
  await new Promise((resolve) => setImmediate(resolve));
  link.close();
  return answers.map((line) => {
    const decoded = decodeLine(line);
    if (!decoded.ok) throw new Error(`the card sent a bad line: ${line}`);
    return decoded.envelope.message;
  });
}

describe('CardLink', () => {
  it('answers a key with its frame first, then the AK naming it', async () => {
    const answers = await exchange(new FakeCard(), [encodeLine(5, hello), encodeLine(6, { type: 'keyDown', key: '3' })]);
    expect(answers.map((message) => message.type)).toEqual(['helloReply', 'frame', 'frame', 'ack']);
    expect(answers[2]).toMatchObject({ type: 'frame', number: 1, text: 'D3' });
    expect(answers[3]).toEqual({ type: 'ack', ref: 6, frame: 1 });
  });

  it('refuses TM on a real-clock card and panel messages sent to a card', async () => {
    const card = new FakeCard();
    const answers = await exchange(card, [encodeLine(0, hello), encodeLine(1, { type: 'time', ms: 100 }), encodeLine(2, { type: 'ack', ref: 0, frame: 0 })]);
    expect(answers.filter((message) => message.type === 'error').map((message) => message.type === 'error' && `${message.code} ${message.ref}`)).toEqual(['CLOCK 1', 'ROLE 2']);
    expect(card.applied).toEqual([]);
  });

  it('stops answering and reports it when the card session throws (a device file that cannot be written)', async () => {
    const card = new FakeCard();
    card.keyDown = () => {
      throw new Error('ENOSPC: no space left on device');
    };
    const errors: string[] = [];
    const answers = await exchange(card, [encodeLine(0, hello), encodeLine(1, { type: 'keyDown', key: '1' }), encodeLine(2, { type: 'keyUp', key: '1' })], {
      onCardError: (error) => errors.push(error.message),
    });
    expect(errors).toEqual(['ENOSPC: no space left on device']);
    expect(answers.map((message) => message.type)).toEqual(['helloReply', 'frame']);
    expect(card.applied).toEqual([]);
  });
});
