/**
 * One line of `--trace` output per link event, for people debugging a board: `tx`/`rx` and the line.
 * A digit typed where the card masks it (the PIN, a new PIN) is hidden here as the display hides it:
 * the key and the line's CRC (which would give the digit away in ten guesses) are left out.
 */
import { assertNever } from '../../firmware/assert.ts';
import { encodeLine } from './codec.ts';
import type { LinkEvent } from './link.ts';

export interface TraceOptions {
  /** True while the card masks what is typed (PIN entry): digit keys are then not printed. */
  readonly masking?: () => boolean;
}

/**
 * @example
 * link.onEvent((event) => traceLine(process.stderr, event, { masking: () => session.screenId === 'pin' }));
 * // rx KD 12 OK*3DC6 … and, at PIN>, rx KD 13 (digit hidden)
 */
export function traceLine(out: NodeJS.WritableStream, event: LinkEvent, options: TraceOptions = {}): void {
  switch (event.type) {
    case 'sent':
      out.write(`tx ${event.line.trimEnd()}\n`);
      return;
    case 'received': {
      const { seq, message } = event.envelope;
      if ((message.type === 'keyDown' || message.type === 'keyUp') && /^[0-9]$/.test(message.key) && options.masking?.() === true) {
        out.write(`rx ${message.type === 'keyDown' ? 'KD' : 'KU'} ${seq} (digit hidden)\n`);
        return;
      }
      out.write(`rx ${encodeLine(seq, message).trimEnd()}\n`);
      return;
    }
    case 'refused':
      out.write(`!! refused (${event.code}): ${event.detail}\n`);
      return;
    case 'throttled':
      out.write(`!! ${event.reason} (${event.queuedBytes} bytes queued for the peer)\n`);
      return;
    case 'peerError':
    case 'connected':
      return; // the rx line already shows it
    default:
      assertNever(event, 'link event');
  }
}
