import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { describeAccess, securityOf, access } from './access.ts';
import { COMMON_ERROR_STATUSES, ProblemSchema, problemResponse, titleOf } from './problem.ts';

export const DOCS_PREFIX = '/docs';

/**
 * OpenAPI 3.1 from the route schemas. Every route gets its security requirements from its access
 * declaration and a problem+json response for every error status, so nothing is left undocumented.
 */
export async function registerOpenApi(app: FastifyInstance, opts: { version: string; publicUrl: string }): Promise<void> {
  app.addSchema(ProblemSchema);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(DOCS_PREFIX)) {
      route.config = { ...(route.config ?? {}), access: access.public() };
      return;
    }
    const a = route.config?.access;
    const schema = (route.schema ??= {}) as Record<string, unknown>;
    if (schema.hide) return;
    const responses = (schema.response ??= {}) as Record<string, unknown>;
    for (const status of COMMON_ERROR_STATUSES) {
      responses[status] ??= problemResponse(titleOf(status));
    }
    if (a) {
      schema.security = securityOf(a);
      schema.description = [schema.description, describeAccess(a)].filter(Boolean).join('\n\n');
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Stockroom API',
        version: opts.version,
        description:
          'Multi-tenant commerce backend. The credential names the shop: staff use a JWT from /api/auth/login or a secret key (sk_…); shoppers use the publishable key (pk_…, header X-Publishable-Key) and optionally a customer JWT. Errors are RFC 9457 problem+json with a stable `code`. Send `Idempotency-Key` on every state-changing request.',
      },
      servers: [{ url: opts.publicUrl }],
      components: {
        securitySchemes: {
          bearerJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token of a staff user or customer (Ed25519, ≤ 15 min)' },
          secretKey: { type: 'http', scheme: 'bearer', description: 'Secret API key sk_… (server-side only), scoped by permissions' },
          publishableKey: { type: 'apiKey', in: 'header', name: 'X-Publishable-Key', description: 'The shop’s publishable key pk_… (safe in browsers and apps)' },
          platformSecret: { type: 'http', scheme: 'bearer', description: 'The operator’s PLATFORM_SECRET' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true, uiConfig: { deepLinking: true } });
}
