import type { FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { Config } from '../config.ts';

const LOCALHOST = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** Security headers (helmet) and CORS, both from config. The API serves JSON: its CSP forbids everything. */
export async function registerSecurity(app: FastifyInstance, config: Config): Promise<void> {
  if (config.securityHeaders) {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'same-site' },
      hsts: { maxAge: 31_536_000, includeSubDomains: true },
    });
  }
  // CORS_ORIGINS, or — in development only, when it is empty — any localhost origin, so a storefront on
  // http://localhost:5173 works against `npm start` at once. Production sends CORS headers only to listed origins.
  const origin = config.corsOrigins ?? (config.env === 'development' ? [LOCALHOST] : null);
  if (origin) {
    await app.register(cors, {
      origin: origin === '*' ? '*' : origin,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'If-None-Match', 'X-Publishable-Key', 'X-Request-Id'],
      exposedHeaders: ['ETag', 'Location', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
      maxAge: 600,
    });
  }
}
