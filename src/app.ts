import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { TenantPrincipal } from './context.ts';
import type { Db } from './db/database.ts';
import { ping } from './db/database.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import { forbidden } from './lib/errors.ts';
import { registerAuth } from './http/auth.ts';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './http/errors.ts';
import { registerIdempotency } from './http/idempotency.ts';
import { NodeRegistry } from './modules/idempotency/index.ts';
import { registerOpenApi } from './http/openapi.ts';
import { HttpRateLimits, makeLimiter } from './http/rate-limit.ts';
import { genReqId } from './http/request-id.ts';
import { registerTracing } from './http/tracing.ts';
import { registerSecurity } from './http/security.ts';
import { registerAdmin } from './http/admin.ts';
import { lazySerializerFactory, registerValidation } from './http/validation.ts';
import { AuthService, KNOWN_SECONDS, LoginThrottle, TokenService, loadSigningKey } from './modules/auth/index.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { apiKeysRoutes } from './modules/api-keys/api-keys.routes.ts';
import { customersRoutes } from './modules/customers/customers.routes.ts';
import { staffRoutes } from './modules/staff/staff.routes.ts';
import { platformRoutes, shopRoutes, signupRoutes } from './modules/tenants/tenants.routes.ts';
import { systemRoutes, type ReadinessCheck } from './http/system.routes.ts';
import { catalogRoutes } from './modules/catalog/catalog.routes.ts';
import { inventoryRoutes } from './modules/inventory/inventory.routes.ts';
import { pricingRoutes } from './modules/pricing/pricing.routes.ts';
import { cartsRoutes } from './modules/carts/carts.routes.ts';
import { ordersRoutes } from './modules/orders/orders.routes.ts';
import { paymentsRoutes } from './modules/payments/payments.routes.ts';
import { jobsRoutes, schedulesRoutes } from './modules/jobs/jobs.routes.ts';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.ts';
import { reportsRoutes } from './modules/reports/reports.routes.ts';
import { conversationsRoutes } from './modules/conversations/conversations.routes.ts';
import { crmRoutes } from './modules/crm/crm.routes.ts';
import { appsRoutes, type ProxyStats } from './modules/apps/apps.routes.ts';
import { importsRoutes } from './modules/imports/imports.routes.ts';
import { registerMetrics } from './http/metrics.ts';
import { consentSecretOf } from './modules/crm/index.ts';
import { InProcessBus, RedisBus, type RealtimeBus } from './realtime/bus.ts';
import { RealtimeHub } from './realtime/hub.ts';
import { registerRealtime } from './realtime/plugin.ts';
import { MemoryPresence, RedisPresence } from './realtime/presence.ts';
import { OutboxWake } from './realtime/wake.ts';
import { graphqlAuth, graphqlCache, graphqlRoutes, registerGraphql } from './graphql/plugin.ts';
import { rateLimited } from './lib/errors.ts';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { buildPayments, type PaymentGateway, type PaymentProvider } from './modules/payments/index.ts';
import type { CheckoutStep } from './workflows/checkout.ts';
import { VERSION } from './version.ts';
import type { Deps } from './deps.ts';

export type { Deps } from './deps.ts';

export type App = FastifyInstance;

declare module 'fastify' {
  interface FastifyInstance {
    registeredRoutes: readonly string[];
    payments: PaymentGateway;
    /** This node's realtime: the bus the outbox publisher relays to (embedded: in-process), and the hub. */
    realtime: { bus: RealtimeBus; hub: RealtimeHub; wake: OutboxWake };
  }
}

