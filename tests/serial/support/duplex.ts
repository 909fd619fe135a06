/** Two in-process Duplex streams wired to each other, like the two ends of a cable (Node 20 has no stream.duplexPair). */
import { Duplex } from 'node:stream';

/**
 * Bytes written on one end are readable on the other within the same call: a test can write and then
 * look at what was answered without waiting.
 */
export function duplexPair(): [Duplex, Duplex] {
  return pair((deliver) => deliver());
}

/**
 * Bytes arrive on the other end a turn of the event loop later, as over a cable: a link that sends a line
 * and then records it as sent never sees the answer in between (what two processes on a pty always get).
 */
export function cablePair(): [Duplex, Duplex] {
  return pair((deliver) => setImmediate(deliver));
}

function pair(schedule: (deliver: () => void) => void): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        schedule(() => other().push(chunk));
        callback();
      },
    });
  ends.push(make(() => ends[1]!), make(() => ends[0]!));
  return [ends[0]!, ends[1]!];
}
