/**
 * Reading a PSKC container (RFC 6030). Container-level problems (not XML, wrong root, a key it cannot derive)
 * throw `PskcError`; a problem with one key becomes a `PskcSkipped` entry naming the key and the field, so the
 * caller decides between all-or-nothing and `--skip-unsupported`. Every encrypted value RFC 6030 allows is
 * read (Secret, Counter, Time, TimeInterval, TimeDrift, and PIN keys' secrets), each checked against its
 * ValueMAC before it is decrypted.
 */
import type { Element } from '@xmldom/xmldom';
import { equalBytes } from '../firmware/compare.ts';
import { decryptValue, encryptionAlgorithms, hmacOf, pbkdf2IterationsWarnBelow, pbkdf2Key, PskcCryptoError, type Encryption } from './pskc-crypto.ts';
import { pinAlgorithm, PskcError, PskcKeyError, pskcKeysMax, pskcNamespace, type PinPolicy, type PinUsageMode, type PskcDecryptKeys, type PskcKey } from './pskc-model.ts';
import { child, children, parseXmlSafely, textOf, XmlError } from './safe-xml.ts';

const pbkdf2Uri = 'http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2';
const pinUsageModes: readonly PinUsageMode[] = ['Local', 'Prepend', 'Append', 'Algorithmic'];

export interface PskcSkipped {
  readonly id: string;
  readonly field: string;
  readonly reason: string;
}

export interface PskcRead {
  /** Every key read, OCRA or not, PIN keys excluded (their PIN is on the key that points to them). */
  readonly keys: PskcKey[];
  /** Keys that could not be read, in file order. */
  readonly skipped: PskcSkipped[];
  /** Things accepted with a doubt (a weak PBKDF2 iteration count). */
  readonly warnings: string[];
}

function base64(text: string | undefined, what: () => PskcKeyError | PskcError): Uint8Array {
  const clean = (text ?? '').replace(/\s+/g, '');
  if (clean === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) throw what();
  return Uint8Array.from(Buffer.from(clean, 'base64'));
}

interface Crypt {
  readonly key: Uint8Array;
  readonly macKey: Uint8Array | undefined;
  readonly macAlgorithm: string | undefined;
  readonly allowNoMac: boolean;
}

function algorithmOf(encryptedValue: Element, what: string, keyId: string, field: string): Encryption {
  const uri = child(encryptedValue, 'EncryptionMethod')?.getAttribute('Algorithm') ?? '';
  const algorithm = encryptionAlgorithms[uri];
  if (!algorithm) throw new PskcKeyError(keyId, field, `unsupported encryption ${JSON.stringify(uri)} (AES-128/192/256-CBC or AES key wrap)${what}`);
  return algorithm;
}

function cipherValueOf(encryptedValue: Element, keyId: string, field: string): Uint8Array {
  return base64(textOf(child(child(encryptedValue, 'CipherData') ?? encryptedValue, 'CipherValue')), () => new PskcKeyError(keyId, `${field} CipherValue`, 'expected base64'));
}

function derivedKey(derived: Element, keys: PskcDecryptKeys, warnings: string[]): Uint8Array {
  const method = child(derived, 'KeyDerivationMethod');
  if (method?.getAttribute('Algorithm') !== pbkdf2Uri) throw new PskcError(`EncryptionKey: unsupported key derivation ${JSON.stringify(method?.getAttribute('Algorithm'))} (only PBKDF2)`);
  const params = child(method, 'PBKDF2-params');
  if (!params) throw new PskcError('EncryptionKey: PBKDF2 key derivation without PBKDF2-params');
  const prf = child(params, 'PRF')?.getAttribute('Algorithm') || undefined;
  const salt = base64(textOf(child(child(params, 'Salt') ?? params, 'Specified')), () => new PskcError('EncryptionKey PBKDF2 Salt: expected base64'));
  const iterationText = textOf(child(params, 'IterationCount')) ?? '';
  const iterations = /^\d{1,9}$/.test(iterationText) ? Number(iterationText) : Number.NaN;
  const lengthText = textOf(child(params, 'KeyLength'));
  const length = Number(lengthText);
  if (length !== 16 && length !== 24 && length !== 32) throw new PskcError(`EncryptionKey PBKDF2 KeyLength expected 16, 24 or 32, got ${JSON.stringify(lengthText)}`);
  if (keys.password === undefined) throw new PskcError('the container is encrypted with a password (PBKDF2): give the password');
  if (iterations < pbkdf2IterationsWarnBelow) warnings.push(`PBKDF2 IterationCount ${iterations} is below ${pbkdf2IterationsWarnBelow}: the password is cheap to guess from this file; re-encrypt it or delete it after import`);
  return pbkdf2Key(keys.password, salt, iterations, length, prf);
}

