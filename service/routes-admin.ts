/**
 * The administrator's calls: enrol a device file, set a password, list a user's devices, read the audit log,
 * unlock a device or an account; import and export keys (service/routes-transfer.ts).
 * Each needs `Authorization: Bearer <admin token>`; a missing or wrong token is refused (401) and counted
 * (`dsc_admin_auth_failures_total`), before the body is looked at.
 */
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from './context.ts';
import { problem, ProblemError } from './problem.ts';
import { transferRoutes } from './routes-transfer.ts';
import {
  AuditQuery, AuditReply, DeviceInfo, DevicesQuery, DevicesReply, Done, EnrollBody, PasswordBody, TempCodeIssueBody, TempCodeIssueReply, UnlockBody, UnlockReply, withProblems,
  type AuditQuery as Audit, type DevicesQuery as Devices, type EnrollBody as Enroll, type PasswordBody as SetPassword, type TempCodeIssueBody as TempCodeIssue, type UnlockBody as Unlock,
} from './schemas.ts';

/** Audit entries one call returns at most. */
export const auditEntriesMax = 1_000;

export function adminRoutes(app: FastifyInstance, context: ServiceContext): void {
  const { host } = context;
  // onRequest runs before the body is parsed or validated: an unauthenticated caller learns nothing about the schema.
  app.addHook('onRequest', async (request) => {
    if (!context.isAdmin(request.headers.authorization)) {
      context.metrics.adminRefused();
      throw new ProblemError(problem('unauthorized', 'this call needs the admin token: Authorization: Bearer <token>'));
    }
  });
  const security = [{ adminToken: [] }];

  app.post<{ Body: Enroll }>('/v1/admin/enroll', {
    schema: { summary: 'enrol a device file (from dsc provision) for a user', security, body: EnrollBody, response: withProblems({ 200: DeviceInfo }) },
  }, async (request) => {
    const { user, record, kind, pin } = request.body;
    try {
      return await host.enroll({ user, record, ...(kind !== undefined && { kind }), ...(pin !== undefined && { pin }) });
    } catch (error) {
      // A damaged device file is the caller's input: name it, as dsc host enroll does.
      if (error instanceof RangeError || error instanceof TypeError || (error as Error).name === 'DeviceRecordError') {
        throw new ProblemError(problem('bad input', `record: ${(error as Error).message}`));
      }
      throw error;
    }
  });

  app.get<{ Querystring: Devices }>('/v1/admin/devices', {
    schema: { summary: "a user's devices", security, querystring: DevicesQuery, response: withProblems({ 200: DevicesReply }) },
  }, async (request) => ({ devices: await host.devices(request.query.user) }));

  app.get<{ Querystring: Audit }>('/v1/admin/audit', {
    schema: { summary: 'the newest audit entries, optionally for one user or device', security, querystring: AuditQuery, response: withProblems({ 200: AuditReply }) },
  }, async (request) => {
    const { user, serial } = request.query;
    const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
    if (limit < 1 || limit > auditEntriesMax) throw new ProblemError(problem('bad input', `querystring/limit expected 1..${auditEntriesMax}, got ${limit}`));
    return { entries: await host.auditLog({ limit, ...(user !== undefined && { user }), ...(serial !== undefined && { serial }) }) };
  });

  app.post<{ Body: Unlock }>('/v1/admin/unlock', {
    schema: { summary: "clear the failure counts and locks of a device (and its users' accounts) or of an account (and its devices)", security, body: UnlockBody, response: withProblems({ 200: UnlockReply }) },
  }, async (request) => ({ devices: await host.unlock({ ...request.body, by: 'admin-api' }) }));

  app.post<{ Body: TempCodeIssue }>('/v1/admin/temp-code', {
    schema: { summary: 'support issues a temporary code (2 days full access, then 10 days to print a card; never two in a row)', security, body: TempCodeIssueBody, response: withProblems({ 200: TempCodeIssueReply }) },
  }, async (request) => {
    const issued = await host.issueTempCode({ user: request.body.user, by: 'admin-api' });
    return { code: issued.code, fullUntilMs: issued.fullUntilMs, printUntilMs: issued.printUntilMs };
  });

  app.post<{ Body: SetPassword }>('/v1/admin/password', {
    schema: { summary: "set or replace a user's password (the first factor)", security, body: PasswordBody, response: withProblems({ 200: Done }) },
  }, async (request) => {
    // The hash is slow on purpose and runs outside the host's transaction.
    await host.setPassword({ ...request.body, by: 'admin-api' });
    return { ok: true as const };
  });

  transferRoutes(app, context, security);
}
