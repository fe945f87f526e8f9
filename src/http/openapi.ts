import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { describeAccess, securityOf, access } from './access.ts';
import { COMMON_ERROR_STATUSES, ProblemSchema, problemResponse, titleOf } from './problem.ts';

export const DOCS_PREFIX = '/docs';

const TAGS: Record<string, string> = {
  system: 'Health, readiness and this document',
  tenants: 'Self-serve signup of new shops',
  auth: 'Logins, tokens and sessions of staff and customers',
  shop: 'The shop itself',
  staff: 'Staff users and roles',
  'api keys': 'Secret and publishable keys',
  customers: 'Customers: staff view and the shopper’s own account',
  catalog: 'Products, variants, categories, collections and search',
  inventory: 'Locations, stock levels and the ledger',
  pricing: 'Tax rates, shipping methods, discount codes and quotes',
  carts: 'Guest and customer carts',
  orders: 'Checkout and orders: capture, fulfil, refund, cancel',
  payments: 'Payment provider webhooks',
  jobs: 'Background jobs and shops’ schedules',
  webhooks: 'Outgoing Standard Webhooks: endpoints and deliveries',
  reports: 'Sales reports and CSV exports',
  platform: 'Platform operators: tenants and every job',
  realtime: 'WebSocket and Server-Sent Events (channels and frames: /api/asyncapi.json)',
  conversations: 'The chat of an order between its customer and the shop',
  apps: 'The gateway: a shop’s own apps behind Stockroom, forwarded with a signed context (docs/integration.md)',
  imports: 'Imports of products and contacts from CSV or NDJSON: dry run, progress, error report by row and column (docs/integration.md)',
  crm: 'Contacts, timeline, notes and tasks, scores, segments, privacy (docs/crm.md)',
  graphql: 'The GraphQL API: the same services, policy and error codes (docs/graphql.md)',
};

const header = (description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ description, schema });
/** Response headers, declared once in components and referenced from every response. */
const HEADERS: Record<string, ReturnType<typeof header>> = {
  'X-Request-Id': header('The request id (echoed from the request when it sent a safe one); quote it in support requests'),
  RateLimit: header('IETF RateLimit: remaining quota and reset of the tightest policy'),
  'RateLimit-Policy': header('IETF RateLimit-Policy: the policies that apply'),
  Location: header('Where the new resource can be read'),
  ETag: header('The version of the resource; send it back in If-Match'),
  'Idempotent-Replayed': header('"true" when this is the stored answer to an earlier request with the same Idempotency-Key'),
  'Retry-After': header('Seconds to wait before trying again (rate limits, an unreachable provider, a request still in progress)', { type: 'integer' }),
  'WWW-Authenticate': header('Bearer; error="invalid_token" for a bad or expired token'),
};
const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
const RESPONSE_HEADERS = { 'X-Request-Id': ref('X-Request-Id'), RateLimit: ref('RateLimit'), 'RateLimit-Policy': ref('RateLimit-Policy') };

interface RouteFacts {
  idempotent: boolean;
  ifMatch: boolean;
}

type Json = Record<string, unknown>;

/** `anyOf` of one-value schemas (TypeBox unions of literals) as one `enum`, so docs and generators offer every value. */
function enums(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(enums);
  if (!node || typeof node !== 'object') return node;
  const o = Object.fromEntries(Object.entries(node as Json).map(([k, v]) => [k, enums(v)])) as Json;
  const any = o.anyOf;
  const single = (s: unknown): s is Json => Boolean(s) && typeof s === 'object' && ('const' in (s as Json) || (Array.isArray((s as Json).enum) && ((s as Json).enum as unknown[]).length === 1));
  const isNull = (s: unknown) => Boolean(s) && typeof s === 'object' && (s as Json).type === 'null' && Object.keys(s as Json).length === 1;
  if (Array.isArray(any) && any.some(single) && any.every((s) => single(s) || isNull(s))) {
    const values = any.filter(single).map((s) => ('const' in s ? s.const : (s.enum as unknown[])[0]));
    const nullable = any.some(isNull);
    const types = new Set(any.filter(single).map((s) => s.type ?? typeof ('const' in s ? s.const : (s.enum as unknown[])[0])));
    const rest = Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'anyOf'));
    const type = types.size === 1 ? [...types][0] : undefined;
    return { ...rest, ...(type ? { type: nullable ? [type, 'null'] : type } : {}), enum: nullable ? [...values, null] : values };
  }
  return o;
}

/**
 * OpenAPI 3.1 from the route schemas. Every route gets its security requirements from its access declaration
 * and a problem+json response for every error status; the finished document then gets what generated clients
 * need: the Idempotency-Key and If-Match header parameters, the response headers (Location, ETag, RateLimit,
 * Retry-After, Idempotent-Replayed, X-Request-Id), enums as enums, described success responses and declared tags.
 */
