/**
 * The card of a device file answering over an in-process cable, wired as `dsc bridge --clock virtual
 * [--fault F]` wires it (cli/bridge.ts: a card fault is a misstep of the firmware, a wire fault spoils
 * the response frames), with the card's writes kept in memory. For tests of a tester's own logic (the
 * explorer's search and shrinking): no pty, no process, no disk, so its thousands of round trips cost
 * only their computation. The real thing, `dsc bridge` and `dsc conformance` over a socat pty, is in
 * tests/serial/conformance-*.test.ts.
 */
import { cardFaults, misstepOf, type CardFault } from '../../../emulator/faults.ts';
import { openCardFromRecord, readDeviceFile } from '../../../emulator/card.ts';
import { CardLink, faults as wireFaults, type Fault } from '../../../emulator/serial/card-link.ts';
import { cardIdentity } from '../../../emulator/serial/open.ts';
import { PanelLink } from '../../../emulator/serial/panel-link.ts';
import { cablePair } from './duplex.ts';

/** What `dsc conformance` calls itself in its hello (cli/conformance.ts). */
const testerIdentity = { model: 'DSC-CONFORMANCE', firmware: '1', serial: '-', clock: 'real' } as const;

export interface CardInMemory {
  /** The tester's end, connected (the hello answered). */
  readonly panel: PanelLink;
  close(): void;
}

/**
 * @example
 * const { panel, close } = await cardInMemory('card.json', 'ignore-lock');
 */
export async function cardInMemory(devicePath: string, fault?: string): Promise<CardInMemory> {
  const wireFault = (wireFaults as readonly string[]).includes(fault ?? '') ? (fault as Fault) : undefined;
  const cardFault = (cardFaults as readonly string[]).includes(fault ?? '') ? (fault as CardFault) : undefined;
  if (fault !== undefined && wireFault === undefined && cardFault === undefined) throw new Error(`no such fault: ${fault}`);
  const session = openCardFromRecord(readDeviceFile(devicePath), { clock: 'virtual', save: () => {}, ...(cardFault !== undefined && { misstep: misstepOf(cardFault) }) });
  const [cardEnd, testerEnd] = cablePair();
  const link = new CardLink(cardEnd, session, {
    identity: cardIdentity(session, 'virtual'),
    clock: 'virtual',
    isResponse: () => session.screenId === 'response',
    ...(wireFault !== undefined && { fault: wireFault }),
  });
  const panel = new PanelLink(testerEnd, { identity: testerIdentity });
  const close = () => {
    panel.close();
    link.close();
    session.close();
  };
  try {
    await panel.connect();
  } catch (error) {
    close();
    throw error;
  }
  return { panel, close };
}
