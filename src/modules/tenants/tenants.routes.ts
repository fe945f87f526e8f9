import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { problemResponse } from '../../http/problem.ts';
import { etagOf, ifMatchVersion, sendWithEtag, setEtag } from '../../http/etag.ts';
import { IdParams } from '../../http/schemas.ts';
import { AppError } from '../../lib/errors.ts';
import { isValidTimeZone } from '../../lib/timezones.ts';
import { signup } from '../../workflows/signup.ts';
import { getShop, getTenant, listTenants, setTenantStatus, updateShop } from './tenants.service.ts';
import { PlatformCreateTenant, ShopPatch, SignupBody, SignupResponse, SuspendBody, TenantListQuery, TenantPage, TenantSchema } from './tenants.schemas.ts';

function checkTimeZone(tz: string | undefined): void {
  if (tz !== undefined && !isValidTimeZone(tz)) throw new AppError('malformed', 'validation_failed', 'Unknown time zone', { errors: [{ pointer: '/body/timezone', detail: 'not an IANA time zone' }] });
}

/** Self-serve: a new shop with its owner and publishable key. */
export const signupRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  app.post(
    '/api/signup',
    {
      config: { access: access.public() },
      schema: { tags: ['tenants'], summary: 'Create a shop, its owner and a publishable key', operationId: 'signup', body: SignupBody, response: { 201: SignupResponse } },
    },
    async (req, reply) => {
      if (!deps.config.signupEnabled) throw new AppError('forbidden', 'signup_disabled', 'Self-serve signup is disabled on this server');
      checkTimeZone(req.body.timezone);
      const result = await signup(deps.db, deps.clock, req.body);
      return reply.code(201).send(result);
    },
  );
};

/** The caller's own shop. */
export const shopRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  app.get('/api/shop', { config: { access: access.staff('shop:read') }, schema: { tags: ['shop'], summary: 'Read the shop (with its ETag)', operationId: 'getShop', response: { 200: TenantSchema } } }, async (req, reply) => {
    const shop = await getShop(deps.ctx(req));
    return sendWithEtag(req, reply, etagOf(shop.id, shop.version), shop);
  });
  app.patch(
    '/api/shop',
    {
      config: { access: access.staff('shop:write') },
      schema: { tags: ['shop'], summary: 'Change the shop’s name, currency, time zone or tax mode; send If-Match with its ETag', operationId: 'updateShop', body: ShopPatch, response: { 200: TenantSchema, 412: problemResponse('If-Match names an old version') } },
    },
    async (req, reply) => {
      checkTimeZone(req.body.timezone);
      const ctx = deps.ctx(req);
      const shop = await updateShop(ctx, req.body, ifMatchVersion(req, ctx.tenantId));
      setEtag(reply, shop.id, shop.version);
      return shop;
    },
  );
};

/** Platform operators: every tenant, guarded by PLATFORM_SECRET. */
export const platformRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const { db, clock } = deps;
  app.get(
    '/api/platform/tenants',
    { config: { access: access.platform() }, schema: { tags: ['platform'], summary: 'List tenants', operationId: 'platformListTenants', querystring: TenantListQuery, response: { 200: TenantPage } } },
    async (req) => listTenants(db, { limit: req.query.limit ?? 20, cursor: req.query.cursor, status: req.query.status }),
  );
  app.post(
    '/api/platform/tenants',
    { config: { access: access.platform() }, schema: { tags: ['platform'], summary: 'Create a tenant with its owner', operationId: 'platformCreateTenant', body: PlatformCreateTenant, response: { 201: SignupResponse } } },
    async (req, reply) => {
      checkTimeZone(req.body.timezone);
      return reply.code(201).send(await signup(db, clock, req.body));
    },
  );
  app.get(
    '/api/platform/tenants/:id',
    { config: { access: access.platform() }, schema: { tags: ['platform'], summary: 'Read a tenant', operationId: 'platformGetTenant', params: IdParams, response: { 200: TenantSchema } } },
    async (req) => getTenant(db, req.params.id),
  );
  app.post(
    '/api/platform/tenants/:id/suspend',
    {
      config: { access: access.platform() },
      schema: { tags: ['platform'], summary: 'Suspend a tenant: its tokens and keys stop working at once', operationId: 'platformSuspendTenant', params: IdParams, body: SuspendBody, response: { 200: TenantSchema } },
    },
    async (req) => {
      const t = await setTenantStatus(db, clock, req.params.id, 'suspended', req.body?.reason);
      deps.auth.forgetKeys(); // other nodes: within PUBLISHABLE_KEY_TTL_MS
      return t;
    },
  );
  app.post(
    '/api/platform/tenants/:id/resume',
    { config: { access: access.platform() }, schema: { tags: ['platform'], summary: 'Resume a suspended tenant', operationId: 'platformResumeTenant', params: IdParams, response: { 200: TenantSchema } } },
    async (req) => setTenantStatus(db, clock, req.params.id, 'active'),
  );
};