function encryptionKey(container: Element, keys: PskcDecryptKeys, warnings: string[]): Uint8Array | undefined {
  const encryption = child(container, 'EncryptionKey');
  if (!encryption) return undefined;
  const derived = child(encryption, 'DerivedKey');
  if (derived) return derivedKey(derived, keys, warnings);
  if (child(encryption, 'KeyName')) {
    if (!keys.presharedKey) throw new PskcError(`the container is encrypted with the pre-shared key ${JSON.stringify(textOf(child(encryption, 'KeyName')))}: give that key`);
    return keys.presharedKey.slice();
  }
  throw new PskcError('EncryptionKey: unsupported (only a pre-shared ds:KeyName or a PBKDF2 DerivedKey)');
}

function cryptOf(container: Element, keys: PskcDecryptKeys, warnings: string[]): Crypt | undefined {
  const key = encryptionKey(container, keys, warnings);
  if (!key) return undefined;
  const macMethod = child(container, 'MACMethod');
  let macKey: Uint8Array | undefined;
  let macAlgorithm: string | undefined;
  // python-pskc writes an empty MACMethod (a MAC key, no Algorithm) beside key wrap, which needs no MAC: a
  // method without an algorithm can check nothing, so it is read as no MAC at all.
  if (macMethod && macMethod.getAttribute('Algorithm')) {
    macAlgorithm = macMethod.getAttribute('Algorithm')!;
    const encryptedMacKey = child(macMethod, 'MACKey');
    if (!encryptedMacKey) throw new PskcError('MACMethod without MACKey');
    try {
      hmacOf(macAlgorithm, new Uint8Array(1), new Uint8Array(0));
      macKey = decryptValue(algorithmOf(encryptedMacKey, '', 'MACMethod', 'MACKey'), key, cipherValueOf(encryptedMacKey, 'MACMethod', 'MACKey'), 'MACKey');
    } catch (error) {
      throw new PskcError(`MACMethod: ${(error as Error).message}`);
    }
  }
  return { key, macKey, macAlgorithm, allowNoMac: keys.allowNoMac === true };
}

/** A value element's bytes: PlainValue, or EncryptedValue checked against its ValueMAC and decrypted. */
function valueBytes(element: Element, crypt: Crypt | undefined, keyId: string, field: string): { bytes: Uint8Array; plain: string | undefined } {
  const plain = child(element, 'PlainValue');
  if (plain) return { bytes: new Uint8Array(0), plain: textOf(plain) ?? '' };
  const encrypted = child(element, 'EncryptedValue');
  if (!encrypted) throw new PskcKeyError(keyId, field, 'neither PlainValue nor EncryptedValue');
  if (!crypt) throw new PskcKeyError(keyId, field, 'encrypted, but the container has no EncryptionKey');
  const algorithm = algorithmOf(encrypted, '', keyId, field);
  const cipher = cipherValueOf(encrypted, keyId, field);
  const valueMac = child(element, 'ValueMAC');
  if (crypt.macKey && valueMac) {
    // RFC 6030 §6.1.1: the MAC covers the whole CipherValue (IV ‖ ciphertext), checked before decrypting.
    const given = base64(textOf(valueMac), () => new PskcKeyError(keyId, `${field} ValueMAC`, 'expected base64'));
    if (!equalBytes(hmacOf(crypt.macAlgorithm!, crypt.macKey, cipher), given)) throw new PskcKeyError(keyId, `${field} ValueMAC`, 'does not match (altered container, or wrong key or password)');
  } else if (algorithm.mode === 'cbc' && !crypt.allowNoMac) {
    // Without a MAC a wrong key decrypts to garbage with valid padding about 1 time in 256.
    throw new PskcKeyError(keyId, field, `CBC-encrypted without a ${crypt.macKey ? 'ValueMAC' : 'MACMethod'} (RFC 6030 §6.1.1 makes the MAC a MUST; --allow-no-mac accepts it)`);
  }
  try {
    return { bytes: decryptValue(algorithm, crypt.key, cipher, field), plain: undefined };
  } catch (error) {
    if (error instanceof PskcCryptoError) throw new PskcKeyError(keyId, field, error.message.replace(`${field}: `, ''));
    throw error;
  }
}

