/**
 * The simulated board's hello and debounce, seen from a PC played here line by line: it says HI at
 * boot and again until answered, shows the frame the card sends after the handshake, and sends
 * exactly one KD and one KU for a press whose contact bounces.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeLine } from '../../emulator/serial/codec.ts';
import { LineParser } from '../../emulator/serial/line-parser.ts';
import type { Decoded, Envelope } from '../../emulator/serial/messages.ts';
import { protocolVersion } from '../../emulator/serial/messages.ts';
import { closePort, openPort } from '../../emulator/serial/port.ts';
import { buildBoard, SimBoard, sleep } from '../../board/sim/sim-board.ts';
import { boardSkipReason, frameTimeoutMs } from './support.ts';

/** Failure guard: three hellos a second apart, with room for a loaded machine. */
const threeHellosTimeoutMs = 10_000;

describe.skipIf(boardSkipReason !== null)('the simulated board greets and debounces', () => {
  let board: SimBoard | undefined;
  afterEach(async () => {
    await board?.stop();
    board = undefined;
  });

  it('says HI until answered, shows the FR after the handshake, sends one KD and one KU per bouncing press', async () => {
    buildBoard();
    board = await SimBoard.start();
    const port = await openPort(board.pty, 115_200);
    const received: Envelope[] = [];
    const parser = port.pipe(new LineParser());
    parser.on('data', (decoded: Decoded) => {
      expect(decoded.ok, JSON.stringify(decoded)).toBe(true);
      if (decoded.ok) received.push(decoded.envelope);
    });
    const waitFor = async (count: (lines: Envelope[]) => boolean, what: string) => {
      const deadline = Date.now() + threeHellosTimeoutMs;
      while (!count(received)) {
        if (Date.now() > deadline) throw new Error(`${what}; received ${JSON.stringify(received)}`);
        await sleep(20);
      }
    };
    try {
      // Nobody answers: the board says HI again and again, each with the next number.
      await waitFor((lines) => lines.filter((line) => line.message.type === 'hello').length >= 3, 'fewer than three HI lines');
      const hellos = received.filter((line) => line.message.type === 'hello');
      expect(hellos[0]!.message).toMatchObject({ version: protocolVersion, model: 'DSCBOARD', serial: '-', clock: 'real' });
      expect(hellos.map((line) => line.seq).slice(0, 3)).toEqual([hellos[0]!.seq, hellos[0]!.seq + 1, hellos[0]!.seq + 2]);
      expect(board.view?.linked).toBe(false);

      // Answer as a card: HA, then the FR of what the display shows.
      let seq = 0;
      const send = (message: Parameters<typeof encodeLine>[1]) => port.write(encodeLine(seq++, message));
      send({ type: 'helloReply', version: protocolVersion, model: 'DSC+', firmware: '1.0.0', serial: '123', clock: 'real' });
      send({ type: 'frame', number: 7, text: 'PIN>', lowBattery: true, locked: false });
      const shown = await board.waitForLcd((view) => view.linked && view.text === 'PIN>', frameTimeoutMs, 'the FR after the HA was not shown');
      expect(shown).toMatchObject({ lowBattery: true, locked: false });

      // A press whose contact bounces (the model flips it 6 times over 2 ms): one KD, then one KU.
      const before = received.length;
      await board.press('5', 150);
      await waitFor((lines) => lines.length >= before + 1, 'no KD');
      const kd = received[before]!;
      expect(kd.message).toEqual({ type: 'keyDown', key: '5' });
      send({ type: 'ack', ref: kd.seq, frame: 7 });
      await waitFor((lines) => lines.length >= before + 2, 'no KU');
      const ku = received[before + 1]!;
      expect(ku.message).toEqual({ type: 'keyUp', key: '5' });
      send({ type: 'ack', ref: ku.seq, frame: 7 });
      await sleep(300);
      expect(received.slice(before).map((line) => line.message.type)).toEqual(['keyDown', 'keyUp']);
    } finally {
      parser.removeAllListeners('data');
      await closePort(port);
    }
  });
});
