/** Checks over everything the card sent during the run: well-formed lines, acks, frame numbers, refusals. */
import { lcdWidthChars } from '../../firmware/types.ts';
import type { LinkEvent } from '../../emulator/serial/link.ts';
import type { ErrorCode } from '../../emulator/serial/messages.ts';
import type { Conformance } from '../harness.ts';

export function lineChecks(c: Conformance): void {
  const refused = c.events.filter((event): event is Extract<LinkEvent, { type: 'refused' }> => event.type === 'refused');
  const long = refused.filter((event) => /more than the \d+ of the LCD/.test(event.detail));
  c.report(
    `lines: every line from the card is well-formed (frames at most ${lcdWidthChars} characters)`,
    refused.length === 0 ? 'pass' : 'fail',
    refused.length === 0
      ? `${c.events.filter((event) => event.type === 'received').length} lines received intact`
      : `${long.length > 0 ? `frame over ${lcdWidthChars} characters: ${long.length} frame(s); ` : ''}${refused.length} malformed line(s), first: ${refused[0]!.code} ${refused[0]!.detail}`,
  );
  const lost = c.driver.results.filter((result) => result.frame === null);
  c.report(
    'acks: every key event is acknowledged with the number of a frame that arrived',
    lost.length === 0 ? 'pass' : 'fail',
    lost.length === 0 ? `${c.driver.results.length} acknowledgements` : `${lost.length} AK(s) named a frame that never arrived intact, first #${lost[0]!.ackFrame}`,
  );
  const frames = c.panel.frames;
  const backwards = frames.findIndex((frame, i) => i > 0 && (frame.number < frames[i - 1]!.number || (frame.number === frames[i - 1]!.number && frame.text !== frames[i - 1]!.text)));
  c.report(
    'frames: numbers never go back, and one number is one display',
    backwards < 0 ? 'pass' : 'fail',
    backwards < 0 ? `${frames.length} frames` : `frame #${frames[backwards]!.number} ${JSON.stringify(frames[backwards]!.text)} after #${frames[backwards - 1]!.number} ${JSON.stringify(frames[backwards - 1]!.text)}`,
  );
  const counts = new Map<ErrorCode, number>();
  for (const event of c.events) if (event.type === 'peerError') counts.set(event.code, (counts.get(event.code) ?? 0) + 1);
  const unprovoked = [...counts].filter(([code, count]) => count > (c.provoked.get(code) ?? 0)).map(([code, count]) => `${code} ×${count - (c.provoked.get(code) ?? 0)}`);
  c.report('errors: the card refused none of our well-formed lines', unprovoked.length === 0 ? 'pass' : 'fail', unprovoked.length === 0 ? 'none' : unprovoked.join(', '));
}