function secretOf(data: Element, crypt: Crypt | undefined, keyId: string): Uint8Array {
  const secret = child(data, 'Secret');
  if (!secret) throw new PskcKeyError(keyId, 'Data/Secret', 'missing');
  const value = valueBytes(secret, crypt, keyId, 'Data/Secret');
  return value.plain === undefined ? value.bytes : base64(value.plain, () => new PskcKeyError(keyId, 'Data/Secret', 'expected base64'));
}

/** An xs:long / xs:int value, plain (decimal text) or encrypted (big-endian bytes). */
function integerOf(data: Element, name: string, crypt: Crypt | undefined, keyId: string): number | undefined {
  const element = child(data, name);
  if (!element) return undefined;
  const field = `Data/${name}`;
  const value = valueBytes(element, crypt, keyId, field);
  let result: number;
  if (value.plain !== undefined) {
    if (!/^-?\d{1,20}$/.test(value.plain)) throw new PskcKeyError(keyId, field, 'expected an integer');
    result = Number(value.plain);
  } else {
    if (value.bytes.length === 0 || value.bytes.length > 8) throw new PskcKeyError(keyId, field, `encrypted value of ${value.bytes.length} bytes (expected 1 to 8, big-endian)`);
    result = value.bytes.reduce((sum, byte) => sum * 256 + byte, 0);
  }
  if (!Number.isSafeInteger(result)) throw new PskcKeyError(keyId, field, `${value.plain ?? 'the value'} is beyond 2^53`);
  return result;
}

function booleanOf(text: string | null, keyId: string, field: string): boolean | undefined {
  if (text === null || text === '') return undefined;
  const value = text.trim();
  if (value === 'true' || value === '1') return true; // xs:boolean allows both spellings
  if (value === 'false' || value === '0') return false;
  throw new PskcKeyError(keyId, field, `expected true, false, 1 or 0, got ${JSON.stringify(text)}`);
}

function smallInteger(text: string | null, keyId: string, field: string): number | undefined {
  if (text === null || text === '') return undefined;
  if (!/^\d{1,6}$/.test(text.trim())) throw new PskcKeyError(keyId, field, `expected a small non-negative integer, got ${JSON.stringify(text.slice(0, 20))}`);
  return Number(text.trim());
}

function suiteOf(key: Element, keyId: string): string | undefined {
  const algorithm = key.getAttribute('Algorithm') ?? '';
  const suiteElement = textOf(child(child(key, 'AlgorithmParameters') ?? key, 'Suite'));
  const fromUri = /(OCRA-1:[A-Za-z0-9-]+:[A-Za-z0-9-]+)$/.exec(algorithm)?.[1];
  if (!/ocra/i.test(algorithm)) return undefined;
  const suite = suiteElement || fromUri;
  if (suite === undefined) throw new PskcKeyError(keyId, 'AlgorithmParameters/Suite', 'an OCRA key without a suite');
  return suite;
}

function pinPolicyOf(policy: Element | undefined, keyId: string): { policy?: PinPolicy; pinKeyId?: string } {
  const element = policy && child(policy, 'PINPolicy');
  if (!element) return {};
  const usage = element.getAttribute('PINUsageMode') ?? 'Local';
  if (!(pinUsageModes as readonly string[]).includes(usage)) throw new PskcKeyError(keyId, 'Policy/PINPolicy PINUsageMode', `expected ${pinUsageModes.join(', ')}, got ${JSON.stringify(usage)}`);
  const minLength = smallInteger(element.getAttribute('MinLength'), keyId, 'Policy/PINPolicy MinLength');
  const maxLength = smallInteger(element.getAttribute('MaxLength'), keyId, 'Policy/PINPolicy MaxLength');
  const maxFailedAttempts = smallInteger(element.getAttribute('MaxFailedAttempts'), keyId, 'Policy/PINPolicy MaxFailedAttempts');
  const encoding = element.getAttribute('PINEncoding') || undefined;
  const pinKeyId = element.getAttribute('PINKeyId') || undefined;
  return {
    policy: { usage: usage as PinUsageMode, ...(minLength !== undefined && { minLength }), ...(maxLength !== undefined && { maxLength }), ...(maxFailedAttempts !== undefined && { maxFailedAttempts }), ...(encoding && { encoding }) },
    ...(pinKeyId && { pinKeyId }),
  };
}

