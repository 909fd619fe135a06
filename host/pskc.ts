/**
 * PSKC key containers (RFC 6030) for OCRA keys: read plain and encrypted containers (pre-shared AES-128 key,
 * or a PBKDF2 password; HMAC-SHA1 value MACs) and write them, so keys move to and from other OATH servers.
 *
 * OCRA is not one of RFC 6030's own profiles; keys are written with Algorithm
 * `urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1` and the suite in `<AlgorithmParameters><Suite>` (as libpskc
 * reads it), and on import any Algorithm naming OCRA is accepted, with the suite from `<Suite>` or from an
 * Algorithm ending in the suite itself. Other algorithms (HOTP, TOTP, PIN) are parsed and reported, so the
 * RFC's own examples round-trip, but only OCRA keys can be enrolled.
 */
import type { Element } from '@xmldom/xmldom';
import { aesBlockBytes, aesCbcDecrypt, aesCbcEncrypt, bytesEqual, hmacSha1, pbkdf2IterationsDefault, pbkdf2Sha1, PskcCryptoError } from './pskc-crypto.ts';
import { child, children, escapeXml, parseXmlSafely, textOf, XmlError } from './safe-xml.ts';

export const pskcNamespace = 'urn:ietf:params:xml:ns:keyprov:pskc';
export const ocraAlgorithm = `${pskcNamespace}#OCRA-1`;
const aes128Cbc = 'http://www.w3.org/2001/04/xmlenc#aes128-cbc';
const aes256Cbc = 'http://www.w3.org/2001/04/xmlenc#aes256-cbc';
const hmacSha1Uri = 'http://www.w3.org/2000/09/xmldsig#hmac-sha1';
const pbkdf2Uri = 'http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2';
export const pskcKeysMax = 10_000;

export class PskcError extends Error {
  override name = 'PskcError';
}

export interface PskcKey {
  readonly id: string;
  readonly algorithm: string;
  /** The OCRA suite, for OCRA keys. */
  readonly suite?: string;
  readonly serial?: string;
  readonly manufacturer?: string;
  readonly model?: string;
  readonly issuer?: string;
  /** The key in the clear: the caller wipes it. */
  readonly secret: Uint8Array;
  readonly counter?: number;
  readonly responseLength?: number;
  readonly checkDigits?: boolean;
}

export interface PskcDecryptKeys {
  /** The pre-shared AES key (RFC 6030 §6.1). */
  readonly presharedKey?: Uint8Array;
  /** The password for a PBKDF2-derived key (§6.2). */
  readonly password?: string;
}

export type PskcProtection =
  | { type: 'none' }
  | { type: 'preshared'; keyName: string; key: Uint8Array }
  | { type: 'password'; keyName: string; password: string; iterations?: number };

export function isOcra(key: PskcKey): boolean {
  return key.suite !== undefined;
}

