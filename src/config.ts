import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { Ajv } from 'ajv';
import Type from 'typebox';

/**
 * Every environment variable Stockroom reads, with its default and meaning. This schema is the one
 * place configuration is defined; the README's configuration table is generated from it
 * (`stockroom config --markdown`).
 */
const Bool = (def: boolean, description: string) => Type.Boolean({ default: def, description });
const Int = (def: number, min: number, max: number, description: string) => Type.Integer({ default: def, minimum: min, maximum: max, description });
const Str = (def: string, description: string, extra: Record<string, unknown> = {}) => Type.String({ default: def, description, ...extra });

export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development', description: 'development, production or test' }),
  HOST: Str('127.0.0.1', 'Interface to listen on (0.0.0.0 for all)', { minLength: 1 }),
  PORT: Int(3000, 0, 65535, 'TCP port of the API'),
  PUBLIC_URL: Str('', 'Base URL clients use (default http://HOST:PORT)', { pattern: '^(https?://[^\\s]+)?$' }),
  DATA_DIR: Str('./data', 'Directory for the embedded SQLite file, generated keys and demo credentials', { minLength: 1 }),
  DATABASE_URL: Str('', 'Empty for embedded SQLite in DATA_DIR; `sqlite:<path>`; or `postgres://…` for scale-out', { pattern: '^($|sqlite:.+|postgres(ql)?://.+)' }),
  DATABASE_POOL_MAX: Int(10, 1, 1000, 'PostgreSQL connections per process'),
  REDIS_URL: Str('', 'redis://… to share rate limits, realtime messages and presence across API nodes; empty for in-process', { pattern: '^($|rediss?://.+)' }),
  LOG_LEVEL: Type.Unsafe<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>({ type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'pino log level' }),
  JWT_PRIVATE_KEY: Str('', 'Ed25519 private key (PKCS#8 PEM) that signs access tokens. Embedded mode generates one in DATA_DIR; required with PostgreSQL so all nodes share it (`stockroom keys generate`)'),
  JWT_ISSUER: Str('stockroom', '`iss` of access tokens', { minLength: 1 }),
  JWT_AUDIENCE: Str('stockroom-api', '`aud` of access tokens', { minLength: 1 }),
  ACCESS_TOKEN_TTL_SECONDS: Int(900, 30, 900, 'Lifetime of access tokens (at most 15 min)'),
  REFRESH_TOKEN_TTL_SECONDS: Int(2_592_000, 300, 31_536_000, 'Lifetime of a login session (refresh tokens rotate within it)'),
  PLATFORM_SECRET: Str('', 'Bearer secret for /api/platform/* (at least 32 characters); empty disables the platform API', { pattern: '^($|.{32,})$' }),
  SIGNUP_ENABLED: Bool(true, 'Allow self-serve POST /api/signup'),
  BODY_LIMIT_BYTES: Int(1_048_576, 1024, 104_857_600, 'Largest request body accepted'),
  IMPORT_MAX_BYTES: Int(536_870_912, 1024, 4_294_967_296, 'Largest import file accepted (POST /api/imports, multipart)'),
  CORS_ORIGINS: Str('', 'Comma-separated allowed origins, or * for any; empty allows localhost origins in development and none otherwise'),
  SECURITY_HEADERS: Bool(true, 'Send security headers (CSP, HSTS, nosniff, frame-ancestors …)'),
  TRUST_PROXY: Str('false', 'true, false, a hop count or a comma-separated list of proxy addresses (for the client IP)'),
  RATE_LIMIT_WINDOW_SECONDS: Int(60, 1, 86_400, 'Rate-limit window'),
  RATE_LIMIT_PER_IP: Int(600, 1, 10_000_000, 'Requests per window per client IP'),
  RATE_LIMIT_PER_PRINCIPAL: Int(1200, 1, 10_000_000, 'Requests per window per user, customer or API key'),
  LOGIN_MAX_FAILURES: Int(5, 1, 1000, 'Failed logins per account before it is throttled'),
  LOGIN_LOCKOUT_SECONDS: Int(900, 1, 86_400, 'How long a throttled account must wait'),
  PAYMENT_PROVIDERS: Str('manual,test', 'Comma-separated payment providers shops may use: manual, test, stripe (stripe needs STRIPE_SECRET_KEY)', { pattern: '^((manual|test|stripe)(,(manual|test|stripe))*)?$' }),
  STRIPE_SECRET_KEY: Str('', 'Stripe secret key (sk_live_… / sk_test_…) for the stripe payment provider'),
  STRIPE_WEBHOOK_SECRET: Str('', 'Signing secret (whsec_…) of the Stripe webhook endpoint /api/payments/stripe/webhook'),
  STRIPE_API_URL: Str('', 'Another Stripe API base, e.g. a local Stripe mock; empty for api.stripe.com', { pattern: '^(https?://[^\\s]+)?$' }),
  PAYMENT_TIMEOUT_MS: Int(10_000, 100, 120_000, 'Longest wait for one payment provider call; past it the outcome is settled later by the reconciliation job'),
  PAYMENT_BREAKER_FAILURES: Int(5, 1, 1000, 'Consecutive provider failures (timeouts, 5xx, network) that open its circuit: calls then fail fast with 503'),
  PAYMENT_BREAKER_OPEN_SECONDS: Int(30, 1, 3600, 'How long an open circuit refuses calls before one is let through to test the provider'),
  SMTP_URL: Str('', 'smtp(s)://user:pass@host:port for outgoing email; empty writes each email as an .eml file under DATA_DIR/mail', { pattern: '^($|smtps?://.+)' }),
  MAIL_FROM: Str('Stockroom <no-reply@stockroom.localhost>', 'Sender address; the shop name is used as the display name', { minLength: 3 }),
  WEBHOOKS_ALLOW_PRIVATE: Bool(false, 'Development only: let webhook endpoints use http and private, loopback or link-local addresses'),
  IN_PROCESS_WORKERS: Type.Unsafe<'auto' | 'on' | 'off'>({ type: 'string', enum: ['auto', 'on', 'off'], default: 'auto', description: '`serve` also runs job workers and the scheduler: auto = with SQLite only (scale-out runs `stockroom worker`)' }),
  SEED_DEMO: Type.Unsafe<'auto' | 'true' | 'false'>({ type: 'string', enum: ['auto', 'true', 'false'], default: 'auto', description: 'Seed a demo shop on the first start when no shop exists: auto = with SQLite only (scale-out seeds only when asked: true)' }),
  REALTIME_MAX_CONNECTIONS_PER_SHOP: Int(2000, 1, 1_000_000, 'Realtime connections (WebSocket and SSE) one shop may hold open on one node'),
  REALTIME_MAX_CONNECTIONS_PER_IP: Int(200, 1, 1_000_000, 'Realtime connections one client address may hold open on one node'),
  REALTIME_MAX_MESSAGE_BYTES: Int(16_384, 256, 1_048_576, 'Largest message a realtime client may send (a WebSocket frame past it closes with 1009)'),
  REALTIME_MESSAGES_PER_SECOND: Int(20, 1, 10_000, 'Messages a realtime client may send per second (bursts of twice that); past it the connection closes with 4029'),
  REALTIME_CHAT_PER_MINUTE: Int(30, 1, 10_000, 'Chat messages one sender may write per minute, over REST and realtime together'),
  REALTIME_HISTORY_HOURS: Int(24, 1, 720, 'How long channel history is kept for clients that resume; older gaps are told to refetch'),
  REALTIME_HEARTBEAT_SECONDS: Int(25, 1, 300, 'Ping interval; a client silent for two intervals is dropped'),
  REALTIME_MAX_BUFFER_BYTES: Int(1_048_576, 16_384, 67_108_864, 'Unsent bytes a slow client may pile up before it is dropped (close code 4008)'),
  GRAPHIQL: Type.Unsafe<'auto' | 'true' | 'false'>({ type: 'string', enum: ['auto', 'true', 'false'], default: 'auto', description: 'Serve GraphiQL at /graphiql: auto = in development only' }),
  GRAPHQL_INTROSPECTION: Type.Unsafe<'auto' | 'true' | 'false'>({ type: 'string', enum: ['auto', 'true', 'false'], default: 'auto', description: 'Answer GraphQL introspection: auto = everywhere but production' }),
  GRAPHQL_MAX_DEPTH: Int(12, 2, 50, 'Deepest GraphQL operation accepted'),
  GRAPHQL_MAX_COST: Int(20_000, 10, 10_000_000, 'Most cost points one GraphQL operation may have (each field 1, times the items of the lists around it)'),
  GRAPHQL_MAX_ALIASES: Int(30, 1, 1000, 'Most aliased fields in one GraphQL operation'),
  GRAPHQL_COST_PER_MINUTE: Int(2_000_000, 100, 1_000_000_000, 'GraphQL cost points one caller may spend per minute'),
  BROKER_URL: Str('', 'nats://host:4222 (JetStream) or amqp://user:pass@host:5672 (RabbitMQ): domain events go there (subjects stockroom.<shop>.<event>), inventory commands come from there; empty: no broker', { pattern: '^($|nats://.+|amqps?://.+)' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: Str('', 'OTLP/HTTP endpoint traces are exported to (e.g. http://collector:4318); empty: no tracing', { pattern: '^($|https?://.+)' }),
  OTEL_SERVICE_NAME: Str('stockroom', 'The service name traces carry', { minLength: 1 }),
  METRICS_TOKEN: Str('', 'Bearer token that GET /metrics (Prometheus) requires; empty: /metrics is not served', { pattern: '^($|.{16,})$' }),
  SHUTDOWN_TIMEOUT_SECONDS: Int(10, 1, 600, 'Grace period for in-flight requests on SIGTERM'),
});