interface RawKey {
  readonly key: PskcKey;
  readonly pinKeyId?: string;
}

function readKey(key: Element, device: Element | undefined, crypt: Crypt | undefined): RawKey {
  const id = key.getAttribute('Id') ?? '';
  const data = child(key, 'Data');
  if (!data) throw new PskcKeyError(id, 'Data', 'missing');
  const suite = suiteOf(key, id);
  const params = child(key, 'AlgorithmParameters');
  const responseFormat = params && child(params, 'ResponseFormat');
  const challengeFormat = params && child(params, 'ChallengeFormat');
  const responseLength = smallInteger(responseFormat?.getAttribute('Length') ?? null, id, 'AlgorithmParameters/ResponseFormat Length');
  if (suite !== undefined && responseLength !== undefined) {
    const digits = /^OCRA-1:HOTP-SHA\d+-(\d+):/.exec(suite)?.[1];
    if (digits !== undefined && Number(digits) !== 0 && Number(digits) !== responseLength) {
      throw new PskcKeyError(id, 'AlgorithmParameters/ResponseFormat Length', `${responseLength} contradicts the suite ${suite}, which answers with ${digits} digits`);
    }
  }
  const checkDigits = booleanOf(challengeFormat?.getAttribute('CheckDigits') ?? null, id, 'AlgorithmParameters/ChallengeFormat CheckDigits');
  const challengeMin = smallInteger(challengeFormat?.getAttribute('Min') ?? null, id, 'AlgorithmParameters/ChallengeFormat Min');
  const challengeMax = smallInteger(challengeFormat?.getAttribute('Max') ?? null, id, 'AlgorithmParameters/ChallengeFormat Max');
  const policy = child(key, 'Policy');
  const { policy: pinPolicy, pinKeyId } = pinPolicyOf(policy, id);
  const keyUsage = policy ? children(policy, 'KeyUsage').map((e) => textOf(e) ?? '').filter((u) => u !== '') : [];
  const text = (parent: Element | undefined, name: string) => (parent ? textOf(child(parent, name)) || undefined : undefined);
  const startDate = text(policy, 'StartDate') ?? text(device, 'StartDate');
  const expiryDate = text(policy, 'ExpiryDate') ?? text(device, 'ExpiryDate');
  for (const [field, value] of [['StartDate', startDate], ['ExpiryDate', expiryDate]] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value))) throw new PskcKeyError(id, `Policy/${field}`, `expected an xs:dateTime, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  const counter = integerOf(data, 'Counter', crypt, id);
  if (counter !== undefined && counter < 0) throw new PskcKeyError(id, 'Data/Counter', 'negative');
  const timeInterval = integerOf(data, 'TimeInterval', crypt, id);
  integerOf(data, 'Time', crypt, id);
  integerOf(data, 'TimeDrift', crypt, id);
  const secret = secretOf(data, crypt, id);
  const fields: Record<string, unknown> = {
    suite, serial: text(device, 'SerialNo'), manufacturer: text(device, 'Manufacturer'), model: text(device, 'Model'),
    issuer: text(key, 'Issuer'), userId: text(key, 'UserId') ?? text(device, 'UserId'), startDate, expiryDate, counter, timeInterval,
    responseLength, checkDigits, challengeMin, challengeMax, pinPolicy, ...(keyUsage.length > 0 && { keyUsage }),
  };
  for (const name of Object.keys(fields)) if (fields[name] === undefined) delete fields[name];
  return { key: { id, algorithm: key.getAttribute('Algorithm') ?? '', secret, ...fields } as PskcKey, ...(pinKeyId && { pinKeyId }) };
}

function decodePin(secret: Uint8Array, keyId: string): string {
  const pin = Buffer.from(secret).toString('utf8');
  secret.fill(0);
  if (!/^\d{1,16}$/.test(pin)) throw new PskcKeyError(keyId, 'Data/Secret', 'a PIN key whose secret is not a decimal PIN');
  return pin;
}

/**
 * Read every key of a PSKC container, per key: a bad key is listed in `skipped`, never half-read.
 * @example
 * const { keys, skipped, warnings } = readPskc(readFileSync('keys.pskcxml', 'utf8'), { password: 'qwerty' });
 */
export function readPskc(input: string, keys: PskcDecryptKeys = {}): PskcRead {
  // A UTF-8 byte order mark is allowed before the XML declaration (XML 1.0 §4.3.3); Windows tools write one.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const warnings: string[] = [];
  let crypt: Crypt | undefined;
  try {
    const doc = parseXmlSafely(text, 'PSKC');
    const container = doc.documentElement!;
    if (container.localName !== 'KeyContainer' || container.namespaceURI !== pskcNamespace) {
      throw new PskcError(`root element expected KeyContainer in ${pskcNamespace}, got ${container.localName} in ${container.namespaceURI}`);
    }
    if (container.getAttribute('Version') !== '1.0') throw new PskcError(`KeyContainer Version expected "1.0", got ${JSON.stringify(container.getAttribute('Version'))}`);
    crypt = cryptOf(container, keys, warnings);
    const raws: RawKey[] = [];
    const skipped: PskcSkipped[] = [];
    let count = 0;
    for (const keyPackage of children(container, 'KeyPackage')) {
      const device = child(keyPackage, 'DeviceInfo');
      for (const key of children(keyPackage, 'Key')) {
        if (++count > pskcKeysMax) throw new PskcError(`more than ${pskcKeysMax} keys`);
        try {
          raws.push(readKey(key, device, crypt));
        } catch (error) {
          if (!(error instanceof PskcKeyError)) throw error;
          skipped.push({ id: error.keyId, field: error.field, reason: error.message });
        }
      }
    }
    return { ...resolvePins(raws, skipped), warnings };
  } catch (error) {
    if (error instanceof XmlError || error instanceof PskcCryptoError) throw new PskcError(error.message);
    throw error;
  } finally {
    crypt?.key.fill(0);
    crypt?.macKey?.fill(0);
  }
}

/** Attach each PIN key's PIN to the keys whose PINPolicy points to it; the PIN keys themselves are consumed. */
function resolvePins(raws: readonly RawKey[], skippedIn: readonly PskcSkipped[]): { keys: PskcKey[]; skipped: PskcSkipped[] } {
  const skipped = [...skippedIn];
  const pinKeys = new Map(raws.filter((r) => r.key.algorithm === pinAlgorithm).map((r) => [r.key.id, r.key]));
  const used = new Set<string>();
  const keys: PskcKey[] = [];
  for (const raw of raws) {
    if (raw.key.algorithm === pinAlgorithm) continue;
    if (raw.pinKeyId === undefined) {
      keys.push(raw.key);
      continue;
    }
    const pinKey = pinKeys.get(raw.pinKeyId);
    const failed = skipped.find((s) => s.id === raw.pinKeyId);
    if (!pinKey) {
      raw.key.secret.fill(0);
      skipped.push({ id: raw.key.id, field: 'Policy/PINPolicy PINKeyId', reason: `key ${JSON.stringify(raw.key.id)} Policy/PINPolicy PINKeyId: ${failed ? `its PIN key could not be read (${failed.reason})` : `no PIN key ${JSON.stringify(raw.pinKeyId)} in the container`}` });
      continue;
    }
    used.add(raw.pinKeyId);
    try {
      keys.push({ ...raw.key, pin: decodePin(pinKey.secret.slice(), pinKey.id) });
    } catch (error) {
      if (!(error instanceof PskcKeyError)) throw error;
      raw.key.secret.fill(0);
      skipped.push({ id: raw.key.id, field: 'Policy/PINPolicy PINKeyId', reason: error.message });
    }
  }
  for (const pinKey of pinKeys.values()) {
    pinKey.secret.fill(0);
    // A PIN key no other key points to is a key of its own, which this host cannot use.
    if (!used.has(pinKey.id)) skipped.push({ id: pinKey.id, field: 'Algorithm', reason: `key ${JSON.stringify(pinKey.id)} Algorithm: a PIN key no key's PINPolicy points to` });
  }
  return { keys, skipped };
}

/**
 * Read every key of a PSKC container, all or nothing: the first bad key throws, naming the key and the field.
 * @example
 * const keys = parsePskc(readFileSync('keys.pskcxml', 'utf8'), { password: 'qwerty' });
 */
export function parsePskc(text: string, keys: PskcDecryptKeys = {}): PskcKey[] {
  const read = readPskc(text, keys);
  const first = read.skipped[0];
  if (first) {
    for (const key of read.keys) key.secret.fill(0);
    throw new PskcKeyError(first.id, first.field, first.reason.replace(/^key "[^"]*" [^:]*: /, ''));
  }
  return read.keys;
}
