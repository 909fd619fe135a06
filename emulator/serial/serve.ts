/**
 * Serving a card session on a serial port until the process is told to stop: the shared shell of
 * `dsc serial` and `dsc bridge`. When the port goes away (a cable pulled out), the card stays in
 * memory and the port is waited for, bounded; when it comes back, the link starts over with a hello.
 */
import type { SerialPort } from 'serialport';
import { CardLink, type CardLike, type CardLinkOptions } from './card-link.ts';
import type { LinkEvent } from './link.ts';
import { closePort } from './port.ts';
import { waitForPort, watchPortPath } from './reconnect.ts';

/** `dsc serial` greets for ten minutes at one hello a second, then waits for the board's own hello. */
export const helloAttemptsMax = 600;
/** `dsc bridge` greets a few times after a replug only: its peer is a tester, or a person reading a terminal. */
export const bridgeHelloAttemptsMax = 5;

export interface ServeOptions extends CardLinkOptions {
  /**
   * `always`: greet as soon as the port is open (dsc serial: a board that booted first is waiting);
   * `after-reconnect`: answer only, but greet after a replug (dsc bridge: the tester may have forgotten us).
   */
  readonly greet: 'always' | 'after-reconnect';
  readonly portPath: string;
  /** Open the port again with the same settings. */
  readonly reopen: () => Promise<SerialPort>;
  /** How long to wait for a vanished port, in milliseconds (0: stop at once). */
  readonly reconnectMs: number;
  readonly onEvent?: (event: LinkEvent) => void;
  /** One line for a person: the port went away, came back, or did not. */
  readonly onStatus?: (text: string) => void;
}

/** Why serving ended. */
export type ServeEnd =
  | { readonly type: 'signal'; readonly signal: NodeJS.Signals }
  /** The port went away and did not come back within the reconnect time. */
  | { readonly type: 'port closed'; readonly error?: string }
  /** The card session failed (its device file could not be written); nothing more was answered. */
  | { readonly type: 'card stopped'; readonly error: string };

type LinkEnd = ServeEnd | { readonly type: 'port gone'; readonly error?: string };

/** Serve on one open port until a signal, a card failure or the port going away. */
async function serveOnce(port: SerialPort, card: CardLike, options: ServeOptions, greet: boolean, stop: AbortSignal): Promise<LinkEnd> {
  let cardFailed: (error: Error) => void = () => {};
  const link = new CardLink(port, card, { ...options, onCardError: (error) => cardFailed(error) });
  const unsubscribe = options.onEvent === undefined ? () => {} : link.onEvent(options.onEvent);
  let stopWatching = () => {};
  let onAbort = () => {};
  try {
    return await new Promise<LinkEnd>((resolve) => {
      cardFailed = (error) => resolve({ type: 'card stopped', error: error.message });
      onAbort = () => resolve({ type: 'signal', signal: stop.reason as NodeJS.Signals });
      if (stop.aborted) return onAbort();
      stop.addEventListener('abort', onAbort, { once: true });
      port.once('close', () => resolve({ type: 'port gone' }));
      port.once('error', (error: Error) => resolve({ type: 'port gone', error: error.message }));
      stopWatching = watchPortPath(options.portPath, () => resolve({ type: 'port gone' }));
      if (greet) link.greetUntilAnswered(options.greet === 'always' ? helloAttemptsMax : bridgeHelloAttemptsMax);
    });
  } finally {
    stop.removeEventListener('abort', onAbort);
    stopWatching();
    unsubscribe();
    link.close();
    await closePort(port);
  }
}

/**
 * Answer on `port` as the card until SIGINT/SIGTERM, a card failure, or a port that stayed away
 * longer than `reconnectMs`; the port is closed at the end (the card belongs to the caller).
 * @example
 * const end = await serveCard(port, session, { identity, clock: 'real', greet: 'always', portPath, reopen, reconnectMs: 30_000 });
 */
export async function serveCard(port: SerialPort, card: CardLike, options: ServeOptions): Promise<ServeEnd> {
  const stop = new AbortController();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (signal: NodeJS.Signals) => stop.abort(signal);
  for (const signal of signals) process.once(signal, onSignal);
  try {
    let current: SerialPort | null = port;
    let greet = options.greet === 'always';
    for (;;) {
      const end: LinkEnd = await serveOnce(current, card, options, greet, stop.signal);
      if (end.type !== 'port gone') return end;
      const seconds = Math.round(options.reconnectMs / 1000);
      options.onStatus?.(`port ${options.portPath} went away${end.error ? ` (${end.error})` : ''}; waiting up to ${seconds} s for it to come back`);
      current = await waitForPort(options.portPath, options.reopen, options.reconnectMs, stop.signal);
      if (stop.signal.aborted) return { type: 'signal', signal: stop.signal.reason as NodeJS.Signals };
      if (current === null) return { type: 'port closed', error: `it did not come back within ${seconds} s` };
      options.onStatus?.(`port ${options.portPath} is back; saying hello again`);
      greet = true;
    }
  } finally {
    for (const signal of signals) process.removeListener(signal, onSignal);
  }
}
