/** The RFC 6287 Appendix C vectors from fixtures/, typed, shared by every test that needs them. */
import { readFileSync } from 'node:fs';

export interface OcraVector {
  section: string;
  suite: string;
  key: string;
  challenge: string | [string, string];
  counter?: number;
  pin?: string;
  timeStep?: number;
  response: string;
}

const url = new URL('../../fixtures/ocra-vectors.json', import.meta.url);
export const ocraVectors: OcraVector[] = (JSON.parse(readFileSync(url, 'utf8')) as { vectors: OcraVector[] }).vectors;
export const pinHashSHA1: string = (JSON.parse(readFileSync(url, 'utf8')) as { pinHashSHA1: string }).pinHashSHA1;