export type Env = Type.Static<typeof EnvSchema>;

export type DatabaseConfig = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string; poolMax: number };

export interface Config {
  env: Env['NODE_ENV'];
  host: string;
  port: number;
  publicUrl: string;
  dataDir: string;
  database: DatabaseConfig;
  redisUrl: string | null;
  logLevel: Env['LOG_LEVEL'];
  jwt: { privateKeyPem: string | null; issuer: string; audience: string; accessTtl: number; refreshTtl: number };
  platformSecret: string | null;
  signupEnabled: boolean;
  bodyLimit: number;
  importMaxBytes: number;
  corsOrigins: string[] | '*' | null;
  securityHeaders: boolean;
  trustProxy: boolean | number | string[];
  rateLimit: { windowSeconds: number; perIp: number; perPrincipal: number };
  login: { maxFailures: number; lockoutSeconds: number };
  seedDemo: boolean;
  shutdownTimeoutSeconds: number;
  metricsToken: string | null;
  /** OTLP/HTTP endpoint and service name for traces; null: no tracing. */
  tracing: { endpoint: string; serviceName: string } | null;
  brokerUrl: string | null;
  graphql: { graphiql: boolean; introspection: boolean; maxDepth: number; maxCost: number; maxAliases: number; costPerMinute: number };
  realtime: { maxPerShop: number; maxPerIp: number; maxMessageBytes: number; messagesPerSecond: number; chatPerMinute: number; historyHours: number; heartbeatSeconds: number; maxBufferBytes: number };
  paymentProviders: ('manual' | 'test' | 'stripe')[];
  stripe: { secretKey: string; webhookSecret: string | null; apiUrl: string | null } | null;
  /** Outside calls to payment providers: a timeout each and a circuit breaker per provider. */
  paymentCalls: { timeoutMs: number; breakerFailures: number; breakerOpenSeconds: number };
  inProcessWorkers: 'auto' | 'on' | 'off';
  webhooksAllowPrivate: boolean;
  mail: { smtpUrl: string | null; from: string };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: false, strict: false });
