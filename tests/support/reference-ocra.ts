/**
 * An independent OCRA oracle for tests: a transliteration of the RFC 6287 Appendix A reference code
 * (string-based hex padding) on node:crypto, sharing no code with firmware/ocra. Property tests compare
 * the engine against it on random suites and inputs.
 */
import { createHash, createHmac } from 'node:crypto';

export interface ReferenceInputs {
  suite: string;
  keyHex: string;
  /** Already concatenated question (mutual challenges are joined by the caller). */
  question: string;
  counter?: bigint;
  pin?: string;
  sessionHex?: string;
  timeStep?: bigint;
}

const hashOf = (name: string) => ({ SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' })[name]!;

export function referenceOcra(inputs: ReferenceInputs): { response: string; hmacHex: string } {
  const [, crypto, dataInput] = inputs.suite.split(':') as [string, string, string];
  const [, hashName, digitsText] = crypto.split('-') as [string, string, string];
  const digits = Number(digitsText);
  const fields = dataInput.split('-');
  let message = Buffer.concat([Buffer.from(inputs.suite, 'latin1'), Buffer.from([0])]);
  for (const field of fields) {
    if (field === 'C') {
      message = Buffer.concat([message, Buffer.from(inputs.counter!.toString(16).padStart(16, '0'), 'hex')]);
    } else if (field.startsWith('Q')) {
      const format = field[1];
      let hex: string;
      if (format === 'N') hex = BigInt(inputs.question).toString(16).toUpperCase();
      else if (format === 'A') hex = Buffer.from(inputs.question, 'latin1').toString('hex');
      else hex = inputs.question;
      message = Buffer.concat([message, Buffer.from(hex.padEnd(256, '0'), 'hex')]);
    } else if (field.startsWith('P')) {
      // A bare P is RFC 6287 §6.3's default, PSHA1.
      message = Buffer.concat([message, createHash(hashOf(field.length > 1 ? field.slice(1) : 'SHA1')).update(inputs.pin!, 'utf8').digest()]);
    } else if (field.startsWith('S')) {
      const length = field.length > 1 ? Number(field.slice(1)) : 64; // a bare S is §6.3's default S064
      message = Buffer.concat([message, Buffer.from(inputs.sessionHex!.padStart(length * 2, '0'), 'hex')]);
    } else if (field.startsWith('T')) {
      message = Buffer.concat([message, Buffer.from(inputs.timeStep!.toString(16).padStart(16, '0'), 'hex')]);
    }
  }
  const mac = createHmac(hashOf(hashName), Buffer.from(inputs.keyHex, 'hex')).update(message).digest();
  const hmacHex = mac.toString('hex');
  if (digits === 0) return { response: hmacHex, hmacHex };
  const offset = mac[mac.length - 1]! & 0xf;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return { response: String(binary % 10 ** digits).padStart(digits, '0'), hmacHex };
}