function base64(text: string | undefined, what: string): Uint8Array {
  const clean = (text ?? '').replace(/\s+/g, '');
  if (clean === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) throw new PskcError(`${what}: expected base64, got ${JSON.stringify(clean.slice(0, 40))}`);
  return Uint8Array.from(Buffer.from(clean, 'base64'));
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

interface Decryptor {
  decrypt(encryptedValue: Element, what: string): Uint8Array;
  readonly macKey: Uint8Array | undefined;
}

function encryptionKey(container: Element, keys: PskcDecryptKeys): Uint8Array | undefined {
  const encryption = child(container, 'EncryptionKey');
  if (!encryption) return undefined;
  const derived = child(encryption, 'DerivedKey');
  if (derived) {
    const method = child(derived, 'KeyDerivationMethod');
    if (method?.getAttribute('Algorithm') !== pbkdf2Uri) throw new PskcError(`unsupported key derivation ${JSON.stringify(method?.getAttribute('Algorithm'))} (only PBKDF2)`);
    const params = child(method, 'PBKDF2-params');
    if (!params) throw new PskcError('PBKDF2 key derivation without PBKDF2-params');
    const prf = child(params, 'PRF')?.getAttribute('Algorithm');
    if (prf && prf !== 'http://www.w3.org/2000/09/xmldsig#hmac-sha1') throw new PskcError(`unsupported PBKDF2 PRF ${JSON.stringify(prf)} (only HMAC-SHA1)`);
    const salt = base64(textOf(child(child(params, 'Salt') ?? params, 'Specified')), 'PBKDF2 Salt');
    const iterations = Number(textOf(child(params, 'IterationCount')));
    const length = Number(textOf(child(params, 'KeyLength')));
    if (length !== 16 && length !== 32) throw new PskcError(`PBKDF2 KeyLength expected 16 or 32, got ${JSON.stringify(textOf(child(params, 'KeyLength')))}`);
    if (keys.password === undefined) throw new PskcError('the container is encrypted with a password (PBKDF2): give the password');
    return pbkdf2Sha1(keys.password, salt, iterations, length);
  }
  if (child(encryption, 'KeyName')) {
    if (!keys.presharedKey) throw new PskcError(`the container is encrypted with the pre-shared key ${JSON.stringify(textOf(child(encryption, 'KeyName')))}: give that key`);
    return keys.presharedKey.slice();
  }
  throw new PskcError('unsupported EncryptionKey (only a pre-shared ds:KeyName or a PBKDF2 DerivedKey)');
}

function decryptor(container: Element, keys: PskcDecryptKeys): Decryptor | undefined {
  const key = encryptionKey(container, keys);
  if (!key) return undefined;
  const decrypt = (encryptedValue: Element, what: string): Uint8Array => {
    const algorithm = child(encryptedValue, 'EncryptionMethod')?.getAttribute('Algorithm');
    if (algorithm !== aes128Cbc && algorithm !== aes256Cbc) throw new PskcError(`${what}: unsupported encryption ${JSON.stringify(algorithm)} (only AES-CBC)`);
    const cipher = base64(textOf(child(child(encryptedValue, 'CipherData') ?? encryptedValue, 'CipherValue')), `${what} CipherValue`);
    return aesCbcDecrypt(key, cipher, what);
  };
  const macMethod = child(container, 'MACMethod');
  let macKey: Uint8Array | undefined;
  if (macMethod) {
    if (macMethod.getAttribute('Algorithm') !== hmacSha1Uri) throw new PskcError(`unsupported MACMethod ${JSON.stringify(macMethod.getAttribute('Algorithm'))} (only HMAC-SHA1)`);
    const encryptedMacKey = child(macMethod, 'MACKey');
    if (!encryptedMacKey) throw new PskcError('MACMethod without MACKey');
    macKey = decrypt(encryptedMacKey, 'MACKey');
  }
  return { decrypt, macKey };
}

function secretOf(data: Element, crypt: Decryptor | undefined, keyId: string): Uint8Array {
  const secret = child(data, 'Secret');
  if (!secret) throw new PskcError(`key ${keyId}: no Secret`);
  const plain = child(secret, 'PlainValue');
  if (plain) return base64(textOf(plain), `key ${keyId} Secret`);
  const encrypted = child(secret, 'EncryptedValue');
  if (!encrypted) throw new PskcError(`key ${keyId}: Secret has neither PlainValue nor EncryptedValue`);
  if (!crypt) throw new PskcError(`key ${keyId}: Secret is encrypted but the container has no EncryptionKey`);
  const valueMac = child(secret, 'ValueMAC');
  if (crypt.macKey) {
    // RFC 6030 §6.1.1: the MAC covers the whole CipherValue (IV ‖ ciphertext), checked before decrypting.
    if (!valueMac) throw new PskcError(`key ${keyId}: encrypted Secret without ValueMAC`);
    const cipher = base64(textOf(child(child(encrypted, 'CipherData') ?? encrypted, 'CipherValue')), `key ${keyId} CipherValue`);
    if (!bytesEqual(hmacSha1(crypt.macKey, cipher), base64(textOf(valueMac), `key ${keyId} ValueMAC`))) {
      throw new PskcError(`key ${keyId}: ValueMAC does not match (altered container, or wrong key/password)`);
    }
  }
  return crypt.decrypt(encrypted, `key ${keyId} Secret`);
}

function suiteOf(key: Element): { algorithm: string; suite?: string } {
  const algorithm = key.getAttribute('Algorithm') ?? '';
  const suiteElement = textOf(child(child(key, 'AlgorithmParameters') ?? key, 'Suite'));
  const fromUri = /(OCRA-1:[A-Za-z0-9-]+:[A-Za-z0-9-]+)$/.exec(algorithm)?.[1];
  const named = /ocra/i.test(algorithm);
  const suite = suiteElement ?? fromUri;
  if (named && suite === undefined) throw new PskcError(`key ${key.getAttribute('Id')}: OCRA key without a suite`);
  return { algorithm, ...(named && suite !== undefined && { suite }) };
}

/**
 * Read every key of a PSKC container.
 * @example
 * const keys = parsePskc(readFileSync('keys.pskcxml', 'utf8'), { password: 'qwerty' });
 */
export function parsePskc(text: string, keys: PskcDecryptKeys = {}): PskcKey[] {
  try {
    const doc = parseXmlSafely(text, 'PSKC');
    const container = doc.documentElement!;
    if (container.localName !== 'KeyContainer' || container.namespaceURI !== pskcNamespace) {
      throw new PskcError(`root element expected KeyContainer in ${pskcNamespace}, got ${container.localName} in ${container.namespaceURI}`);
    }
    if (container.getAttribute('Version') !== '1.0') throw new PskcError(`KeyContainer Version expected "1.0", got ${JSON.stringify(container.getAttribute('Version'))}`);
    const crypt = decryptor(container, keys);
    const out: PskcKey[] = [];
    for (const keyPackage of children(container, 'KeyPackage')) {
      const device = child(keyPackage, 'DeviceInfo');
      for (const key of children(keyPackage, 'Key')) {
        if (out.length >= pskcKeysMax) throw new PskcError(`more than ${pskcKeysMax} keys`);
        const id = key.getAttribute('Id') ?? '';
        const data = child(key, 'Data');
        if (!data) throw new PskcError(`key ${id}: no Data`);
        const counterText = textOf(child(child(data, 'Counter') ?? data, 'PlainValue'));
        const counter = child(data, 'Counter') ? Number(counterText) : undefined;
        if (counter !== undefined && !(Number.isSafeInteger(counter) && counter >= 0)) throw new PskcError(`key ${id}: Counter expected a plain non-negative integer`);
        const params = child(key, 'AlgorithmParameters');
        const responseLength = params && child(params, 'ResponseFormat') ? Number(child(params, 'ResponseFormat')!.getAttribute('Length')) : undefined;
        const challengeFormat = params && child(params, 'ChallengeFormat');
        const serial = textOf(child(device ?? keyPackage, 'SerialNo'));
        const manufacturer = textOf(child(device ?? keyPackage, 'Manufacturer'));
        const model = textOf(child(device ?? keyPackage, 'Model'));
        const issuer = textOf(child(key, 'Issuer'));
        out.push({
          id, ...suiteOf(key), secret: secretOf(data, crypt, id),
          ...(serial !== undefined && { serial }), ...(manufacturer !== undefined && { manufacturer }), ...(model !== undefined && { model }),
          ...(issuer !== undefined && { issuer }), ...(counter !== undefined && { counter }),
          ...(responseLength !== undefined && Number.isFinite(responseLength) && { responseLength }),
          ...(challengeFormat && { checkDigits: challengeFormat.getAttribute('CheckDigits') === 'true' }),
        });
      }
    }
    crypt?.macKey?.fill(0);
    return out;
  } catch (error) {
    if (error instanceof XmlError || error instanceof PskcCryptoError) throw new PskcError(error.message);
    throw error;
  }
}

/**
 * Write keys as a PSKC container, plain or protected (AES-128-CBC, HMAC-SHA1 value MACs).
 * @example
 * writePskc([{ id: '1', algorithm: ocraAlgorithm, suite, secret, serial: '1' }], { type: 'password', keyName: 'K', password: 'qwerty' }, random);
 */
export function writePskc(keys: readonly PskcKey[], protection: PskcProtection, random: (bytes: number) => Uint8Array): string {
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<KeyContainer Version="1.0" xmlns="${pskcNamespace}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#">`);
  let encKey: Uint8Array | undefined;
  let macKey: Uint8Array | undefined;
  const cipherValue = (plaintext: Uint8Array) => toBase64(aesCbcEncrypt(encKey!, random(aesBlockBytes), plaintext));
  if (protection.type !== 'none') {
    if (protection.type === 'preshared') {
      if (protection.key.length !== 16) throw new PskcError(`pre-shared key expected 16 bytes (AES-128), got ${protection.key.length}`);
      encKey = protection.key.slice();
      lines.push(`  <EncryptionKey><ds:KeyName>${escapeXml(protection.keyName)}</ds:KeyName></EncryptionKey>`);
    } else {
      const salt = random(16);
      const iterations = protection.iterations ?? pbkdf2IterationsDefault;
      encKey = pbkdf2Sha1(protection.password, salt, iterations, 16);
      lines.push('  <EncryptionKey>', '    <xenc11:DerivedKey>',
        `      <xenc11:KeyDerivationMethod Algorithm="${pbkdf2Uri}">`,
        `        <pkcs5:PBKDF2-params><Salt><Specified>${toBase64(salt)}</Specified></Salt><IterationCount>${iterations}</IterationCount><KeyLength>16</KeyLength><PRF/></pkcs5:PBKDF2-params>`,
        '      </xenc11:KeyDerivationMethod>',
        `      <xenc11:MasterKeyName>${escapeXml(protection.keyName)}</xenc11:MasterKeyName>`,
        '    </xenc11:DerivedKey>', '  </EncryptionKey>');
    }
    macKey = random(20);
    lines.push(`  <MACMethod Algorithm="${hmacSha1Uri}"><MACKey><xenc:EncryptionMethod Algorithm="${aes128Cbc}"/><xenc:CipherData><xenc:CipherValue>${cipherValue(macKey)}</xenc:CipherValue></xenc:CipherData></MACKey></MACMethod>`);
  }
  for (const key of keys) {
    lines.push('  <KeyPackage>');
    if (key.serial !== undefined || key.manufacturer !== undefined || key.model !== undefined) {
      lines.push(`    <DeviceInfo>${key.manufacturer !== undefined ? `<Manufacturer>${escapeXml(key.manufacturer)}</Manufacturer>` : ''}${key.serial !== undefined ? `<SerialNo>${escapeXml(key.serial)}</SerialNo>` : ''}${key.model !== undefined ? `<Model>${escapeXml(key.model)}</Model>` : ''}</DeviceInfo>`);
    }
    lines.push(`    <Key Id="${escapeXml(key.id)}" Algorithm="${escapeXml(key.algorithm)}">`);
    if (key.issuer !== undefined) lines.push(`      <Issuer>${escapeXml(key.issuer)}</Issuer>`);
    if (key.suite !== undefined || key.responseLength !== undefined || key.checkDigits !== undefined) {
      lines.push(`      <AlgorithmParameters>${key.suite !== undefined ? `<Suite>${escapeXml(key.suite)}</Suite>` : ''}${key.checkDigits !== undefined ? `<ChallengeFormat Encoding="DECIMAL" Min="4" Max="16" CheckDigits="${key.checkDigits}"/>` : ''}${key.responseLength !== undefined ? `<ResponseFormat Length="${key.responseLength}" Encoding="DECIMAL"/>` : ''}</AlgorithmParameters>`);
    }
    lines.push('      <Data>');
    if (encKey && macKey) {
      const value = cipherValue(key.secret);
      const mac = toBase64(hmacSha1(macKey, base64(value, 'own CipherValue')));
      lines.push(`        <Secret><EncryptedValue><xenc:EncryptionMethod Algorithm="${aes128Cbc}"/><xenc:CipherData><xenc:CipherValue>${value}</xenc:CipherValue></xenc:CipherData></EncryptedValue><ValueMAC>${mac}</ValueMAC></Secret>`);
    } else {
      lines.push(`        <Secret><PlainValue>${toBase64(key.secret)}</PlainValue></Secret>`);
    }
    if (key.counter !== undefined) lines.push(`        <Counter><PlainValue>${key.counter}</PlainValue></Counter>`);
    lines.push('      </Data>', '    </Key>', '  </KeyPackage>');
  }
  lines.push('</KeyContainer>', '');
  encKey?.fill(0);
  macKey?.fill(0);
  return lines.join('\n');
}
