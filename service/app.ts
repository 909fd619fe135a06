/**
 * The verifier as an HTTP service: fastify with the TypeBox schemas of service/schemas.ts, every state change
 * through the store's group commit, every error a problem document, and the bounds below. `buildService` makes the
 * app without listening (tests inject requests or listen on port 0); cli/host/serve.ts listens and drains.
 */
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { HostError, type LoginHost } from '../host/index.ts';
import { StoreRefusal, type StoreStats } from '../host/store.ts';
import { adminTokenChecker } from './admin-token.ts';
import { Metrics } from './metrics.ts';
import type { ServiceContext } from './context.ts';
import { problem, problemContentType, ProblemError, type Problem } from './problem.ts';
import { adminRoutes } from './routes-admin.ts';
import { fallbackRoutes } from './routes-fallbacks.ts';
import { publicRoutes } from './routes-public.ts';
import { Health, withProblems } from './schemas.ts';

/** A request body larger than this is refused unread (413): the largest legitimate body is a device file. */
export const bodyBytesMax = 64 * 1024;
/** The whole request (headers and body) must arrive within this time, else 408. */
export const requestTimeoutMs = 10_000;
/** An idle keep-alive connection is closed after this time. */
export const keepAliveTimeoutMs = 5_000;
/** Requests served on one connection before it is closed (spreads long-lived clients, bounds per-socket state). */
export const requestsPerSocketMax = 10_000;
/** Headers of one request at most (node's own limit is 16 KiB; a login needs far less). */
export const headerBytesMax = 8 * 1024;
/** The Retry-After of a 503 (busy, a transaction out of time, shutting down): long enough for a queue to drain. */
export const unavailableRetryAfterMs = 1_000;

export interface ServiceOptions {
  readonly host: LoginHost;
  /** The store's commit counts, for /metrics (service/open.ts gives the store's `stats`). */
  readonly storeStats?: () => StoreStats;
  /** The admin token; undefined refuses every admin call. */
  readonly adminToken?: string;
}

export interface Service {
  readonly app: FastifyInstance;
  readonly context: ServiceContext;
  /** Stop accepting, let in-flight requests finish and commit, then close the verifier. */
  close(): Promise<void>;
}

/** `bodyLimit`: the route's own bound (the import's is larger than `bodyBytesMax`). */
function toProblem(error: FastifyError | Error, instance: string, bodyLimit = bodyBytesMax): Problem {
  if (error instanceof ProblemError) return { ...error.problem, instance };
  if (error instanceof HostError) return problem(error.reason, error.message, { instance, ...(error.reason === 'busy' && { retryAfterMs: unavailableRetryAfterMs }) });
  if (error instanceof StoreRefusal) return problem(error.reason === 'busy' ? 'busy' : 'shutting down', error.message, { instance, retryAfterMs: unavailableRetryAfterMs });
  const fastifyError = error as FastifyError;
  // Schema failures name the field and the rule ("body/user must match pattern …"), never the value sent.
  if (fastifyError.validation) return problem('bad input', fastifyError.message, { instance });
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('body too large', `the request body is larger than ${bodyLimit} bytes`, { instance });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('unsupported media type', 'send the request body as application/json', { instance });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('not json', 'the request body is empty; send a JSON object', { instance });
    default:
  }
  if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return problem('not json', 'the request body is not valid JSON', { instance });
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { ...problem(status === 408 ? 'request timeout' : 'bad input', fastifyError.message, { instance }), status };
  }
  return problem('internal error', 'the verifier failed on this request; the server log has the cause', { instance });
}

/**
 * @example
 * const opened = openServiceHost({ dbPath, synchronous: 'FULL', create: false });
 * const service = await buildService({ host: opened.host, transaction: opened.transaction });
 * await service.app.listen({ host: '127.0.0.1', port: 8787 });
 */
export async function buildService(options: ServiceOptions): Promise<Service> {
  const app = Fastify({
    logger: false,
    bodyLimit: bodyBytesMax,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    maxRequestsPerSocket: requestsPerSocketMax,
    http: { maxHeaderSize: headerBytesMax },
    // Requests arriving while draining get a problem document with Retry-After (the hook below), not fastify's bare 503.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // No type coercion ("12" is not a number here) and no silently dropped fields: a request either matches
    // the published schema exactly or is refused with the field named.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  const context: ServiceContext = {
    host: options.host,
    storeStats: options.storeStats ?? (() => undefined),
    metrics: new Metrics(),
    isAdmin: adminTokenChecker(options.adminToken),
  };
  let draining = false;

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'dscplus verifier', version: '1', description: 'Challenge/response verification for DSC+ cards (OCRA, RFC 6287). Errors are RFC 9457 problem documents.' },
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'the admin token (dsc host serve --admin-token-file)' } } },
    },
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const body = toProblem(error, request.url.split("?")[0]!, request.routeOptions.bodyLimit);
    if (body.status >= 500 && body.reason === 'internal error') process.stderr.write(`dsc host serve: ${request.method} ${request.routeOptions.url ?? request.url}: ${error.stack ?? error.message}\n`);
    if (body.retryAfterMs !== undefined) reply.header('retry-after', String(Math.ceil(body.retryAfterMs / 1000)));
    if (body.status === 401) reply.header('www-authenticate', 'Bearer realm="dsc admin"');
    if (body.status === 503) context.metrics.unavailable(body.reason);
    return reply.code(body.status).type(problemContentType).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body = problem('not found', `no route ${request.method} ${request.url.split('?')[0]}`, { instance: request.url });
    return reply.code(404).type(problemContentType).send(body);
  });
  app.addHook('onRequest', async () => {
    if (draining) throw new ProblemError(problem('shutting down', 'the verifier is shutting down: the request was not run; retry on another instance or later', { retryAfterMs: unavailableRetryAfterMs }));
  });
  app.addHook('onResponse', async (request, reply) => {
    context.metrics.request(request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get('/healthz', { schema: { summary: 'liveness: 200 while serving', response: withProblems({ 200: Health }) } }, async () => ({ ok: true as const, draining }));
  app.get('/metrics', { schema: { summary: 'Prometheus text: verifications by reason, request latency, locks, commits', produces: ['text/plain'] } }, async (_request, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return context.metrics.render(context.storeStats());
  });
  app.get('/openapi.json', { schema: { summary: 'this API as OpenAPI 3.1, generated from the schemas the server validates with' } }, async () => app.swagger());

  const page = readFileSync(new URL('./page/index.html', import.meta.url), 'utf8');
  const script = readFileSync(new URL('./page/login.js', import.meta.url), 'utf8');
  // The page loads nothing but its own script, and may not be framed (a login page in someone's iframe is a clickjacking aid).
  const pageHeaders = { 'content-security-policy': "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'", 'x-content-type-options': 'nosniff' };
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.headers(pageHeaders).type('text/html; charset=utf-8').send(page));
  app.get('/login.js', { schema: { hide: true } }, async (_request, reply) => reply.headers(pageHeaders).type('text/javascript; charset=utf-8').send(script));

  await app.register(async (scope) => publicRoutes(scope, context));
  await app.register(async (scope) => fallbackRoutes(scope, context));
  await app.register(async (scope) => adminRoutes(scope, context));
  await app.ready();

  let closed: Promise<void> | undefined;
  return {
    app,
    context,
    close() {
      closed ??= (async () => {
        draining = true;
        // fastify stops accepting and waits for in-flight requests, whose calls are committed before they are
        // answered; then the verifier closes (its store lets anything still queued commit first).
        await app.close();
        await options.host.close();
      })();
      return closed;
    },
  };
}
