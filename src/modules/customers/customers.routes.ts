import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { problemResponse } from '../../http/problem.ts';
import { etagOf, ifMatchVersion, sendWithEtag, setEtag } from '../../http/etag.ts';
import { Body, Email, IdParams, Page, PageQuery, Password, Timestamp, TokenPairSchema } from '../../http/schemas.ts';
import { forbidden } from '../../lib/errors.ts';
import { mergeGuestCart } from '../carts/index.ts';
import { requestReset } from '../../workflows/password-reset.ts';
import { createCustomer, getCustomer, listCustomers, registerCustomer, updateCustomer } from './customers.service.ts';

const PersonName = Type.String({ maxLength: 100 });

export const CustomerSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    has_account: Type.Boolean({ description: 'Whether the customer has set a password' }),
    version: Type.Integer({ description: 'Bumped by every change; the ETag names it, send it back in If-Match' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Customer' },
);

const RegisterBody = Body({ email: Email, password: Password, first_name: Type.Optional(PersonName), last_name: Type.Optional(PersonName) }, 'CustomerRegister');
const LoginBody = Body({ email: Email, password: Password, cart_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A guest cart to merge into the customer’s cart' })) }, 'CustomerLogin');
const StaffCreate = Body({ email: Email, first_name: Type.Optional(PersonName), last_name: Type.Optional(PersonName) }, 'CustomerCreate');
const StaffPatch = Body(
  { email: Type.Optional(Email), first_name: Type.Optional(PersonName), last_name: Type.Optional(PersonName), status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])) },
  'CustomerUpdate',
);
const SelfPatch = Body({ first_name: Type.Optional(PersonName), last_name: Type.Optional(PersonName) }, 'CustomerSelfUpdate');

export const customersRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  // --- shoppers, through the shop's publishable key
  app.post(
    '/api/customers/register',
    {
      config: { access: access.shopper(), idempotent: false },
      schema: { tags: ['customers'], summary: 'Register a customer account and log in', operationId: 'registerCustomer', body: RegisterBody, response: { 201: Type.Object({ customer: CustomerSchema, tokens: TokenPairSchema }) } },
    },
    async (req, reply) => {
      const ctx = deps.ctx(req);
      const { tokens, customer } = await deps.db.transaction().execute(async (trx) => {
        const customer = await registerCustomer({ ...ctx, db: trx }, req.body);
        return { customer, tokens: await deps.auth.startSession(trx, ctx.tenantId, 'customer', customer.id) };
      });
      return reply.code(201).send({ customer, tokens });
    },
  );
  app.post(
    '/api/customers/login',
    {
      config: { access: access.shopper(), idempotent: false },
      schema: {
        tags: ['customers'],
        summary: 'Customer login; a guest cart_id given here merges into the customer’s cart',
        operationId: 'loginCustomer',
        body: LoginBody,
        response: { 200: Type.Intersect([TokenPairSchema, Type.Object({ cart_id: Type.Union([Type.String(), Type.Null()]) })]) },
      },
    },
    async (req) => {
      const ctx = deps.ctx(req);
      const { tokens, customerId } = await deps.auth.loginCustomer(ctx.tenantId, req.body, req.ip);
      const cartId = req.body.cart_id ? await deps.tx(req, (c) => mergeGuestCart(c, req.body.cart_id as string, customerId)) : null;
      return { ...tokens, cart_id: cartId };
    },
  );
  app.post(
    '/api/customers/password-reset',
    {
      config: { access: access.shopper() },
      schema: { tags: ['customers'], summary: 'Customer: email a single-use reset code (confirm at /api/auth/password-reset/confirm)', operationId: 'requestCustomerPasswordReset', body: Body({ email: Email }, 'CustomerPasswordResetRequest'), response: { 202: Type.Object({ accepted: Type.Boolean() }) } },
    },
    async (req, reply) => {
      await requestReset(deps.db, deps.clock, { subjectType: 'customer', tenantId: deps.ctx(req).tenantId, email: req.body.email });
      return reply.code(202).send({ accepted: true });
    },
  );
  app.get('/api/customers/me', { config: { access: access.customer() }, schema: { tags: ['customers'], summary: 'The logged-in customer', operationId: 'getMe', response: { 200: CustomerSchema } } }, async (req) => {
    const ctx = deps.ctx(req);
    if (ctx.principal.kind !== 'customer') throw forbidden('principal_not_allowed', 'Log in as a customer');
    return getCustomer(ctx, ctx.principal.customerId);
  });
  app.patch(
    '/api/customers/me',
    { config: { access: access.customer() }, schema: { tags: ['customers'], summary: 'Change the logged-in customer’s name', operationId: 'updateMe', body: SelfPatch, response: { 200: CustomerSchema } } },
    async (req) => {
      return deps.tx(req, (ctx) => {
        if (ctx.principal.kind !== 'customer') throw forbidden('principal_not_allowed', 'Log in as a customer');
        return updateCustomer(ctx, ctx.principal.customerId, req.body);
      });
    },
  );

  // --- staff
  app.get(
    '/api/customers',
    {
      config: { access: access.staff('customers:read') },
      schema: {
        tags: ['customers'],
        summary: 'List customers',
        operationId: 'listCustomers',
        querystring: Type.Object({ ...PageQuery, email: Type.Optional(Type.String({ maxLength: 254 })) }, { additionalProperties: false }),
        response: { 200: Page(CustomerSchema, 'Customer') },
      },
    },
    async (req) => listCustomers(deps.ctx(req), { limit: req.query.limit ?? 20, cursor: req.query.cursor, email: req.query.email }),
  );
  app.post(
    '/api/customers',
    { config: { access: access.staff('customers:write') }, schema: { tags: ['customers'], summary: 'Create a customer (without password)', operationId: 'createCustomer', body: StaffCreate, response: { 201: CustomerSchema } } },
    async (req, reply) => {
      const c = await deps.tx(req, (ctx) => createCustomer(ctx, req.body));
      return reply.code(201).header('location', `/api/customers/${c.id}`).send(c);
    },
  );
  app.get(
    '/api/customers/:id',
    { config: { access: access.staff('customers:read') }, schema: { tags: ['customers'], summary: 'Read a customer (with its ETag)', operationId: 'getCustomer', params: IdParams, response: { 200: CustomerSchema } } },
    async (req, reply) => {
      const c = await getCustomer(deps.ctx(req), req.params.id);
      return sendWithEtag(req, reply, etagOf(c.id, c.version), c);
    },
  );
  app.patch(
    '/api/customers/:id',
    {
      config: { access: access.staff('customers:write') },
      schema: { tags: ['customers'], summary: 'Change a customer (disabling one ends their sessions); send If-Match with its ETag', operationId: 'updateCustomer', params: IdParams, body: StaffPatch, response: { 200: CustomerSchema, 412: problemResponse('If-Match names an old version') } },
    },
    async (req, reply) => {
      const expected = ifMatchVersion(req, req.params.id);
      // One transaction: a customer is never disabled with their sessions still alive.
      const c = await deps.tx(req, async (ctx) => {
        const updated = await updateCustomer(ctx, req.params.id, req.body, expected);
        if (req.body.status === 'disabled') await deps.auth.revokeAllSessions(ctx.db, ctx.tenantId, updated.id, 'account_disabled');
        return updated;
      });
      setEtag(reply, c.id, c.version);
      return c;
    },
  );
};
