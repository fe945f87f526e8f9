import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GraphQLError, Kind, NoSchemaIntrospectionCustomRule, parse, getNamedType, isListType, isNonNullType, isObjectType, type DocumentNode, type FragmentDefinitionNode, type GraphQLObjectType, type GraphQLSchema, type SelectionSetNode, type ValidationContext, type ValueNode } from 'graphql';
import mercurius from 'mercurius';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { principalKey, type Principal } from '../context.ts';
import type { Deps } from '../deps.ts';
import { AppError, rateLimited } from '../lib/errors.ts';
import { sha256 } from '../lib/crypto.ts';
import { PageCache, sendEntry } from '../http/page-cache.ts';
import { currentVersion } from '../modules/events/index.ts';
import { may } from '../policy/index.ts';
import { Connection, type Credentials, type Wire } from '../realtime/connection.ts';
import type { RealtimeHub } from '../realtime/hub.ts';
import { buildLoaders, buildResolvers, type GqlContext } from './resolvers.ts';
import { SDL } from './sdl.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The GraphQL endpoint: its transport authenticates itself (credentials are optional per field). */
    graphql?: boolean;
  }
  interface FastifyRequest {
    graphqlAuthError?: AppError | null;
    graphqlCache?: { key: string; version: number };
  }
}

export interface GraphqlOptions {
  graphiql: boolean;
  introspection: boolean;
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  /** Cost points one caller may spend per minute (shared across nodes through Redis). */
  costLimiter: RateLimiterAbstract;
  costPerMinute: number;
}

/**
 * Marks mercurius's routes: access is checked per field, by the same declarations as REST; and describes them in
 * the OpenAPI document (the schema itself is at /graphql's introspection and in schema.graphql).
 */
export function graphqlRoutes(route: { url: string; method: string | string[]; config?: Record<string, unknown>; schema?: Record<string, unknown> }): void {
  if (route.url !== '/graphql' && !route.url.startsWith('/graphiql')) return;
  route.config = { ...(route.config ?? {}), access: { public: true }, graphql: true };
  if (route.url.startsWith('/graphiql')) {
    route.schema = { ...(route.schema ?? {}), hide: true };
    return;
  }
  const post = route.method === 'POST' || (Array.isArray(route.method) && route.method.includes('POST'));
  route.schema = {
    ...(route.schema ?? {}),
    tags: ['graphql'],
    operationId: post ? 'graphqlPost' : 'graphqlGet',
    summary: post ? 'Run a GraphQL query or mutation (schema: schema.graphql, docs/graphql.md)' : 'Run a GraphQL query by GET (persisted queries); upgrade to a WebSocket for subscriptions (graphql-transport-ws)',
    description: 'The same credentials as REST (Authorization, X-Publishable-Key); errors carry REST’s codes in extensions.code. Mutations honour Idempotency-Key.',
    response: { ...((route.schema?.response as Record<string, unknown> | undefined) ?? {}), 200: { description: 'A GraphQL response: { data, errors }', type: 'object', additionalProperties: true } },
  };
}

function headerCredentials(req: FastifyRequest): Credentials {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  const pk = req.headers['x-publishable-key'];
  return { token: m ? (m[1] as string) : null, publishableKey: typeof pk === 'string' ? pk.trim() || null : null };
}

// --- protection: aliases and cost --------------------------------------------------------------------------------

/** At most `max` aliased fields in one operation (alias bombs repeat one expensive field). */
export function aliasLimit(max: number) {
  return (context: ValidationContext) => {
    let n = 0;
    return {
      Field(node: { alias?: unknown }) {
        if (node.alias && ++n === max + 1) context.reportError(new GraphQLError(`At most ${max} aliases per operation`, { extensions: { code: 'too_many_aliases' } }));
      },
    };
  };
}

/** Lists that are not connections are counted as this many items. */
const LIST_GUESS = 10;

/**
 * What an operation may cost before it runs: each field 1, times the items of the lists around it — a connection's
 * `first` (default 20), other lists LIST_GUESS. The same number is spent from the caller's budget per minute.
 */