const validateEnv = ajv.compile(EnvSchema);

/** Reads `.env` (if present) under the process environment: real variables win. */
export function readEnvFile(path = '.env'): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
}

/** Validates and types the environment. Throws ConfigError with one line naming the bad variable. */
export function loadConfig(source: Record<string, string | undefined> = { ...readEnvFile(), ...process.env }): Config {
  const keys = Object.keys(EnvSchema.properties);
  const raw: Record<string, unknown> = {};
  for (const k of keys) {
    const v = source[k];
    if (v !== undefined && v !== '') raw[k] = v.trim();
  }
  if (!validateEnv(raw)) {
    const e = validateEnv.errors?.[0];
    const name = e?.instancePath.replace(/^\//, '') || 'environment';
    const secret = ['JWT_PRIVATE_KEY', 'PLATFORM_SECRET', 'DATABASE_URL', 'REDIS_URL', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'SMTP_URL'].includes(name);
    const got = name in raw && !secret ? ` (got ${JSON.stringify(String(source[name]))})` : '';
    const prop = (EnvSchema.properties as Record<string, { description?: string }>)[name];
    throw new ConfigError(`${name}: ${e?.message ?? 'invalid'}${got}${prop?.description ? ` — ${prop.description}` : ''}`);
  }
  const env = raw as Env;

  const dataDir = resolve(env.DATA_DIR);
  let database: DatabaseConfig;
  if (env.DATABASE_URL.startsWith('postgres')) database = { dialect: 'postgres', url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX };
  else if (env.DATABASE_URL.startsWith('sqlite:')) database = { dialect: 'sqlite', file: env.DATABASE_URL.slice('sqlite:'.length) };
  else database = { dialect: 'sqlite', file: resolve(dataDir, 'stockroom.db') };

  const privateKeyPem = env.JWT_PRIVATE_KEY ? env.JWT_PRIVATE_KEY.replace(/\\n/g, '\n') : null;
  if (privateKeyPem && !privateKeyPem.includes('BEGIN PRIVATE KEY')) {
    throw new ConfigError('JWT_PRIVATE_KEY: must be a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----…"); generate one with `stockroom keys generate`');
  }
  if (!privateKeyPem && database.dialect === 'postgres') {
    throw new ConfigError('JWT_PRIVATE_KEY: required when DATABASE_URL is PostgreSQL, so every API node signs and verifies with the same key; generate one with `stockroom keys generate`');
  }

  if (env.PAYMENT_PROVIDERS.split(',').includes('stripe') && !env.STRIPE_SECRET_KEY) {
    throw new ConfigError('PAYMENT_PROVIDERS: stripe is listed but STRIPE_SECRET_KEY is empty');
  }

  let trustProxy: Config['trustProxy'];
  const tp = env.TRUST_PROXY.toLowerCase();
  if (tp === 'true' || tp === 'false') trustProxy = tp === 'true';
  else if (/^\d+$/.test(tp)) trustProxy = Number(tp);
  else trustProxy = tp.split(',').map((s) => s.trim()).filter(Boolean);

  const cors = env.CORS_ORIGINS.trim();
  const corsOrigins = cors === '' ? null : cors === '*' ? '*' : cors.split(',').map((s) => s.trim()).filter(Boolean);
  for (const o of Array.isArray(corsOrigins) ? corsOrigins : []) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`CORS_ORIGINS: "${o}" is not an origin like https://shop.example.com`);
  }

  return {
    env: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    publicUrl: (env.PUBLIC_URL || `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${env.PORT}`).replace(/\/$/, ''),
    dataDir,
    database,
    redisUrl: env.REDIS_URL || null,
    logLevel: env.LOG_LEVEL,
    jwt: { privateKeyPem, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, accessTtl: env.ACCESS_TOKEN_TTL_SECONDS, refreshTtl: env.REFRESH_TOKEN_TTL_SECONDS },
    platformSecret: env.PLATFORM_SECRET || null,
    signupEnabled: env.SIGNUP_ENABLED,
    bodyLimit: env.BODY_LIMIT_BYTES,
    importMaxBytes: env.IMPORT_MAX_BYTES,
    corsOrigins,
    securityHeaders: env.SECURITY_HEADERS,
    trustProxy,
    rateLimit: { windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS, perIp: env.RATE_LIMIT_PER_IP, perPrincipal: env.RATE_LIMIT_PER_PRINCIPAL },
    login: { maxFailures: env.LOGIN_MAX_FAILURES, lockoutSeconds: env.LOGIN_LOCKOUT_SECONDS },
    seedDemo: env.SEED_DEMO === 'true' || (env.SEED_DEMO === 'auto' && database.dialect === 'sqlite'),
    inProcessWorkers: env.IN_PROCESS_WORKERS,
    webhooksAllowPrivate: env.WEBHOOKS_ALLOW_PRIVATE,
    mail: { smtpUrl: env.SMTP_URL || null, from: env.MAIL_FROM },
    paymentProviders: env.PAYMENT_PROVIDERS.split(',').filter(Boolean) as Config['paymentProviders'],
    stripe: env.STRIPE_SECRET_KEY ? { secretKey: env.STRIPE_SECRET_KEY, webhookSecret: env.STRIPE_WEBHOOK_SECRET || null, apiUrl: env.STRIPE_API_URL || null } : null,
    paymentCalls: { timeoutMs: env.PAYMENT_TIMEOUT_MS, breakerFailures: env.PAYMENT_BREAKER_FAILURES, breakerOpenSeconds: env.PAYMENT_BREAKER_OPEN_SECONDS },
    shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT_SECONDS,
    metricsToken: env.METRICS_TOKEN || null,
    tracing: env.OTEL_EXPORTER_OTLP_ENDPOINT ? { endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, ''), serviceName: env.OTEL_SERVICE_NAME } : null,
    brokerUrl: env.BROKER_URL || null,
    graphql: {
      graphiql: env.GRAPHIQL === 'true' || (env.GRAPHIQL === 'auto' && env.NODE_ENV === 'development'),
      introspection: env.GRAPHQL_INTROSPECTION === 'true' || (env.GRAPHQL_INTROSPECTION === 'auto' && env.NODE_ENV !== 'production'),
      maxDepth: env.GRAPHQL_MAX_DEPTH,
      maxCost: env.GRAPHQL_MAX_COST,
      maxAliases: env.GRAPHQL_MAX_ALIASES,
      costPerMinute: env.GRAPHQL_COST_PER_MINUTE,
    },
    realtime: {
      maxPerShop: env.REALTIME_MAX_CONNECTIONS_PER_SHOP,
      maxPerIp: env.REALTIME_MAX_CONNECTIONS_PER_IP,
      maxMessageBytes: env.REALTIME_MAX_MESSAGE_BYTES,
      messagesPerSecond: env.REALTIME_MESSAGES_PER_SECOND,
      chatPerMinute: env.REALTIME_CHAT_PER_MINUTE,
      historyHours: env.REALTIME_HISTORY_HOURS,
      heartbeatSeconds: env.REALTIME_HEARTBEAT_SECONDS,
      maxBufferBytes: env.REALTIME_MAX_BUFFER_BYTES,
    },
  };
}

/** The configuration table for the README. */
export function configMarkdown(): string {
  const rows = Object.entries(EnvSchema.properties as Record<string, { default?: unknown; description?: string }>).map(
    ([k, s]) => `| \`${k}\` | ${s.default === '' ? '*(empty)*' : `\`${String(s.default)}\``} | ${s.description ?? ''} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
