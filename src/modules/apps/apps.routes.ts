import { Transform } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import replyFrom from '@fastify/reply-from';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { sendProblem } from '../../http/errors.ts';
import { problemResponse } from '../../http/problem.ts';
import { Body, IdParams, Name, NoContent, Timestamp } from '../../http/schemas.ts';
import { notFound } from '../../lib/errors.ts';
import { recordOutsideCall, tracer } from '../../lib/origin.ts';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { RefusedAddress, assertPublicHost, outgoingDispatcher } from '../../outgoing/url-guard.ts';
import { appForProxy, createApp, deleteApp, listApps, proxySignature, updateApp } from './apps.service.ts';

const AppSchema = Type.Object(
  { id: Type.String(), handle: Type.String(), name: Type.String(), url: Type.String(), timeout_ms: Type.Integer(), status: Type.String(), created_at: Timestamp, updated_at: Timestamp, secret: Type.Optional(Type.String({ description: 'Shown once, when the app is registered: verify X-Stockroom-Signature with it' })) },
  { title: 'App' },
);

/** A per-app circuit: after `FAILURES` failures in a row, requests are refused for `OPEN_MS` without calling. */
const FAILURES = 5;
const OPEN_MS = 30_000;
/** Larger responses are cut off (the connection closes): the gateway does not buffer or relay unbounded bodies. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export interface ProxyStats {
  requests: number;
  failures: number;
  refusedOpen: number;
  totalMs: number;
}

/**
 * The gateway: a shop's apps behind Stockroom. Storefronts call `/apps/<handle>/…` (publishable key or customer),
 * staff `/api/apps/<handle>/…` (`apps:read`); after authentication and rate limiting the request goes to the app's
 * URL without the caller's credentials, with a signed context (X-Stockroom-Shop, -Customer, -Timestamp,
 * -Signature) the app verifies. Timeouts, one retry for idempotent methods, a circuit per app, size limits and the
 * outgoing address guard apply; failures answer 502/503/504 problem+json with a code.
 */
