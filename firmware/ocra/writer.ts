/**
 * The DataInput buffer of one prepared key, rewritten for every response.
 *
 * `writeDataInput` is the general writer: it reads the suite field by field and zero-fills the question.
 * A prepared key knows its suite for good, so this writer works out the field offsets once and, for the
 * inputs a card or a verifier actually sends (a short numeric challenge, numbers for C and T, a PIN hash),
 * writes the bytes straight in. Everything else, and every input it cannot vouch for, goes through
 * `writeDataInput`, so the checks and the error messages are exactly the general writer's: the fast path
 * only ever accepts what the general path would accept, and writes the same bytes (a property test holds
 * the two to that, over random sequences of inputs).
 *
 * The question is left-aligned and zero-padded to 128 bytes, and the buffer is reused, so only the question
 * bytes an earlier response wrote need zeroing: the writer remembers how many ("dirty" bytes).
 */
import {
  counterBytes,
  dataInputLength,
  questionBytes,
  shortDecimal,
  uint32Limit,
  writeDataInput,
  writeSmallNumber,
  writeUint64,
  type OcraInputs,
} from './data-input.ts';
import { hashBytes, type OcraSuite } from './suite.ts';

export interface DataInputWriter {
  /** The DataInput bytes: the suite and its separator, then the fields of the last `write`. */
  readonly bytes: Uint8Array;
  write(inputs: OcraInputs): void;
}

/** A safe integer counter or time step that fits the 8 bytes, or -1 (the general path then decides). */
function smallCount(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : -1;
}

/**
 * A class rather than closures: a verifier makes a writer on every miss of its key cache, and an object with
 * its field offsets is the cheapest thing to make (each closure is a function object, and a named one more).
 */
class Writer implements DataInputWriter {
  /** Where each field sits, or -1 when the suite has none. */
  readonly #counterAt: number;
  readonly #questionAt: number;
  readonly #pinAt: number;
  readonly #pinBytes: number;
  readonly #timeAt: number;
  readonly #lengthMax: number;
  /** Whether every field can take the fast path: N questions, and no session field (rare, and variable). */
  readonly #fast: boolean;
  /** Question bytes the last write may have left non-zero (a fresh buffer has none). */
  #dirty = 0;

  constructor(readonly suite: OcraSuite, readonly bytes: Uint8Array) {
    const text = suite.text;
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i); // the suite is ASCII (parseSuite); the separator stays 0x00
    this.#counterAt = suite.counter ? text.length + 1 : -1;
    this.#questionAt = text.length + 1 + (suite.counter ? counterBytes : 0);
    this.#pinAt = suite.pin ? this.#questionAt + questionBytes : -1;
    this.#pinBytes = suite.pin ? hashBytes[suite.pin] : 0;
    this.#timeAt = suite.timeStepSeconds === undefined ? -1 : this.#questionAt + questionBytes + this.#pinBytes + (suite.sessionBytes ?? 0);
    this.#lengthMax = suite.question.lengthMax;
    this.#fast = suite.question.format === 'N' && suite.sessionBytes === undefined;
  }

  write(inputs: OcraInputs): void {
    if (!this.#fast || typeof inputs !== 'object' || inputs === null || typeof inputs.challenge !== 'string') return this.#general(inputs);
    // Each field's fast condition is what the general path would accept without complaint; anything else,
    // including an input the suite does not use, goes there to be written or named in an error.
    const counterAt = this.#counterAt;
    const timeAt = this.#timeAt;
    const pinAt = this.#pinAt;
    const pinBytes = this.#pinBytes;
    const counter = counterAt < 0 ? (inputs.counter === undefined ? 0 : -1) : smallCount(inputs.counter);
    const time = timeAt < 0 ? (inputs.timeStep === undefined ? 0 : -1) : smallCount(inputs.timeStep);
    const pinHash = inputs.pinHash;
    const pinFits =
      inputs.pin === undefined &&
      (pinAt < 0 ? pinHash === undefined : pinHash instanceof Uint8Array && pinHash.length === pinBytes);
    const question = shortDecimal(inputs.challenge, this.#lengthMax);
    if (counter < 0 || time < 0 || !pinFits || inputs.session !== undefined || question < 0 || question >= uint32Limit) {
      return this.#general(inputs);
    }
    const bytes = this.bytes;
    if (counterAt >= 0) writeUint64(bytes, counterAt, counter);
    this.#dirty = writeSmallNumber(question, bytes, this.#questionAt, this.#dirty);
    if (pinAt >= 0) for (let i = 0; i < pinBytes; i++) bytes[pinAt + i] = pinHash![i]!;
    if (timeAt >= 0) writeUint64(bytes, timeAt, time);
  }

  #general(inputs: OcraInputs): void {
    const before = this.#dirty;
    this.#dirty = questionBytes; // if the write throws part-way, the next one zeroes the whole question
    this.#dirty = writeDataInput(this.suite, inputs, this.bytes, before);
  }
}

/** `bytes`, when given, is where the DataInput is written (a fixed-length HMAC's message buffer, say). */
export function dataInputWriter(suite: OcraSuite, bytes: Uint8Array = new Uint8Array(dataInputLength(suite))): DataInputWriter {
  if (bytes.length !== dataInputLength(suite)) {
    throw new RangeError(`DataInput buffer for ${JSON.stringify(suite.text)} expected ${dataInputLength(suite)} bytes, got ${bytes.length}`);
  }
  return new Writer(suite, bytes);
}