export async function registerOpenApi(app: FastifyInstance, opts: { version: string; publicUrl: string }): Promise<void> {
  app.addSchema(ProblemSchema);
  const facts = new Map<string, RouteFacts>();
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
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) {
      facts.set(`${m.toLowerCase()} ${path}`, { idempotent: ['POST', 'PUT', 'PATCH', 'DELETE'].includes(m) && route.config?.idempotent !== false, ifMatch: '412' in responses });
    }
  });

  const finish = (doc: Json): Json => {
    const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
    const usedTags = new Set<string>();
    const versioned = new Set(Object.entries(paths).filter(([p, ops]) => Object.keys(ops).some((m) => facts.get(`${m} ${p}`)?.ifMatch)).map(([p]) => p));
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const f = facts.get(`${method} ${path}`);
        for (const t of (op.tags as string[] | undefined) ?? []) usedTags.add(t);
        const params = ((op.parameters as Json[] | undefined) ?? []).slice();
        if (f?.idempotent) params.push({ name: 'Idempotency-Key', in: 'header', required: false, description: 'Makes a retry safe: the same key and body within 24 h return the stored answer instead of running again (also after a crash). 1–255 visible ASCII characters; shoppers without an account: at least 16 (a random UUID)', schema: { type: 'string', minLength: 1, maxLength: 255 } });
        if (f?.ifMatch) params.push({ name: 'If-Match', in: 'header', required: false, description: 'The ETag you read; a stale one is 412 version_mismatch and nothing is written', schema: { type: 'string' } });
        if (method === 'get' && versioned.has(path)) params.push({ name: 'If-None-Match', in: 'header', required: false, description: 'The ETag you have: 304 Not Modified when it is current', schema: { type: 'string' } });
        if (params.length) op.parameters = params;
        for (const [status, res] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
          const headers: Record<string, unknown> = { ...RESPONSE_HEADERS, ...((res.headers as Json | undefined) ?? {}) };
          if (status.startsWith('2')) {
            if (res.description === 'Default Response' || !res.description) res.description = String(op.summary ?? 'Success');
            if (status === '201') headers.Location = ref('Location');
            if (versioned.has(path) && (method === 'get' || method === 'patch')) headers.ETag = ref('ETag');
            if (f?.idempotent) headers['Idempotent-Replayed'] = ref('Idempotent-Replayed');
          }
          if (status === '429' || status === '503' || status === '409') headers['Retry-After'] = ref('Retry-After');
          if (status === '401') headers['WWW-Authenticate'] = ref('WWW-Authenticate');
          res.headers = headers;
        }
      }
    }
    doc.tags = [...usedTags].sort().map((name) => ({ name, description: TAGS[name] ?? name }));
    doc.components = { ...((doc.components as Json | undefined) ?? {}), headers: HEADERS };
    return enums(doc) as Json;
  };

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Stockroom API',
        version: opts.version,
        description:
          'Multi-tenant commerce backend. The credential names the shop: staff use a JWT from /api/auth/login or a secret key (sk_…); shoppers use the publishable key (pk_…, header X-Publishable-Key) and optionally a customer JWT. Errors are RFC 9457 problem+json with a stable `code`, explained at /docs/errors. Send `Idempotency-Key` on every state-changing request.',
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
    transformObject: (d) => finish((d as unknown as { openapiObject: Json }).openapiObject) as never,
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true, uiConfig: { deepLinking: true } });
  registerErrorReference(app);
}

/**
 * GET /docs/errors: every error code with its status and meaning, one anchor per code — where each problem's
 * `type` points. Read from the error table of docs/api.md, so the reference and the guide never disagree.
 */
function registerErrorReference(app: FastifyInstance): void {
  let page: string | null = null;
  const build = (): string => {
    const md = (() => {
      try {
        return readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
      } catch {
        return '';
      }
    })();
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
    const rows: string[] = [];
    for (const line of md.split('\n')) {
      const m = /^\| (\d{3})[^|]*\| (.+) \|$/.exec(line);
      if (!m) continue;
      for (const c of (m[2] as string).matchAll(/`([a-z_]+)`(?: \(([^)]*(?:\([^)]*\)[^)]*)*)\))?/g)) {
        rows.push(`<tr id="${c[1]}"><td><code>${c[1]}</code></td><td>${m[1]}</td><td>${esc((c[2] ?? '').replace(/`/g, ''))}</td></tr>`);
      }
    }
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stockroom error codes</title></head><body><h1>Error codes</h1><p>Every error is <code>application/problem+json</code> with a stable <code>code</code>; switch on it, not on the text.</p><table><thead><tr><th>code</th><th>status</th><th>meaning</th></tr></thead><tbody>${rows.join('')}</tbody></table></body></html>`;
  };
  app.get(`${DOCS_PREFIX}/errors`, { config: { access: access.public() }, schema: { hide: true } }, async (_req, reply) => {
    page ??= build();
    return reply.type('text/html; charset=utf-8').send(page);
  });
}
