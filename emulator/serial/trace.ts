/** One line of `--trace` output per link event, for people debugging a board: `tx`/`rx` and the line. */
import { assertNever } from '../../firmware/assert.ts';
import { encodeLine } from './codec.ts';
import type { LinkEvent } from './link.ts';

/**
 * @example
 * link.onEvent((event) => traceLine(process.stderr, event)); // tx KD 12 OK*3DC6 …
 */
export function traceLine(out: NodeJS.WritableStream, event: LinkEvent): void {
  switch (event.type) {
    case 'sent':
      out.write(`tx ${event.line.trimEnd()}\n`);
      return;
    case 'received':
      out.write(`rx ${encodeLine(event.envelope.seq, event.envelope.message).trimEnd()}\n`);
      return;
    case 'refused':
      out.write(`!! refused (${event.code}): ${event.detail}\n`);
      return;
    case 'peerError':
    case 'connected':
      return; // the rx line already shows it
    default:
      assertNever(event, 'link event');
  }
}
