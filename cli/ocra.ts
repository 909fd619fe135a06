/**
 * `dsc ocra`: one OCRA response from the command line, or a batch of NDJSON requests on stdin.
 * Prints the response and nothing else, so it composes in scripts.
 */
import { hexToBytesNamed } from '../firmware/assert.ts';
import { ocra, parseSuite, timeStepAt, type OcraInputs, type OcraSuite } from '../firmware/ocra/index.ts';
import { exitOk, parseOptions, readLines, UsageError, write, type Io } from './io.ts';
import { SecretReader, visibleNote } from './secrets.ts';

const help = `usage: dsc ocra --suite S --key HEX --challenge Q [--challenge Q2] [--counter N]
                [--pin P | --pin-hash HEX] [--session HEX] [--time-step N | --time ISO8601]
       dsc ocra --batch < requests.ndjson

Computes an OATH OCRA response (RFC 6287) and prints it on stdout.

Secret options (--key, --pin, --pin-hash): - reads each from stdin, one line each in that order.
${visibleNote}

  --suite S        e.g. OCRA-1:HOTP-SHA1-8:QN06-PSHA1 (the DSC+ default)
  --key HEX        the shared secret
  --challenge Q    the question; give it twice for mutual challenge-response (RFC 6287 §7.3),
                   the two challenges are concatenated in the order given
  --counter N      counter C, for suites with C
  --pin P          the PIN, hashed with the suite's P hash; or --pin-hash HEX, the hash itself
  --session HEX    session information, for suites with Snnn
  --time-step N    time steps since the epoch, for suites with T; or --time 2008-03-25T12:06:00Z
  --batch          read one JSON request per line on stdin:
                   {"suite","key","challenge","counter"?,"pin"?,"pinHash"?,"session"?,"timeStep"?,"time"?}
                   and write one line per request: {"response":"…"} or {"error":"…"}

example:
  $ dsc ocra --suite OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1 \\
      --key 3132333435363738393031323334353637383930313233343536373839303132 \\
      --challenge 12345678 --counter 0 --pin 1234
  65347737

Exit codes: 0 ok; 2 bad arguments (the message names the bad value). In --batch mode a bad
request is answered with {"error"} and the batch goes on.`;

/** The longest NDJSON request line accepted in --batch mode (a 1024-byte key in hex plus room). */
export const batchLineCharsMax = 16_384;

interface Request {
  suite: unknown;
  key: unknown;
  challenge: unknown;
  counter?: unknown;
  pin?: unknown;
  pinHash?: unknown;
  session?: unknown;
  timeStep?: unknown;
  time?: unknown;
}

function integerField(name: string, value: unknown): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return BigInt(value);
  throw new RangeError(`"${name}" expected a non-negative integer, got ${JSON.stringify(value)}`);
}

function parseTime(suite: OcraSuite, value: unknown): bigint {
  const text = typeof value === 'string' ? value : '';
  // Only full ISO 8601 timestamps with a zone: a local time would depend on the machine running the tool.
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`"time" expected an ISO 8601 time with a zone such as 2008-03-25T12:06:00Z, got ${JSON.stringify(value)}`);
  return BigInt(timeStepAt(suite, ms));
}

/** Turn one loosely typed request (from argv or NDJSON) into engine inputs; every failure names the field. */
export function computeRequest(request: Request): string {
  const suite = parseSuite(request.suite);
  const key = hexToBytesNamed('key', request.key, true);
  try {
    let challenge = request.challenge;
    if (Array.isArray(challenge) && challenge.length === 1) challenge = challenge[0];
    const inputs: { -readonly [K in keyof OcraInputs]: OcraInputs[K] } = { challenge: challenge as OcraInputs['challenge'] };
    if (request.counter !== undefined) inputs.counter = integerField('counter', request.counter);
    if (request.pin !== undefined) {
      if (typeof request.pin !== 'string') throw new TypeError(`"pin" expected a string, got ${typeof request.pin}`);
      inputs.pin = request.pin;
    }
    if (request.pinHash !== undefined) inputs.pinHash = hexToBytesNamed('pinHash', request.pinHash, true);
    if (request.session !== undefined) inputs.session = hexToBytesNamed('session', request.session);
    if (request.timeStep !== undefined && request.time !== undefined) throw new RangeError('"timeStep" and "time" given together; give one');
    if (request.timeStep !== undefined) inputs.timeStep = integerField('timeStep', request.timeStep);
    if (request.time !== undefined) inputs.timeStep = parseTime(suite, request.time);
    return ocra(suite, key, inputs);
  } finally {
    key.fill(0);
  }
}

async function runBatch(io: Io): Promise<number> {
  for await (const line of readLines(io.stdin, batchLineCharsMax)) {
    if (typeof line !== 'string') {
      write(io.stdout, JSON.stringify({ error: `request line of ${line.tooLong} characters is longer than ${batchLineCharsMax}` }));
      continue;
    }
    if (line.trim() === '') continue;
    let answer: { response: string } | { error: string };
    try {
      const request = JSON.parse(line) as unknown;
      if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new TypeError('request expected a JSON object');
      answer = { response: computeRequest(request as Request) };
    } catch (error) {
      if (!(error instanceof RangeError || error instanceof TypeError || error instanceof SyntaxError)) throw error;
      // V8's JSON.parse message quotes the line, and the line may hold a key: keep only the position.
      const position = error instanceof SyntaxError ? /position (\d+)/.exec(error.message)?.[1] : undefined;
      answer = { error: error instanceof SyntaxError ? `request is not JSON${position === undefined ? '' : ` (at position ${position})`}` : error.message };
    }
    write(io.stdout, JSON.stringify(answer));
  }
  return exitOk;
}

/** The secret options, in the order their `-` lines are read from stdin. */
const secretOrder = ['key', 'pin', 'pin-hash'] as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, {
    suite: { type: 'string' },
    key: { type: 'string' },
    challenge: { type: 'string', multiple: true },
    counter: { type: 'string' },
    pin: { type: 'string' },
    'pin-hash': { type: 'string' },
    session: { type: 'string' },
    'time-step': { type: 'string' },
    time: { type: 'string' },
    batch: { type: 'boolean' },
  });
  if (values.help) {
    write(io.stdout, help);
    return exitOk;
  }
  if (values.batch) {
    const extra = Object.keys(values).filter((name) => name !== 'batch');
    if (extra.length > 0) throw new UsageError(`--batch takes its requests on stdin, not --${extra[0]}`);
    return runBatch(io);
  }
  for (const name of ['suite', 'key', 'challenge'] as const) {
    if (values[name] === undefined) throw new UsageError(`--${name} is required (see dsc ocra --help)`);
  }
  const secrets = new SecretReader(io);
  const [key, pin, pinHash] = [await secrets.read(values, 'key', secretOrder, 'key'), await secrets.optional(values, 'pin', secretOrder), await secrets.optional(values, 'pin-hash', secretOrder)];
  const challenges = values.challenge!;
  if (challenges.length > 2) throw new UsageError(`--challenge given ${challenges.length} times; at most 2 (mutual challenge-response)`);
  try {
    const response = computeRequest({
      suite: values.suite,
      key,
      challenge: challenges.length === 2 ? challenges : challenges[0],
      counter: values.counter,
      pin,
      pinHash,
      session: values.session,
      timeStep: values['time-step'],
      time: values.time,
    });
    write(io.stdout, response);
    return exitOk;
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
}
