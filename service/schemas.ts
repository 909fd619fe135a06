/**
 * The API's shapes, as TypeBox schemas: the server validates every request with them (fastify's Ajv, no type
 * coercion, no unknown fields) and /openapi.json is generated from the same objects, so the published contract
 * and the checks cannot drift apart.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { pinDigits } from '../firmware/types.ts';
import { amountUsdMax, deviceKinds } from '../host/index.ts';
import { pskcKeysMax } from '../host/pskc-model.ts';
import { xmlCharsMax } from '../host/safe-xml.ts';
import { serialCharsMax, userCharsMax } from '../host/validate.ts';

const namePattern = '^[A-Za-z0-9._@+-]+$';
export const User = Type.String({ minLength: 1, maxLength: userCharsMax, pattern: namePattern, description: 'the login name' });
export const Serial = Type.String({ minLength: 1, maxLength: serialCharsMax, pattern: namePattern, description: "a device's serial" });
/** Challenges are digits (an OCRA question, with its check digit) or a code card's two positions (`012-147`). */
export const Challenge = Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9][0-9-]*$', description: 'the challenge as shown' });
export const Response = Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9]+$', description: "the card's answer (digits)" });
export const Pin = Type.String({ pattern: `^[0-9]{${pinDigits}}$`, description: `a ${pinDigits}-digit PIN` });
export const AmountUsd = Type.Integer({ minimum: 1, maximum: amountUsdMax, description: 'whole US dollars' });
export const Kind = Type.Union(deviceKinds.map((k) => Type.Literal(k)));
const Purpose = Type.Union([Type.Literal('login'), Type.Literal('pin-change'), Type.Literal('withdrawal')]);

export const PublicDevice = Type.Object({
  serial: Serial,
  kind: Kind,
  profile: Type.String(),
  locked: Type.Boolean(),
}, { additionalProperties: false });

export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  instance: Type.Optional(Type.String()),
  ok: Type.Literal(false),
  reason: Type.String({ description: 'the same words dsc host prints: wrong response, expired, already used, locked, …' }),
  retryAfterMs: Type.Optional(Type.Integer()),
  serial: Type.Optional(Type.String()),
  locked: Type.Optional(Type.Boolean()),
  devices: Type.Optional(Type.Array(PublicDevice)),
}, { description: 'RFC 9457 problem document' });

const strict = { additionalProperties: false } as const;

export const Password = Type.String({ minLength: 1, maxLength: 256, description: "the user's password (the first factor)" });
/** A session token from a login: 32 random bytes in hex, shown once. */
export const SessionToken = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'the session token a login returned' });
export const Session = Type.Object({ token: SessionToken, expiresMs: Type.Integer() });

export const LoginStartBody = Type.Object({ user: User, password: Password, device: Type.Optional(Serial) }, strict);
export const Issued = Type.Object({
  challenge: Type.String(),
  device: Type.String({ description: 'the serial of the device that must answer' }),
  expiresAtMs: Type.Integer(),
  indexes: Type.Optional(Type.Array(Type.Integer(), { minItems: 2, maxItems: 2, description: 'Security Code Card: the two positions asked' })),
});
export const LoginStartReply = Type.Composite([Issued, Type.Object({ devices: Type.Array(PublicDevice) })]);

export const VerifyBody = Type.Object({ user: User, challenge: Challenge, response: Response }, strict);
export const VerifyOk = Type.Object({
  ok: Type.Literal(true),
  device: Type.String(),
  purpose: Purpose,
  amountUsd: Type.Optional(Type.Integer()),
  session: Type.Optional(Session),
});

export const PinChangeStartBody = Type.Object({ user: User, session: SessionToken, device: Type.Optional(Serial), newPin: Pin, confirmPin: Pin }, strict);
export const WithdrawalStartBody = Type.Object({ user: User, session: SessionToken, amountUsd: AmountUsd, device: Type.Optional(Serial) }, strict);
export const WithdrawalStartReply = Type.Composite([Issued, Type.Object({ amountUsd: Type.Integer() })]);

const Limit = Type.Object({
  kind: Kind,
  dailyUsd: Type.Union([Type.Integer(), Type.Null()], { description: 'null: unlimited' }),
  fiveBusinessDaysUsd: Type.Union([Type.Integer(), Type.Null()], { description: 'null: unlimited' }),
});
export const LimitsReply = Type.Object({ limits: Type.Array(Limit) });

/** A temporary code as support reads it out: 10 characters without 0/O and 1/I. */
export const TempCodeText = Type.String({ pattern: '^[2-9A-HJ-NP-Z]{10}$', description: 'the temporary code support gave' });
export const TempCodeCheckBody = Type.Object({ user: User, code: TempCodeText }, strict);
export const TempCodeCheckReply = Type.Object({ ok: Type.Literal(true), access: Type.Union([Type.Literal('full'), Type.Literal('print-card')]) });
export const CodeCardBody = Type.Object({ user: User, tempCode: TempCodeText }, strict);
export const CodeCardReply = Type.Object({ device: Type.String(), codes: Type.Array(Type.String()), expiresMs: Type.Integer() });
export const TempCodeIssueBody = Type.Object({ user: User }, strict);
export const TempCodeIssueReply = Type.Object({ code: Type.String(), fullUntilMs: Type.Integer(), printUntilMs: Type.Integer() });

export const Health = Type.Object({ ok: Type.Literal(true), draining: Type.Boolean() });

