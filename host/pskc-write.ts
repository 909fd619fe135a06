/**
 * Writing a PSKC container (RFC 6030), plain or protected: AES-128-CBC (or AES-256-CBC with a 32-byte
 * pre-shared key) with HMAC-SHA1 value MACs, under a pre-shared key or a PBKDF2 password. Every value the
 * RFC lets a sender encrypt is encrypted with the secret: the counter, the time step and the PIN key's PIN.
 * Elements come in the order of the RFC's schema, so python-pskc and schema validators read it.
 */
import { aes128CbcUri, aes256CbcUri, encryptionAlgorithms, encryptValue, hmacKeyBytes, hmacOf, hmacSha1Uri, pbkdf2IterationsDefault, pbkdf2Key } from './pskc-crypto.ts';
import { pinAlgorithm, PskcError, pskcNamespace, type PskcKey } from './pskc-model.ts';
import { escapeXml } from './safe-xml.ts';

const pbkdf2Uri = 'http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2';

export type PskcProtection =
  | { type: 'none' }
  | { type: 'preshared'; keyName: string; key: Uint8Array }
  | { type: 'password'; keyName: string; password: string; iterations?: number };

export interface PskcWriteOptions {
  /** The MAC algorithm URI (HMAC-SHA1 unless told: every PSKC reader knows it). */
  readonly macAlgorithm?: string;
}

type Random = (bytes: number) => Uint8Array;