export function operationCost(schema: GraphQLSchema, doc: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op = (operationName ? ops.find((o) => o.name?.value === operationName) : ops[0]) ?? ops[0];
  if (!op) return 0;
  const root = op.operation === 'mutation' ? schema.getMutationType() : op.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return 0;
  const value = (v: ValueNode | undefined): unknown => (!v ? undefined : v.kind === Kind.VARIABLE ? variables?.[v.name.value] : v.kind === Kind.INT ? Number(v.value) : undefined);
  // `connection`: this selection set is a connection's, whose `nodes` list is already counted by its `first`.
  const walk = (set: SelectionSetNode, type: GraphQLObjectType, mult: number, depth: number, connection = false): number => {
    if (depth > 50) return Infinity;
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const def = type.getFields()[sel.name.value];
        if (!def) continue;
        total += mult;
        const named = getNamedType(def.type);
        if (!sel.selectionSet || !isObjectType(named)) continue;
        const inner = isNonNullType(def.type) ? def.type.ofType : def.type;
        const firstArg = def.args.find((a) => a.name === 'first');
        let items = 1;
        if (firstArg) items = Number(value(sel.arguments?.find((a) => a.name.value === 'first')?.value) ?? firstArg.defaultValue ?? 20);
        else if (isListType(inner) && !(connection && (sel.name.value === 'nodes' || sel.name.value === 'edges'))) items = LIST_GUESS;
        total += walk(sel.selectionSet, named, mult * Math.max(1, items), depth + 1, firstArg !== undefined);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : type;
        if (isObjectType(t)) total += walk(sel.selectionSet, t, mult, depth + 1, connection);
      } else {
        const f = fragments.get(sel.name.value);
        const t = f ? schema.getType(f.typeCondition.name.value) : null;
        if (f && isObjectType(t)) total += walk(f.selectionSet, t, mult, depth + 1, connection);
      }
    }
    return total;
  };
  return walk(op.selectionSet, root, 1, 0);
}

// --- errors --------------------------------------------------------------------------------------------------

/** A coded GraphQL error: the same `code` (and `kind`) REST puts in problem+json. */
function toGraphqlError(e: GraphQLError, log: { error(o: object, m: string): void } | undefined): GraphQLError {
  const original = e.originalError;
  if (original instanceof AppError) {
    return new GraphQLError(original.message, { nodes: e.nodes, path: e.path, extensions: { code: original.code, kind: original.kind, ...(original.errors ? { errors: original.errors } : {}), ...(original.retryAfterSeconds ? { retryAfter: original.retryAfterSeconds } : {}) } });
  }
  // mercurius's own refusals (query depth, persisted-query errors) carry a 4xx statusCode: the query's fault.
  const status = (original as { statusCode?: number } | undefined)?.statusCode;
  const mercuriusRefusal = String((original as { code?: unknown } | undefined)?.code ?? '').startsWith('MER_ERR_GQL');
  if (original && !(original instanceof GraphQLError) && !mercuriusRefusal && !(status && status < 500)) {
    log?.error({ err: original }, 'graphql resolver failed');
    return new GraphQLError('Something went wrong on our side', { nodes: e.nodes, path: e.path, extensions: { code: 'internal_error', kind: 'internal' } });
  }
  const given = e.extensions?.code as string | undefined;
  const code = given && !given.startsWith('MER_ERR') ? given : /query depth limit/.test(e.message) ? 'query_too_deep' : /introspection/i.test(e.message) ? 'introspection_disabled' : /persisted/i.test(e.message) || given === 'MER_ERR_GQL_PERSISTED_QUERY_NOT_FOUND' ? 'persisted_query_not_found' : 'graphql_validation_failed';
  return new GraphQLError(e.message, { nodes: e.nodes, path: e.path, extensions: { ...e.extensions, code, kind: 'malformed' } });
}

// --- subscriptions: fed by the realtime hub -----------------------------------------------------------------

interface SubContext {
  credentials: Credentials;
  ip: string;
  log: FastifyRequest['log'];
}