// The administrator's calls.
export const DeviceInfo = Type.Object({
  serial: Type.String(), kind: Kind, profile: Type.String(), suite: Type.String(), model: Type.String(),
  active: Type.Boolean(), locked: Type.Boolean(), failures: Type.Integer(), checkDigit: Type.Boolean(),
  expiresMs: Type.Union([Type.Integer(), Type.Null()]), users: Type.Array(Type.String()),
});
export const EnrollBody = Type.Object({
  user: User,
  record: Type.Object({}, { additionalProperties: true, description: 'the device file dsc provision writes, as JSON' }),
  kind: Type.Optional(Kind),
  pin: Type.Optional(Pin),
}, strict);
export const DevicesQuery = Type.Object({ user: User }, strict);
export const DevicesReply = Type.Object({ devices: Type.Array(DeviceInfo) });
export const AuditQuery = Type.Object({
  user: Type.Optional(User),
  serial: Type.Optional(Serial),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'entries, newest first (1..1000, default 100)' })),
}, strict);
export const AuditReply = Type.Object({
  entries: Type.Array(Type.Object({
    atMs: Type.Number(), user: Type.Union([Type.String(), Type.Null()]), serial: Type.Union([Type.String(), Type.Null()]),
    action: Type.String(), outcome: Type.String(), reason: Type.Union([Type.String(), Type.Null()]),
  })),
});
export const UnlockBody = Type.Union([Type.Object({ serial: Serial }, strict), Type.Object({ user: User }, strict)], { description: 'a device (and its users\' accounts) or an account (and its devices)' });
export const UnlockReply = Type.Object({ devices: Type.Array(DeviceInfo) });
export const PasswordBody = Type.Object({ user: User, password: Password }, strict);
export const Done = Type.Object({ ok: Type.Literal(true) });

// Keys in and out of other OATH servers (host/transfer/, as dsc host import | export).
const TransferFormat = Type.Union([Type.Literal('pskc'), Type.Literal('csv')], { description: 'a PSKC (RFC 6030) container or an OATH CSV seed file (privacyIDEA format)' });
const ContainerPassword = Type.String({ minLength: 1, maxLength: 1024, description: 'the PSKC container password (PBKDF2)' });
const PresharedKeyHex = Type.String({ pattern: '^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$', description: 'a pre-shared AES-128, -192 or -256 key, in hex' });
const Skipped = Type.Object({ id: Type.String(), field: Type.String(), reason: Type.String() });
export const ImportBody = Type.Object({
  format: TransferFormat,
  content: Type.String({ minLength: 1, maxLength: xmlCharsMax, description: 'the file, as text' }),
  password: Type.Optional(ContainerPassword),
  presharedKeyHex: Type.Optional(PresharedKeyHex),
  allowNoMac: Type.Optional(Type.Boolean({ description: 'accept an encrypted PSKC container without a MAC' })),
  user: Type.Optional(User),
  pin: Type.Optional(Pin),
  kind: Type.Optional(Kind),
  skipUnsupported: Type.Optional(Type.Boolean({ description: 'import the usable keys and list the others, instead of refusing the whole file' })),
}, strict);
export const ImportReply = Type.Object({ imported: Type.Array(Type.String()), skipped: Type.Array(Skipped), warnings: Type.Array(Type.String()) });
export const ExportBody = Type.Object({
  format: TransferFormat,
  devices: Type.Array(Serial, { minItems: 1, maxItems: pskcKeysMax, description: 'the serials to export' }),
  password: Type.Optional(ContainerPassword),
  presharedKeyHex: Type.Optional(PresharedKeyHex),
  keyName: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'the KeyName of the container key' })),
  plain: Type.Optional(Type.Literal(true, { description: 'a PSKC container with the secrets in the clear' })),
  algorithm: Type.Optional(Type.Union([Type.Literal('ocra'), Type.Literal('ocra-1')], { description: "ocra: the URN privacyIDEA and LinOTP read; ocra-1: libpskc's fragment" })),
  issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
}, strict);
export const ExportReply = Type.Object({
  exported: Type.Array(Type.String()),
  format: TransferFormat,
  protection: Type.Union([Type.Literal('none'), Type.Literal('password'), Type.Literal('preshared')]),
  content: Type.String({ description: 'the file, as text' }),
  warning: Type.Optional(Type.String()),
});

/** The replies every JSON route may give besides its success: a problem document. */
export function withProblems<T extends Record<number | string, TSchema>>(ok: T): Record<string, unknown> {
  return { ...ok, '4xx': { content: { 'application/problem+json': { schema: Problem } } }, '5xx': { content: { 'application/problem+json': { schema: Problem } } } };
}

export type LoginStartBody = Static<typeof LoginStartBody>;
export type VerifyBody = Static<typeof VerifyBody>;
export type PinChangeStartBody = Static<typeof PinChangeStartBody>;
export type WithdrawalStartBody = Static<typeof WithdrawalStartBody>;
export type EnrollBody = Static<typeof EnrollBody>;
export type DevicesQuery = Static<typeof DevicesQuery>;
export type AuditQuery = Static<typeof AuditQuery>;
export type UnlockBody = Static<typeof UnlockBody>;
export type PasswordBody = Static<typeof PasswordBody>;
export type TempCodeCheckBody = Static<typeof TempCodeCheckBody>;
export type CodeCardBody = Static<typeof CodeCardBody>;
export type TempCodeIssueBody = Static<typeof TempCodeIssueBody>;
export type ImportBody = Static<typeof ImportBody>;
export type ExportBody = Static<typeof ExportBody>;