export interface BuildOptions {
  config: Config;
  db: Db;
  clock?: Clock;
  /** Replaces the pino logger options (tests pass a stream to read what is logged). */
  logger?: FastifyServerOptions['logger'];
  /** Prefix for Redis keys, so parallel test apps do not share counters unless they mean to. */
  redisPrefix?: string;
  /** Tests only: a probe called after each checkout step. */
  checkoutProbe?: ((step: CheckoutStep) => void | Promise<void>) | undefined;
  /** Extra payment providers (e.g. Stripe pointed at a test server). */
  providers?: PaymentProvider[] | undefined;
  /** Tests only: how often realtime checks channel heads and credentials (ms). */
  realtimeTimings?: { pollMs?: number; revalidateMs?: number } | undefined;
  /** More that readiness checks (the broker, when this process publishes to one). */
  readiness?: readonly ReadinessCheck[] | undefined;
}

/** Paths in logs that may hold secrets. pino replaces them with "[redacted]". */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers["x-publishable-key"]',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.key',
  '*.secret',
  '*.card_number',
];

export async function buildApp(opts: BuildOptions): Promise<FastifyInstance> {
  const { config, db } = opts;
  const clock = opts.clock ?? systemClock;
  const { gateway, stripe } = buildPayments(config, opts.providers);
  const app = Fastify({
    logger: opts.logger ?? { level: config.logLevel, redact: { paths: LOG_REDACT, censor: '[redacted]' } },
    genReqId,
    requestIdHeader: false,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy as boolean | string | string[],
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { removeAdditional: false } },
    // Response serializers compile on a route's first answer, not at start (http/validation.ts).
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory as never } },
    // Failures before routing and below HTTP are problem+json too.
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const redis = config.redisUrl ? new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true }) : null;
  redis?.on('error', (err) => app.log.warn({ err: err.message }, 'redis error'));
  const prefix = opts.redisPrefix ?? 'stockroom:';

  const signingKey = loadSigningKey(config);
  const tokens = new TokenService(signingKey, { issuer: config.jwt.issuer, audience: config.jwt.audience, ttlSeconds: config.jwt.accessTtl });
  const throttle = new LoginThrottle({
    byAccount: makeLimiter(redis, prefix, 'login-account', config.login.maxFailures, config.login.lockoutSeconds),
    byIp: makeLimiter(redis, prefix, 'login-ip', config.login.maxFailures * 20, 3600),
    known: makeLimiter(redis, prefix, 'login-known', 1, KNOWN_SECONDS),
    maxFailures: config.login.maxFailures,
    ipMaxFailures: config.login.maxFailures * 20,
  });
  const auth = new AuthService({ db, clock, tokens, throttle, refreshTtlSeconds: config.jwt.refreshTtl });
  const limits = new HttpRateLimits(redis, prefix, config.rateLimit);
  const chatLimiter = makeLimiter(redis, prefix, 'chat', config.realtime.chatPerMinute, 60);


  const proxyStats = new Map<string, ProxyStats>();
  const deps: Deps = {
    config,
    payments: gateway,
    checkoutProbe: opts.checkoutProbe,
    db,
    clock,
    auth,
    tokens,
    redis,
    consentSecret: consentSecretOf(signingKey),
    limits: {
      async chat(key) {
        try {
          await chatLimiter.consume(key, 1);
        } catch (e) {
          if (!(e instanceof RateLimiterRes)) throw e;
          throw rateLimited('chat_rate_limited', `At most ${config.realtime.chatPerMinute} chat messages a minute`, e.msBeforeNext / 1000);
        }
      },
    },
    ctx(req) {
      const p = req.principal;
      if (!('tenantId' in p)) throw forbidden('principal_not_allowed', 'This route acts inside a shop');
      return { tenantId: p.tenantId, principal: p as TenantPrincipal, db, clock, log: req.log };
    },
    tx(req, fn) {
      const base = deps.ctx(req);
      return db.transaction().execute((trx) => fn({ ...base, db: trx }));
    },
  };


  // Every route the router serves, as "METHOD /path" (the OpenAPI test compares it with the document).
  const routes: string[] = [];
  app.decorate('registeredRoutes', routes);
  app.decorate('payments', gateway);
  app.addHook('onRoute', (r) => {
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) routes.push(`${m} ${r.url}`);
  });
  registerTracing(app);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  registerValidation(app);
  registerErrorHandling(app);
  await registerSecurity(app, config);
  // The admin console (admin/dist) at /admin: public files, with a CSP of their own.
  await registerAdmin(app);
  // GraphQL's routes (mounted later by mercurius) declare their access before the OpenAPI and auth hooks read it.
  app.addHook('onRoute', graphqlRoutes);
  await registerOpenApi(app, { version: VERSION, publicUrl: config.publicUrl });
  registerAuth(app, { auth, limits, platformSecret: config.platformSecret });
  graphqlAuth(app, deps);
  graphqlCache(app, deps);
  // This process as a live node: a retry can tell a request in flight here from one whose process died.
  const nodes = new NodeRegistry({ db, clock, log: app.log, kind: 'api' });
  app.addHook('onReady', () => nodes.start());
  app.addHook('onClose', () => nodes.stop());
  registerIdempotency(app, { db, clock, nodes });

  // Each module's routes, in one explicit list.
  await app.register(systemRoutes, {
    deps,
    ready: [
      { name: 'The database', check: () => ping(db) },
      ...(redis ? [{ name: 'Redis', check: async () => void (await redis.ping()) }] : []),
      ...(opts.readiness ?? []),
    ],
  });
  await app.register(signupRoutes, { deps });
  await app.register(authRoutes, { deps });
  await app.register(shopRoutes, { deps });
  await app.register(staffRoutes, { deps });
  await app.register(apiKeysRoutes, { deps });
  await app.register(customersRoutes, { deps });
  await app.register(catalogRoutes, { deps });
  await app.register(inventoryRoutes, { deps });
  await app.register(pricingRoutes, { deps });
  await app.register(cartsRoutes, { deps });
  await app.register(ordersRoutes, { deps });
  await app.register(paymentsRoutes, { deps, stripe });
  await app.register(jobsRoutes, { deps });
  await app.register(schedulesRoutes, { deps });
  await app.register(webhooksRoutes, { deps });
  await app.register(reportsRoutes, { deps });
  await app.register(conversationsRoutes, { deps });
  await app.register(crmRoutes, { deps });
  await app.register(appsRoutes, { deps, stats: proxyStats });
  await app.register(importsRoutes, { deps });
  await app.register(platformRoutes, { deps });

  // Realtime: WebSocket and SSE over the same services and policy; across nodes through Redis.
  const bus: RealtimeBus = redis ? new RedisBus(redis, prefix, (err) => app.log.warn({ err }, 'realtime bus error')) : new InProcessBus();
  const hub = new RealtimeHub({
    db,
    clock,
    log: app.log,
    auth,
    bus,
    presence: redis ? new RedisPresence(redis, prefix) : new MemoryPresence(),
    limits: config.realtime,
    chatLimit: (key) => deps.limits.chat(key),
    pollMs: opts.realtimeTimings?.pollMs,
    revalidateMs: opts.realtimeTimings?.revalidateMs,
  });
  // A request that may have written events wakes the outbox publisher (here, or through Redis in the workers).
  const wake = new OutboxWake(redis, prefix);
  app.addHook('onResponse', async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS' && !req.readOnly) wake.notify();
  });
  app.decorate('realtime', { bus, hub, wake });
  await registerRealtime(app, deps, hub);
  app.addHook('onReady', () => hub.start());
  app.addHook('onClose', () => wake.close());

  registerMetrics(app, config.metricsToken, { db, clock, realtimeConnections: () => hub.connections.size, proxy: proxyStats });

  // GraphQL over the same services and policy; subscriptions through the realtime hub.
  await registerGraphql(app, deps, hub, { ...config.graphql, costLimiter: makeLimiter(redis, prefix, 'graphql-cost', config.graphql.costPerMinute, 60) });

  app.addHook('onClose', async () => {
    if (redis) await redis.quit().catch(() => redis.disconnect());
  });
  return app;
}