/**
 * One GraphQL subscription as one realtime connection: it authenticates with the subscriber's credentials, subscribes
 * through the same policy, and yields each message of the channel — so it works across nodes, and closes when the
 * credentials stop holding.
 */
async function channelIterator<T>(hub: RealtimeHub, s: SubContext, channel: string, map: (frame: Record<string, unknown>) => T | null): Promise<AsyncIterableIterator<T>> {
  const queue: T[] = [];
  let wake: (() => void) | null = null;
  let done = false;
  let failure: AppError | null = null;
  let ready: ((ok: boolean) => void) | null = null;
  const readyP = new Promise<boolean>((r) => (ready = r));
  const push = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const wire: Wire = {
    kind: 'websocket',
    send: (text) => {
      const f = JSON.parse(text) as Record<string, unknown> & { type: string };
      if (f.type === 'subscribed') ready?.(true);
      else if (f.type === 'error' || f.type === 'unsubscribed') {
        failure = new AppError((f.kind as AppError['kind']) ?? 'forbidden', String(f.code), String(f.detail));
        ready?.(false);
        done = true;
        push();
      } else if (f.type === 'message') {
        const v = map(f);
        if (v !== null) {
          queue.push(v);
          push();
        }
      }
    },
    close: (_code, reason) => {
      failure ??= new AppError('unauthenticated', reason || 'connection_closed', 'The subscription ended');
      done = true;
      ready?.(false);
      push();
    },
    buffered: () => 0,
    heartbeat: () => true,
  };
  const conn = new Connection(hub, wire, s.ip, s.log);
  conn.open(s.credentials);
  void conn.receive(JSON.stringify({ type: 'subscribe', id: 'graphql', channel }));
  if (!(await readyP)) throw failure ?? new AppError('unauthenticated', 'authentication_required', 'This subscription needs a credential');
  const it: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]() {
      return it;
    },
    async next() {
      while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
      if (queue.length > 0) return { value: queue.shift() as T, done: false };
      if (failure) throw failure;
      return { value: undefined, done: true };
    },
    async return() {
      done = true;
      conn.close(1000, 'unsubscribed');
      push();
      return { value: undefined, done: true };
    },
  };
  return it;
}

