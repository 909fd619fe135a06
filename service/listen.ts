/**
 * Where the service listens: `HOST:PORT` (IPv6 in brackets, `[::1]:8787`). Loopback unless the caller says
 * otherwise explicitly: the verifier answers whoever can reach it, so exposing it is a decision, not a default.
 */
import { isIP } from 'node:net';

export const defaultListen = '127.0.0.1:8787';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  readonly loopback: boolean;
}

export class ListenError extends Error {
  override name = 'ListenError';
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * @example
 * parseListen('127.0.0.1:8787'); // { host: '127.0.0.1', port: 8787, loopback: true }
 * parseListen('0.0.0.0:8787');   // ListenError unless allowRemote
 */
export function parseListen(text: string, allowRemote: boolean): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) throw new ListenError(`--listen expected HOST:PORT (e.g. ${defaultListen} or [::1]:8787), got ${JSON.stringify(text)}`);
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (port > 65_535) throw new ListenError(`--listen port expected 0..65535, got ${port}`);
  if (host !== 'localhost' && isIP(host) === 0) throw new ListenError(`--listen expected an IP address or localhost, got ${JSON.stringify(host)}`);
  const loopback = isLoopback(host);
  if (!loopback && !allowRemote) {
    throw new ListenError(`--listen ${text} is not a loopback address: anyone who can reach it may try logins; add --allow-remote to mean it (and put TLS in front)`);
  }
  return { host, port, loopback };
}