interface Sealer {
  /** The `<X>` content for a value: EncryptedValue + ValueMAC, or PlainValue. */
  value(plain: Uint8Array, plainText: string): string;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Big-endian bytes of a non-negative integer, at least one (RFC 6030 encrypts xs:long values this way). */
function integerBytes(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  do {
    out.unshift(rest % 256);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  return Uint8Array.from(out);
}

function header(protection: PskcProtection, random: Random, options: PskcWriteOptions, lines: string[]): { sealer: Sealer; wipe: () => void } {
  if (protection.type === 'none') return { sealer: { value: (_plain, text) => `<PlainValue>${text}</PlainValue>` }, wipe: () => {} };
  let encKey: Uint8Array;
  let encUri = aes128CbcUri;
  if (protection.type === 'preshared') {
    if (protection.key.length !== 16 && protection.key.length !== 32) throw new PskcError(`pre-shared key expected 16 bytes (AES-128) or 32 bytes (AES-256), got ${protection.key.length}`);
    encKey = protection.key.slice();
    if (encKey.length === 32) encUri = aes256CbcUri;
    lines.push(`  <EncryptionKey><ds:KeyName>${escapeXml(protection.keyName)}</ds:KeyName></EncryptionKey>`);
  } else {
    const salt = random(16);
    const iterations = protection.iterations ?? pbkdf2IterationsDefault;
    encKey = pbkdf2Key(protection.password, salt, iterations, 16);
    lines.push('  <EncryptionKey>', '    <xenc11:DerivedKey>',
      `      <xenc11:KeyDerivationMethod Algorithm="${pbkdf2Uri}">`,
      `        <pkcs5:PBKDF2-params><Salt><Specified>${b64(salt)}</Specified></Salt><IterationCount>${iterations}</IterationCount><KeyLength>16</KeyLength></pkcs5:PBKDF2-params>`,
      '      </xenc11:KeyDerivationMethod>',
      `      <xenc11:MasterKeyName>${escapeXml(protection.keyName)}</xenc11:MasterKeyName>`,
      '    </xenc11:DerivedKey>', '  </EncryptionKey>');
  }
  const algorithm = encryptionAlgorithms[encUri]!;
  const macUri = options.macAlgorithm ?? hmacSha1Uri;
  const macKey = random(hmacKeyBytes(macUri));
  const encrypted = (plain: Uint8Array) => b64(encryptValue(algorithm, encKey, plain, random));
  const method = `<xenc:EncryptionMethod Algorithm="${encUri}"/>`;
  lines.push(`  <MACMethod Algorithm="${macUri}"><MACKey>${method}<xenc:CipherData><xenc:CipherValue>${encrypted(macKey)}</xenc:CipherValue></xenc:CipherData></MACKey></MACMethod>`);
  return {
    sealer: {
      value(plain) {
        const value = encrypted(plain);
        const mac = b64(hmacOf(macUri, macKey, Uint8Array.from(Buffer.from(value, 'base64'))));
        return `<EncryptedValue>${method}<xenc:CipherData><xenc:CipherValue>${value}</xenc:CipherValue></xenc:CipherData></EncryptedValue><ValueMAC>${mac}</ValueMAC>`;
      },
    },
    wipe: () => {
      encKey.fill(0);
      macKey.fill(0);
    },
  };
}

function deviceInfo(key: PskcKey): string {
  const parts = [
    key.manufacturer !== undefined ? `<Manufacturer>${escapeXml(key.manufacturer)}</Manufacturer>` : '',
    key.serial !== undefined ? `<SerialNo>${escapeXml(key.serial)}</SerialNo>` : '',
    key.model !== undefined ? `<Model>${escapeXml(key.model)}</Model>` : '',
  ].join('');
  return parts === '' ? '' : `    <DeviceInfo>${parts}</DeviceInfo>\n`;
}

function algorithmParameters(key: PskcKey): string {
  const challenge = key.checkDigits !== undefined || key.challengeMin !== undefined || key.challengeMax !== undefined
    ? `<ChallengeFormat Encoding="DECIMAL"${key.challengeMin !== undefined ? ` Min="${key.challengeMin}"` : ''}${key.challengeMax !== undefined ? ` Max="${key.challengeMax}"` : ''}${key.checkDigits !== undefined ? ` CheckDigits="${key.checkDigits}"` : ''}/>` : '';
  const response = key.responseLength !== undefined ? `<ResponseFormat Length="${key.responseLength}" Encoding="DECIMAL"/>` : '';
  const suite = key.suite !== undefined ? `<Suite>${escapeXml(key.suite)}</Suite>` : '';
  return suite + challenge + response === '' ? '' : `      <AlgorithmParameters>${suite}${challenge}${response}</AlgorithmParameters>\n`;
}

function policy(key: PskcKey, pinKeyId: string | undefined): string {
  const p = key.pinPolicy;
  const pinPolicy = p ? `<PINPolicy${key.pin !== undefined && pinKeyId ? ` PINKeyId="${escapeXml(pinKeyId)}"` : ''} PINUsageMode="${p.usage}"${p.maxFailedAttempts !== undefined ? ` MaxFailedAttempts="${p.maxFailedAttempts}"` : ''}${p.minLength !== undefined ? ` MinLength="${p.minLength}"` : ''}${p.maxLength !== undefined ? ` MaxLength="${p.maxLength}"` : ''}${p.encoding !== undefined ? ` PINEncoding="${escapeXml(p.encoding)}"` : ''}/>` : '';
  const body = [
    key.startDate !== undefined ? `<StartDate>${escapeXml(key.startDate)}</StartDate>` : '',
    key.expiryDate !== undefined ? `<ExpiryDate>${escapeXml(key.expiryDate)}</ExpiryDate>` : '',
    pinPolicy,
    ...(key.keyUsage ?? []).map((u) => `<KeyUsage>${escapeXml(u)}</KeyUsage>`),
  ].join('');
  return body === '' ? '' : `      <Policy>${body}</Policy>\n`;
}

function keyPackage(key: PskcKey, sealer: Sealer, pinKeyId: string | undefined): string {
  let xml = `  <KeyPackage>\n${deviceInfo(key)}    <Key Id="${escapeXml(key.id)}" Algorithm="${escapeXml(key.algorithm)}">\n`;
  if (key.issuer !== undefined) xml += `      <Issuer>${escapeXml(key.issuer)}</Issuer>\n`;
  xml += algorithmParameters(key);
  xml += `      <Data>\n        <Secret>${sealer.value(key.secret, b64(key.secret))}</Secret>\n`;
  if (key.counter !== undefined) xml += `        <Counter>${sealer.value(integerBytes(key.counter), String(key.counter))}</Counter>\n`;
  if (key.timeInterval !== undefined) xml += `        <TimeInterval>${sealer.value(integerBytes(key.timeInterval), String(key.timeInterval))}</TimeInterval>\n`;
  xml += '      </Data>\n';
  if (key.userId !== undefined) xml += `      <UserId>${escapeXml(key.userId)}</UserId>\n`;
  xml += policy(key, pinKeyId);
  return `${xml}    </Key>\n  </KeyPackage>`;
}

/** RFC 6030 §10.2's PIN key: its own KeyPackage on the same device, the PIN as its secret. */
function pinPackage(key: PskcKey, pinKeyId: string, sealer: Sealer): string {
  const pin = Buffer.from(key.pin!, 'utf8');
  try {
    return keyPackage({ id: pinKeyId, algorithm: pinAlgorithm, secret: pin, ...(key.serial !== undefined && { serial: key.serial }), ...(key.manufacturer !== undefined && { manufacturer: key.manufacturer }), ...(key.model !== undefined && { model: key.model }), ...(key.issuer !== undefined && { issuer: key.issuer }), responseLength: key.pin!.length }, sealer, undefined);
  } finally {
    pin.fill(0);
  }
}

/**
 * Write keys as a PSKC container. A key with a `pin` and a `pinPolicy` gets a PIN key beside it (Id `<id>-pin`).
 * @example
 * writePskc([{ id: '1', algorithm: ocraUrn, suite, secret, serial: '1' }], { type: 'password', keyName: 'K', password: 'qwerty' }, random);
 */
export function writePskc(keys: readonly PskcKey[], protection: PskcProtection, random: Random, options: PskcWriteOptions = {}): string {
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<KeyContainer Version="1.0" xmlns="${pskcNamespace}" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#">`);
  const { sealer, wipe } = header(protection, random, options, lines);
  try {
    for (const key of keys) {
      const pinKeyId = key.pin !== undefined && key.pinPolicy ? `${key.id}-pin` : undefined;
      lines.push(keyPackage(key, sealer, pinKeyId));
      if (pinKeyId) lines.push(pinPackage(key, pinKeyId, sealer));
    }
  } finally {
    wipe();
  }
  lines.push('</KeyContainer>', '');
  return lines.join('\n');
}