export async function registerGraphql(app: FastifyInstance, deps: Deps, hub: RealtimeHub, o: GraphqlOptions): Promise<void> {
  const gdeps = { db: deps.db, clock: deps.clock, config: deps.config, payments: deps.payments };
  const resolvers = buildResolvers(gdeps) as Record<string, unknown>;
  const sub = (s: SubContext | undefined) => {
    if (!s) throw new AppError('unauthenticated', 'authentication_required', 'Subscriptions run over the WebSocket (graphql-transport-ws)');
    return s;
  };
  const orderUpdate = (f: Record<string, unknown>) => {
    const d = f.data as Record<string, unknown>;
    return { event: f.event, orderId: d.order_id, number: d.number ?? null, status: d.status ?? null, total: d.total ?? null, currency: d.currency ?? null, at: f.at, position: f.position };
  };
  resolvers.Subscription = {
    orderUpdated: {
      subscribe: async (_: unknown, a: { orderId?: string | null }, g: { sub?: SubContext; principal?: Principal }) => {
        const s = sub(g.sub);
        // Staff follow the shop's feed; a customer their own orders. With orderId, only that order.
        const p = await deps.auth.principalFromCredentials(s.credentials).catch(() => null);
        const channel = p?.kind === 'customer' ? 'me/orders' : 'orders';
        return channelIterator(hub, s, channel, (f) => (a.orderId && (f.data as { order_id?: string }).order_id !== a.orderId ? null : { orderUpdated: orderUpdate(f) }));
      },
    },
    inventoryChanged: {
      subscribe: async (_: unknown, a: { productId?: string | null }, g: { sub?: SubContext }) =>
        channelIterator(hub, sub(g.sub), a.productId ? `products/${a.productId}/availability` : 'inventory', (f) => ({ inventoryChanged: { event: f.event, data: f.data, at: f.at, position: f.position } })),
    },
    orderMessages: {
      subscribe: async (_: unknown, a: { orderId: string }, g: { sub?: SubContext }) =>
        channelIterator(hub, sub(g.sub), `orders/${a.orderId}/messages`, (f) => ({ orderMessages: { event: f.event, data: f.data, at: f.at, position: f.position } })),
    },
  };

  const formatter = (execution: { data?: unknown; errors?: readonly GraphQLError[] }, context: { reply?: { request?: FastifyRequest } }) => {
    const log = context?.reply?.request?.log;
    // mercurius wraps validation failures (the spec's rules, ours, the depth limit) in one error: unwrap them.
    const flat = (execution.errors ?? []).flatMap((e) => {
      const inner = e.originalError instanceof AppError ? undefined : (e.originalError as { errors?: unknown } | undefined)?.errors;
      if (!Array.isArray(inner)) return [e];
      return inner.map((x: unknown) => (x instanceof GraphQLError ? x : new GraphQLError((x as Error).message, { originalError: x as Error })));
    });
    const errors = flat.map((e) => toGraphqlError(e, log));
    // Never a 5xx for a query: errors go in the body. A request that did not run at all (validation) is a 400.
    const ran = execution.data !== undefined && execution.data !== null;
    return { statusCode: ran || !errors?.length ? 200 : errors.some((e) => e.extensions.kind !== 'malformed') ? 200 : 400, response: { data: execution.data ?? null, ...(errors?.length ? { errors } : {}) } };
  };

  await app.register(mercurius, {
    schema: SDL,
    resolvers: resolvers as never,
    loaders: buildLoaders(gdeps) as never,
    path: '/graphql',
    graphiql: o.graphiql,
    jit: 1,
    queryDepth: o.maxDepth,
    allowBatchedQueries: false,
    persistedQueryProvider: mercurius.persistedQueryDefaults.automatic(5000),
    validationRules: [aliasLimit(o.maxAliases), ...(o.introspection ? [] : [NoSchemaIntrospectionCustomRule])],
    errorFormatter: formatter as never,
    context: (req: FastifyRequest): GqlContext => ({ principal: req.principal, authError: req.graphqlAuthError ?? null, log: req.log }),
    subscription: {
      onConnect: ({ payload }: { payload?: Record<string, unknown> }) => {
        // Credentials in connection_init: { authorization: "Bearer …" } and/or { "x-publishable-key": "pk_…" }.
        const auth = typeof payload?.authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(payload.authorization)?.[1] : undefined;
        const pk = payload?.['x-publishable-key'] ?? payload?.publishableKey;
        return { connectionCredentials: { token: auth ?? null, publishableKey: typeof pk === 'string' ? pk : null } };
      },
      context: (_socket: unknown, req: FastifyRequest) => ({ sub: { credentials: headerCredentials(req), ip: req.ip, log: req.log } }),
      keepAlive: deps.config.realtime.heartbeatSeconds * 1000,
    } as never,
  });

  // GraphiQL (development by default) loads React and GraphiQL from unpkg and talks to /graphql: its own CSP.
  if (o.graphiql) {
    const csp = "default-src 'self'; script-src 'self' https://unpkg.com; style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data: https://unpkg.com; font-src 'self' data: https://unpkg.com; connect-src 'self' ws: wss:; worker-src 'self' blob:; frame-ancestors 'none'";
    app.addHook('onSend', async (req, reply) => {
      if (req.url.startsWith('/graphiql')) reply.header('content-security-policy', csp);
    });
  }

  // connection_init credentials win over the upgrade request's headers.
  app.graphql.addHook('preSubscriptionParsing', async (_schema, _source, context) => {
    const c = context as unknown as { sub?: SubContext; connectionCredentials?: Credentials };
    if (c.sub && c.connectionCredentials && (c.connectionCredentials.token || c.connectionCredentials.publishableKey)) c.sub.credentials = c.connectionCredentials;
  });

  // Cost: refused above the per-operation maximum, and spent from the caller's budget per minute.
  app.graphql.addHook('preExecution', async (schema, document, context, variables) => {
    const ctx = context as unknown as GqlContext & { reply: { request: FastifyRequest } };
    const cost = operationCost(schema, document, variables as Record<string, unknown> | undefined);
    if (cost > o.maxCost) throw new AppError('too_large', 'query_too_costly', `This operation would cost ${cost} points; at most ${o.maxCost}`);
    const req = ctx.reply?.request;
    const key = req ? principalKey(ctx.principal, req.ip) : 'subscription';
    try {
      await o.costLimiter.consume(key, Math.max(1, cost));
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      throw rateLimited('rate_limited', `GraphQL budget spent: ${o.costPerMinute} cost points per minute`, e.msBeforeNext / 1000);
    }
    return undefined;
  });
}

