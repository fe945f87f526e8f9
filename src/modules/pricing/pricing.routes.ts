import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { problemResponse } from '../../http/problem.ts';
import { ifMatchVersion, setEtag } from '../../http/etag.ts';
import { IdParams, NoContent, Page, PageQuery, PageOnlyQuery, pageRequest } from '../../http/schemas.ts';
import { getShop } from '../tenants/index.ts';
import {
  createDiscount,
  createShippingMethod,
  createTaxRate,
  deleteTaxRate,
  getDiscount,
  listDiscounts,
  listShippingMethods,
  listTaxRates,
  quote,
  updateDiscount,
  updateShippingMethod,
  totalsOf,
  updateTaxRate,
} from './index.ts';
import {
  DiscountCreate,
  DiscountPatch,
  DiscountSchema,
  QuoteBody,
  ShippingCreate,
  ShippingMethodSchema,
  ShippingPatch,
  TaxRateCreate,
  TaxRatePatch,
  TaxRateSchema,
  TotalsSchema,
} from './pricing.schemas.ts';


export const pricingRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['pricing'];
  const read = access.staff('pricing:read');
  const write = access.staff('pricing:write');

  app.post(
    '/api/quote',
    { config: { access: access.anyTenant() }, schema: { tags, summary: 'Price lines without a cart: lines, discount, shipping, tax and total', operationId: 'quote', body: QuoteBody, response: { 200: TotalsSchema } } },
    async (req) => {
      const ctx = deps.ctx(req);
      const p = ctx.principal;
      return totalsOf(await quote(ctx, await getShop(ctx), { ...req.body, customer_key: p.kind === 'customer' ? p.customerId : null }));
    },
  );

  // tax rates
  app.get('/api/tax-rates', { config: { access: read }, schema: { tags, summary: 'Tax rates by country and region, in creation order', operationId: 'listTaxRates', querystring: PageOnlyQuery, response: { 200: Page(TaxRateSchema, 'TaxRate') } } }, async (req) => listTaxRates(deps.ctx(req), pageRequest(req.query)));
  app.post('/api/tax-rates', { config: { access: write }, schema: { tags, summary: 'Add a tax rate', operationId: 'createTaxRate', body: TaxRateCreate, response: { 201: TaxRateSchema } } }, async (req, reply) =>
    reply.code(201).send(await deps.tx(req, (ctx) => createTaxRate(ctx, req.body))),
  );
  app.patch('/api/tax-rates/:id', { config: { access: write }, schema: { tags, summary: 'Change a tax rate', operationId: 'updateTaxRate', params: IdParams, body: TaxRatePatch, response: { 200: TaxRateSchema } } }, async (req) =>
    deps.tx(req, (ctx) => updateTaxRate(ctx, req.params.id, req.body)),
  );
  app.delete('/api/tax-rates/:id', { config: { access: write }, schema: { tags, summary: 'Remove a tax rate', operationId: 'deleteTaxRate', params: IdParams, response: { 204: NoContent } } }, async (req, reply) => {
    await deps.tx(req, (ctx) => deleteTaxRate(ctx, req.params.id));
    return reply.code(204).send(null);
  });

  // shipping methods
  app.get('/api/shipping-methods', { config: { access: read }, schema: { tags, summary: 'Shipping methods', operationId: 'listShippingMethods', querystring: PageOnlyQuery, response: { 200: Page(ShippingMethodSchema, 'ShippingMethod') } } }, async (req) =>
    listShippingMethods(deps.ctx(req), pageRequest(req.query)),
  );
  app.post('/api/shipping-methods', { config: { access: write }, schema: { tags, summary: 'Add a shipping method (flat or by weight, optionally free over an amount)', operationId: 'createShippingMethod', body: ShippingCreate, response: { 201: ShippingMethodSchema } } }, async (req, reply) =>
    reply.code(201).send(await deps.tx(req, (ctx) => createShippingMethod(ctx, req.body))),
  );
  app.patch('/api/shipping-methods/:id', { config: { access: write }, schema: { tags, summary: 'Change or deactivate a shipping method', operationId: 'updateShippingMethod', params: IdParams, body: ShippingPatch, response: { 200: ShippingMethodSchema } } }, async (req) =>
    deps.tx(req, (ctx) => updateShippingMethod(ctx, req.params.id, req.body)),
  );

  // discounts
  app.get(
    '/api/discounts',
    { config: { access: read }, schema: { tags, summary: 'Discount codes', operationId: 'listDiscounts', querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }), response: { 200: Page(DiscountSchema, 'Discount') } } },
    async (req) => listDiscounts(deps.ctx(req), req.query.limit ?? 20, req.query.cursor),
  );
  app.post('/api/discounts', { config: { access: write }, schema: { tags, summary: 'Create a discount code', operationId: 'createDiscount', body: DiscountCreate, response: { 201: DiscountSchema } } }, async (req, reply) =>
    reply.code(201).send(await deps.tx(req, (ctx) => createDiscount(ctx, req.body))),
  );
  app.get('/api/discounts/:id', { config: { access: read }, schema: { tags, summary: 'Read a discount code', operationId: 'getDiscount', params: IdParams, response: { 200: DiscountSchema } } }, async (req, reply) => {
    const d = await getDiscount(deps.ctx(req), req.params.id);
    setEtag(reply, d.id, d.version, String(d.times_used));
    return d;
  });
  app.patch('/api/discounts/:id', { config: { access: write }, schema: { tags, summary: 'Change or disable a discount code (If-Match)', operationId: 'updateDiscount', params: IdParams, body: DiscountPatch, response: { 200: DiscountSchema, 412: problemResponse('If-Match names an old version') } } }, async (req, reply) => {
    const expected = ifMatchVersion(req, req.params.id);
    const d = await deps.tx(req, (ctx) => updateDiscount(ctx, req.params.id, req.body, expected));
    setEtag(reply, d.id, d.version, String(d.times_used));
    return d;
  });
};
