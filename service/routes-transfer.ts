/**
 * The administrator's key transfers, the use-cases of `dsc host import | export` (host/transfer/) over HTTP:
 * import OCRA keys from a PSKC (RFC 6030) container or an OATH CSV seed file, export enrolled keys as either.
 * Registered in the admin routes' scope, so the admin token is checked (and a failure counted) before the body
 * is read. A container's password or pre-shared key travels in the body, never in a URL, and is wiped after
 * use; a refused import writes nothing (all-or-nothing, unless the caller asks for `skipUnsupported`).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { OathCsvError, readOathCsv, writeOathCsv } from '../host/oath-csv.ts';
import { PskcError, readPskc, writePskc, type PskcProtection, type PskcRead } from '../host/pskc.ts';
import { oathCsvKeyOf, pskcKeyOf } from '../host/transfer/export.ts';
import { ImportRefused, importKeys } from '../host/transfer/import.ts';
import type { ServiceContext } from './context.ts';
import { problem, ProblemError } from './problem.ts';
import { ExportBody, ExportReply, ImportBody, ImportReply, withProblems, type ExportBody as Export, type ImportBody as Import } from './schemas.ts';

/**
 * An import's body at most (bytes): a PSKC container of up to `xmlCharsMax` characters (the same bound as a
 * file `dsc host import` reads), with room for JSON's escaping of its quotes and line ends.
 */
export const importBodyBytesMax = 10 * 1024 * 1024;

const badInput = (detail: string) => new ProblemError(problem('bad input', detail));
const keyOfHex = (hex: string | undefined) => (hex === undefined ? undefined : Uint8Array.from(Buffer.from(hex, 'hex')));

export function transferRoutes(app: FastifyInstance, context: ServiceContext, security: readonly Record<string, string[]>[]): void {
  const { host } = context;

  app.post<{ Body: Import }>('/v1/admin/import', {
    bodyLimit: importBodyBytesMax,
    schema: { summary: 'import OCRA keys from a PSKC container or an OATH CSV seed file (all or nothing, unless skipUnsupported)', security, body: ImportBody, response: withProblems({ 200: ImportReply }) },
  }, async (request) => {
    const body = request.body;
    if (body.format === 'csv' && (body.password !== undefined || body.presharedKeyHex !== undefined || body.allowNoMac !== undefined)) {
      throw badInput('body/password, body/presharedKeyHex and body/allowNoMac are for format pskc: an OATH CSV file is never encrypted');
    }
    if (body.password !== undefined && body.presharedKeyHex !== undefined) throw badInput('give body/password or body/presharedKeyHex, not both');
    const key = keyOfHex(body.presharedKeyHex);
    let read: PskcRead;
    try {
      read = body.format === 'pskc'
        ? readPskc(body.content, { ...(body.password !== undefined && { password: body.password }), ...(key && { presharedKey: key }), allowNoMac: body.allowNoMac === true })
        : readOathCsv(body.content);
    } catch (error) {
      if (error instanceof PskcError || error instanceof OathCsvError) throw badInput(`body/content: ${error.message}`);
      throw error;
    } finally {
      key?.fill(0);
    }
    try {
      const result = await importKeys(host, read, {
        ...(body.user !== undefined && { user: body.user }), ...(body.pin !== undefined && { pin: body.pin }), ...(body.kind !== undefined && { kind: body.kind }),
        skipUnsupported: body.skipUnsupported === true, nowMs: Date.now(),
      });
      // Nothing usable is a refusal (as dsc host import exits non-zero), and nothing was written.
      if (result.imported.length === 0) throw badInput(`nothing imported: ${result.skipped[0]?.reason ?? 'the file holds no key'}`);
      return { imported: result.imported.map((d) => d.serial), skipped: result.skipped, warnings: result.warnings };
    } catch (error) {
      if (error instanceof ImportRefused) throw badInput(`nothing imported: ${error.message}`);
      throw error;
    } finally {
      for (const k of read.keys) k.secret.fill(0);
    }
  });

  app.post<{ Body: Export }>('/v1/admin/export', {
    schema: { summary: 'export OCRA keys as a PSKC container (encrypted, or plain) or an OATH CSV seed file (seeds in the clear)', security, body: ExportBody, response: withProblems({ 200: ExportReply }) },
  }, async (request) => {
    const body = request.body;
    const protections = [body.password !== undefined, body.presharedKeyHex !== undefined, body.plain === true].filter(Boolean).length;
    if (body.format === 'csv' && (protections > 0 || body.keyName !== undefined || body.algorithm !== undefined || body.issuer !== undefined)) {
      throw badInput('body/password, body/presharedKeyHex, body/plain, body/keyName, body/algorithm and body/issuer are for format pskc: an OATH CSV file is never encrypted');
    }
    if (body.format === 'pskc' && protections !== 1) throw badInput('give exactly one of body/password, body/presharedKeyHex or body/plain');
    const key = keyOfHex(body.presharedKeyHex);
    const protection: PskcProtection = body.password !== undefined ? { type: 'password', keyName: body.keyName ?? 'dscplus export', password: body.password }
      : key ? { type: 'preshared', keyName: body.keyName ?? 'Pre-shared-key', key } : { type: 'none' };
    try {
      // An unknown serial is refused (404) inside the host's transaction: nothing exported, nothing audited.
      const keys = await host.exportKeys([...new Set(body.devices)]);
      try {
        const content = body.format === 'csv' ? writeOathCsv(keys.map(oathCsvKeyOf))
          : writePskc(keys.map((k) => pskcKeyOf(k, { ...(body.algorithm && { algorithm: body.algorithm }), ...(body.issuer !== undefined && { issuer: body.issuer }) })), protection, (n) => new Uint8Array(randomBytes(n)));
        const clear = body.format === 'csv' || protection.type === 'none';
        return {
          exported: keys.map((k) => k.serial), format: body.format, protection: body.format === 'csv' ? 'none' as const : protection.type, content,
          ...(clear && { warning: `the content holds every exported secret${keys.some((k) => k.pin !== undefined) ? ' and PIN' : ''} in the clear: keep it only over a protected channel` }),
        };
      } catch (error) {
        if (error instanceof OathCsvError) throw badInput(error.message);
        throw error;
      } finally {
        for (const k of keys) k.secret.fill(0);
      }
    } finally {
      key?.fill(0);
    }
  });
}
