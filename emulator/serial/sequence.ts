/**
 * Sequence numbers: each sender numbers its lines 0, 1, … 999, 0, … and the receiver judges each
 * accepted line against the last one it accepted from that sender. Half the circle ahead counts as
 * "lines were lost", half behind as "old or repeated" (the usual sliding-window reading of a wrapping counter).
 */
import { sequenceModulo } from './messages.ts';

export type SequenceVerdict =
  /** The first line after a hello, or the one expected next. */
  | { readonly type: 'next' }
  /** Accepted, but `lost` lines before it never arrived. */
  | { readonly type: 'gap'; readonly lost: number }
  /** The same number as the last accepted line: a repeat, dropped. */
  | { readonly type: 'duplicate' }
  /** A number from behind the last accepted one: late or reordered, dropped. */
  | { readonly type: 'stale' };

/**
 * Judge `seq` against `last`, the last accepted sequence number from this sender (null before any).
 * @example
 * judgeSequence(998, 999); // { type: 'next' }
 * judgeSequence(999, 2);   // { type: 'gap', lost: 2 }  (0 and 1 were lost)
 * judgeSequence(5, 5);     // { type: 'duplicate' }
 */
export function judgeSequence(last: number | null, seq: number): SequenceVerdict {
  if (last === null) return { type: 'next' };
  const distance = (seq - last + sequenceModulo) % sequenceModulo;
  if (distance === 0) return { type: 'duplicate' };
  if (distance === 1) return { type: 'next' };
  if (distance < sequenceModulo / 2) return { type: 'gap', lost: distance - 1 };
  return { type: 'stale' };
}

/**
 * The next sequence number after `seq`.
 * @example
 * nextSeq(999); // 0
 */
export function nextSeq(seq: number): number {
  return (seq + 1) % sequenceModulo;
}
