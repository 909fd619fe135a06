/**
 * The receiving half of the protocol as a stream: bytes in, one `Decoded` per line out.
 * In the manner of serialport's parser-delimiter, it keeps the bytes after the last line end for
 * the next chunk and flushes them when the stream ends; unlike it, a line may not grow without bound:
 * past `lineBytesMax` the bytes are dropped up to the next line end and reported once as LONG.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { decodeLine } from './codec.ts';
import { lineBytesMax, type Decoded } from './messages.ts';

export interface LineParserOptions {
  /** Lines longer than this many bytes (without CR/LF) are dropped whole. Defaults to the protocol's bound. */
  readonly lineBytesMax?: number;
}

/**
 * Split a byte stream at CR and LF (either, or both: a person's terminal may send a bare CR) and decode
 * every non-empty line. Never throws on input; every damaged line becomes `{ ok: false, error }`.
 * @example
 * const parser = port.pipe(new LineParser());
 * parser.on('data', (decoded: Decoded) => { if (decoded.ok) handle(decoded.envelope); });
 */
export class LineParser extends Transform {
  readonly #lineBytesMax: number;
  /** Bytes after the last line end, as latin1 text (one character per byte). */
  #pending = '';
  /** Bytes dropped so far from a line that grew past the bound; 0 when not dropping. */
  #discarding = 0;

  constructor(options: LineParserOptions = {}) {
    super({ readableObjectMode: true });
    this.#lineBytesMax = options.lineBytesMax ?? lineBytesMax;
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    let start = 0;
    for (let at = 0; at < text.length; at++) {
      const code = text.charCodeAt(at);
      if (code !== 0x0a && code !== 0x0d) continue;
      this.#endLine(text.slice(start, at));
      start = at + 1;
    }
    this.#append(text.slice(start));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#endLine('');
    callback();
  }

  #append(part: string): void {
    if (this.#discarding > 0) {
      this.#discarding += part.length;
    } else if (this.#pending.length + part.length > this.#lineBytesMax) {
      this.#discarding = this.#pending.length + part.length;
      this.#pending = '';
    } else {
      this.#pending += part;
    }
  }

  #endLine(part: string): void {
    this.#append(part);
    if (this.#discarding > 0) {
      const decoded: Decoded = { ok: false, error: { code: 'LONG', seq: null, detail: `line of ${this.#discarding} bytes is longer than ${this.#lineBytesMax}` } };
      this.#discarding = 0;
      this.push(decoded);
      return;
    }
    const line = this.#pending;
    this.#pending = '';
    if (line.length > 0) this.push(decodeLine(line));
  }
}