export const appsRoutes: FastifyPluginAsyncTypebox<{ deps: Deps; stats?: Map<string, ProxyStats> }> = async (app, { deps, stats = new Map() }) => {
  const tags = ['apps'];
  const allowPrivate = deps.config.webhooksAllowPrivate;
  await app.register(replyFrom, { undici: outgoingDispatcher(allowPrivate) as never, retryMethods: ['GET', 'HEAD', 'OPTIONS'], disableRequestLogging: true });

  app.get('/api/apps', { config: { access: access.staff('apps:read') }, schema: { tags, summary: 'The shop’s apps behind the gateway', operationId: 'listApps', response: { 200: Type.Object({ data: Type.Array(AppSchema) }) } } }, async (req) => ({ data: await listApps(deps.ctx(req)) }));
  app.post(
    '/api/apps',
    {
      config: { access: access.staff('apps:write'), idempotent: false },
      schema: { tags, summary: 'Register an app: /apps/<handle>/… is forwarded to its URL, signed', operationId: 'createApp', body: Body({ handle: Type.String({ maxLength: 40 }), name: Name(100), url: Type.String({ maxLength: 500 }), timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })) }, 'AppCreate'), response: { 201: AppSchema } },
    },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => createApp(ctx, req.body, allowPrivate))),
  );
  app.patch(
    '/api/apps/:id',
    { config: { access: access.staff('apps:write') }, schema: { tags, summary: 'Change or disable an app', operationId: 'updateApp', params: IdParams, body: Body({ name: Type.Optional(Name(100)), url: Type.Optional(Type.String({ maxLength: 500 })), timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })), status: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])) }, 'AppUpdate'), response: { 200: AppSchema } } },
    async (req) => deps.tx(req, (ctx) => updateApp(ctx, req.params.id, req.body, allowPrivate)),
  );
  app.delete('/api/apps/:id', { config: { access: access.staff('apps:write') }, schema: { tags, summary: 'Remove an app', operationId: 'deleteApp', params: IdParams, response: { 204: NoContent } } }, async (req, reply) => {
    await deps.tx(req, (ctx) => deleteApp(ctx, req.params.id));
    return reply.code(204).send(null);
  });

  const circuits = new Map<string, { failures: number; openUntil: number }>();
  const statOf = (key: string) => {
    let s = stats.get(key);
    if (!s) stats.set(key, (s = { requests: 0, failures: 0, refusedOpen: 0, totalMs: 0 }));
    return s;
  };

  const forward = async (req: FastifyRequest, reply: FastifyReply, prefix: string) => {
    const ctx = deps.ctx(req);
    const { handle } = req.params as { handle: string; '*': string };
    const target = await appForProxy(ctx.db, ctx.tenantId, handle);
    if (!target) throw notFound('App');
    const key = `${ctx.tenantId}:${target.id}`;
    const stat = statOf(`${ctx.tenantId}:${handle}`);
    const circuit = circuits.get(key) ?? { failures: 0, openUntil: 0 };
    circuits.set(key, circuit);
    if (circuit.openUntil > Date.now()) {
      stat.refusedOpen++;
      const after = Math.ceil((circuit.openUntil - Date.now()) / 1000);
      return sendProblem(reply, 503, 'app_unavailable', `The app ${handle} failed ${FAILURES} times in a row; calls resume in ${after} s`, { headers: { 'retry-after': String(after) } });
    }
    const path = `/${(req.params as { '*': string })['*'] ?? ''}`;
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    const url = `${target.url}${path}${query ? `?${query}` : ''}`;
    try {
      assertPublicHost(url, allowPrivate);
    } catch {
      return sendProblem(reply, 502, 'app_refused', 'The app’s address is inside this deployment');
    }
    const timestamp = String(Math.floor(Date.now() / 1000));
    const p = ctx.principal;
    const customer = p.kind === 'customer' ? p.customerId : '';
    const signature = proxySignature(target.secret, { method: req.method, path, query, timestamp, shop: ctx.tenantId, customer });
    const started = performance.now();
    // A client span of the request's trace; the app gets its traceparent and the request id.
    const span = tracer.startSpan(`app proxy ${handle}`, { kind: SpanKind.CLIENT, attributes: { 'stockroom.outside': 'app_proxy', 'http.request.method': req.method, 'url.full': url } });
    const traceHeaders: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), traceHeaders);
    const done = (ok: boolean, status?: number) => {
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      if (!ok) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      recordOutsideCall('app_proxy', ok, performance.now() - started);
    };
    const fail = () => {
      stat.failures++;
      if (++circuit.failures >= FAILURES) circuit.openUntil = Date.now() + OPEN_MS;
    };
    stat.requests++;
    req.log.info({ app: handle, upstream: target.url, path }, 'app proxy');
    return reply.from(url, {
      timeout: Number(target.timeout_ms),
      retriesCount: 1,
      rewriteRequestHeaders: (_r, headers) => {
        const out: Record<string, string | string[] | undefined> = {};
        for (const [k, v] of Object.entries(headers)) if (!['authorization', 'x-publishable-key', 'cookie', 'host', 'idempotency-key', 'connection'].includes(k)) out[k] = v;
        return { ...out, 'x-stockroom-shop': ctx.tenantId, 'x-stockroom-customer': customer, 'x-stockroom-timestamp': timestamp, 'x-stockroom-signature': signature, 'x-stockroom-prefix': `${prefix}/${handle}`, 'x-request-id': String(req.id), ...traceHeaders };
      },
      rewriteHeaders: (headers) => {
        const { 'set-cookie': _c, ...rest } = headers as Record<string, unknown>;
        return rest as never;
      },
      onResponse: (_r, rep, res) => {
        done(res.statusCode < 500, res.statusCode);
        stat.totalMs += performance.now() - started;
        if (res.statusCode >= 500) fail();
        else circuit.failures = 0;
        let seen = 0;
        const limit = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            seen += chunk.length;
            if (seen > MAX_RESPONSE_BYTES) cb(new Error('app response too large'));
            else cb(null, chunk);
          },
        });
        return rep.send((res.stream as NodeJS.ReadableStream).pipe(limit));
      },
      onError: (rep, { error }) => {
        done(false);
        stat.totalMs += performance.now() - started;
        fail();
        const e = error as Error & { code?: string };
        if (e instanceof RefusedAddress || e.name === 'RefusedAddress' || e.cause instanceof RefusedAddress) return sendProblem(rep as FastifyReply, 502, 'app_refused', 'The app’s address is inside this deployment');
        if (/timeout/i.test(`${e.code ?? ''} ${e.message}`)) return sendProblem(rep as FastifyReply, 504, 'app_timeout', `The app ${handle} did not answer within ${Number(target.timeout_ms)} ms`);
        return sendProblem(rep as FastifyReply, 502, 'app_unreachable', `The app ${handle} cannot be reached`);
      },
    });
  };

  const Params = Type.Object({ handle: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,39}$' }), '*': Type.String() });
  const gateway = { 502: problemResponse('The app failed or could not be reached (app_unreachable, app_refused)'), 503: problemResponse('The app’s circuit is open (app_unavailable)'), 504: problemResponse('The app did not answer in time (app_timeout)') };
  const Any = { description: 'Whatever the app answers', type: 'object', additionalProperties: true } as const;
  const Forwarded = Type.Unknown({ description: 'JSON, forwarded to the app as it is' });
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    const name = method[0] + method.slice(1).toLowerCase();
    app.route({
      method,
      url: '/apps/:handle/*',
      config: { access: access.shopper() },
      schema: { tags, summary: `${method} to an app, for storefronts (signed context; no credentials forwarded)`, operationId: `appProxy${name}`, params: Params, ...(method === 'GET' ? {} : { body: Forwarded }), response: { 200: Any, ...gateway } },
      handler: (req, reply) => forward(req, reply, '/apps'),
    });
    app.route({
      method,
      url: '/api/apps/:handle/*',
      config: { access: access.staff('apps:read') },
      schema: { tags, summary: `${method} to an app, for staff (signed context; no credentials forwarded)`, operationId: `appProxyStaff${name}`, params: Params, ...(method === 'GET' ? {} : { body: Forwarded }), response: { 200: Any, ...gateway } },
      handler: (req, reply) => forward(req, reply, '/api/apps'),
    });
  }
};