/** The catalogue's read fields: their answers are the same for every caller of one audience, so they can be cached. */
const CATALOGUE_FIELDS = new Set(['products', 'product', 'categories', 'collections', 'collection']);
const shapes = new Map<string, { readOnly: boolean; catalogueOnly: boolean }>();

/** What a query text is: only queries (no mutation: nothing to hand the outbox), and only catalogue reads. Memoised. */
function shapeOf(query: string): { readOnly: boolean; catalogueOnly: boolean } {
  let v = shapes.get(query);
  if (v) return v;
  try {
    const ops = parse(query).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    const readOnly = ops.every((d) => d.operation === 'query');
    v = { readOnly, catalogueOnly: readOnly && ops.every((d) => d.selectionSet.selections.every((s) => s.kind === Kind.FIELD && CATALOGUE_FIELDS.has(s.name.value))) };
  } catch {
    v = { readOnly: false, catalogueOnly: false };
  }
  if (shapes.size > 5000) shapes.clear();
  shapes.set(query, v);
  return v;
}

/**
 * Catalogue queries answered from a per-process cache while the shop's catalogue version is unchanged — the same
 * rule as REST's catalogue pages (a write on any node bumps the version, so every node recomputes). Two audiences,
 * as in REST: the storefront (publishable key, customers) and staff holding catalog:read (who see stock counts).
 */
export function graphqlCache(app: FastifyInstance, deps: Deps): void {
  const pages = new PageCache(2000);
  app.addHook('preHandler', async (req, reply) => {
    if (!req.routeOptions.config?.graphql || req.url.startsWith('/graphiql')) return;
    const body = (req.method === 'POST' ? req.body : req.query) as { query?: unknown; variables?: unknown; operationName?: unknown } | null;
    if (!body || typeof body.query !== 'string') return;
    const shape = shapeOf(body.query);
    req.readOnly = shape.readOnly;
    const p = req.principal;
    if (!shape.catalogueOnly || req.graphqlAuthError || !('tenantId' in p)) return;
    const audience = p.kind === 'shopper' || p.kind === 'customer' ? 'shop' : may(p, 'catalog:read') ? 'staff' : null;
    if (!audience) return;
    const variables = typeof body.variables === 'string' ? body.variables : JSON.stringify(body.variables ?? null);
    const key = `${p.tenantId}|${audience}|${sha256(`${body.query}\n${variables}\n${String(body.operationName ?? '')}`)}`;
    const version = await currentVersion(deps.db, p.tenantId, 'catalog');
    const hit = pages.get(key, version);
    if (hit) return sendEntry(req, reply, hit);
    req.graphqlCache = { key, version };
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const c = req.graphqlCache;
    if (!c || reply.statusCode !== 200 || typeof payload !== 'string' || payload.includes('"errors"')) return payload;
    const e = pages.set(c.key, c.version, payload);
    reply.header('etag', e.etag);
    return payload;
  });
}

/** Authenticates a GraphQL request from its headers, when it sends credentials (fields that need none still run). */
export function graphqlAuth(app: FastifyInstance, deps: Deps): void {
  app.addHook('onRequest', async (req) => {
    if (!req.routeOptions.config?.graphql) return;
    const creds = headerCredentials(req);
    if (!creds.token && !creds.publishableKey) return;
    try {
      req.principal = await deps.auth.principalFromCredentials(creds);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      req.graphqlAuthError = e;
    }
  });
}

