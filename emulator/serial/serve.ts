/**
 * Serving a card session on a serial port until the port goes away or the process is told to stop:
 * the shared shell of `dsc serial` and `dsc bridge`.
 */
import type { SerialPort } from 'serialport';
import { CardLink, type CardLike, type CardLinkOptions } from './card-link.ts';
import type { LinkEvent } from './link.ts';
import { closePort } from './port.ts';

export interface ServeOptions extends CardLinkOptions {
  /** Greet the other end as soon as the port is open (a board that booted first is waiting for a hello). */
  readonly greet: boolean;
  readonly onEvent?: (event: LinkEvent) => void;
}

/** Why serving ended. */
export type ServeEnd =
  | { readonly type: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly type: 'port closed'; readonly error?: string }
  /** The card session failed (its device file could not be written); nothing more was answered. */
  | { readonly type: 'card stopped'; readonly error: string };

/**
 * Answer on `port` as the card until SIGINT/SIGTERM or until the port closes; then close everything.
 * @example
 * const end = await serveCard(port, session, { identity, clock: 'real', greet: true });
 */
export async function serveCard(port: SerialPort, card: CardLike, options: ServeOptions): Promise<ServeEnd> {
  let cardFailed: (error: Error) => void = () => {};
  const link = new CardLink(port, card, { ...options, onCardError: (error) => cardFailed(error) });
  const unsubscribe = options.onEvent === undefined ? () => {} : link.onEvent(options.onEvent);
  if (options.greet) link.hello();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  try {
    return await new Promise<ServeEnd>((resolve) => {
      cardFailed = (error) => resolve({ type: 'card stopped', error: error.message });
      onSignal = (signal) => resolve({ type: 'signal', signal });
      for (const signal of signals) process.once(signal, onSignal);
      port.once('close', () => resolve({ type: 'port closed' }));
      port.once('error', (error: Error) => resolve({ type: 'port closed', error: error.message }));
    });
  } finally {
    for (const signal of signals) process.removeListener(signal, onSignal);
    unsubscribe();
    link.close();
    await closePort(port);
  }
}
