/**
 * The two link ends over a real pseudo-terminal pair (the kernel's tty layer, opened with serialport),
 * with a card that knows nothing of the firmware: hello, acked key events, frames before acks,
 * refused versions and the clear message for a port that cannot be opened.
 */
import { protocolVersion } from '../../emulator/serial/messages.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CardLink } from '../../emulator/serial/card-link.ts';
import { PanelLink } from '../../emulator/serial/panel-link.ts';
import { closePort, openPort, PortOpenError } from '../../emulator/serial/port.ts';
import type { SerialPort } from 'serialport';
import { FakeCard } from './support/fake-card.ts';
import { ptyPair, ptySkipReason, type PtyPair } from './support/socat.ts';

const panelIdentity = { model: 'TESTER', firmware: '0', serial: '-', clock: 'real' } as const;
const cardIdentity = { model: 'FAKE', firmware: '0', serial: '42', clock: 'virtual' } as const;

describe.skipIf(ptySkipReason !== null)('links over a socat pseudo-terminal pair', () => {
  let pair: PtyPair;
  let ports: SerialPort[] = [];
  beforeEach(async () => {
    pair = await ptyPair();
    ports = [await openPort(pair.a, 115_200), await openPort(pair.b, 115_200)];
  });
  afterEach(async () => {
    for (const port of ports) await closePort(port);
    await pair.close();
  });

  it('greets, then acknowledges every key event with the frame it produced, frames first', async () => {
    const card = new FakeCard();
    const cardLink = new CardLink(ports[0]!, card, { identity: cardIdentity, clock: 'virtual' });
    const panel = new PanelLink(ports[1]!, { identity: panelIdentity });
    const peer = await panel.connect();
    expect(peer).toEqual({ version: protocolVersion, ...cardIdentity });
    expect(panel.frame).toMatchObject({ number: 0, text: '' });
    const down = await panel.keyDown('7');
    expect(down).toEqual({ ackFrame: 1, frame: { type: 'frame', number: 1, text: 'D7', lowBattery: false, locked: false } });
    const up = await panel.keyUp('7');
    expect(up.frame?.text).toBe('U7');
    const time = await panel.advance(500);
    expect(time).toMatchObject({ ackFrame: 2, frame: { number: 2 } });
    expect(card.applied).toEqual(['down 7', 'up 7', 'time 500']);
    cardLink.close();
    panel.close();
  });

  it('refuses a panel of another protocol version (a version-1 board), and its keys, with clear errors', async () => {
    const card = new FakeCard();
    const cardLink = new CardLink(ports[0]!, card, { identity: cardIdentity, clock: 'virtual' });
    const panel = new PanelLink(ports[1]!, { identity: panelIdentity, version: protocolVersion - 1 });
    const refusals: string[] = [];
    panel.onEvent((event) => {
      if (event.type === 'peerError') refusals.push(`${event.code} ${event.text}`);
    });
    await expect(panel.connect()).rejects.toThrow(`the card refused our hello: protocol ${protocolVersion - 1} refused; this end speaks ${protocolVersion}`);
    await expect(panel.keyDown('1')).rejects.toThrow(/HELLO no hello yet/);
    expect(refusals).toEqual([`VERSION protocol ${protocolVersion - 1} refused; this end speaks ${protocolVersion}`, 'HELLO no hello yet: send HI first']);
    expect(card.applied).toEqual([]);
    cardLink.close();
    panel.close();
  });
});

describe('openPort', () => {
  it('names the port that cannot be opened', async () => {
    const error = await openPort('/dev/does-not-exist-dsc', 115_200).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PortOpenError);
    expect((error as Error).message).toMatch(/^cannot open serial port "\/dev\/does-not-exist-dsc": .*(No such file|ENOENT)/);
  });
});
