import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import type { Access } from '../../http/access.ts';
import { Body, Email, Timestamp } from '../../http/schemas.ts';
import { AddressSchema, LineInput, TotalsSchema, totalsOf } from '../pricing/index.ts';
import { addLine, cartShippingOptions, createCart, removeLine, setLineQuantity, updateCart, viewCart, type PricedCart } from './carts.service.ts';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z]+_[0-9a-z]+$' });
const CartParams = Type.Object({ id: Id }, { additionalProperties: false });
const LineParams = Type.Object({ id: Id, lineId: Id }, { additionalProperties: false });

export const CartSchema = Type.Object(
  {
    id: Type.String(),
    customer_id: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.Literal('open'), Type.Literal('ordered'), Type.Literal('merged')]),
    email: Type.Union([Type.String(), Type.Null()]),
    discount_code: Type.Union([Type.String(), Type.Null()]),
    shipping_method_id: Type.Union([Type.String(), Type.Null()]),
    shipping_address: Type.Union([AddressSchema, Type.Null()]),
    billing_address: Type.Union([AddressSchema, Type.Null()]),
    lines: Type.Array(Type.Object({ id: Type.String(), variant_id: Type.String(), quantity: Type.Integer() })),
    totals: Type.Union([TotalsSchema, Type.Null()], { description: 'Recomputed on every read and change; null for an empty cart' }),
    warnings: Type.Array(
      Type.Object({ code: Type.String(), detail: Type.String(), line_id: Type.Union([Type.String(), Type.Null()]), pointer: Type.Union([Type.String(), Type.Null()], { description: 'JSON pointer into this request, when a field of it caused the warning' }) }),
      { description: 'What checkout would refuse now (insufficient_stock, variant_unavailable, a code or method that no longer applies); checkout still decides' },
    ),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Cart' },
);

export const cartJson = (p: PricedCart) => ({ ...p.cart, totals: p.quote ? totalsOf(p.quote) : null });

/** Shoppers (guest through the publishable key, or logged in) and staff who look after orders. */
const cartAccess: Access = { shopper: true, staff: 'orders:write' };

export const cartsRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['carts'];
  app.post(
    '/api/carts',
    {
      config: { access: cartAccess },
      schema: { tags, summary: 'Start a cart (a guest cart with the publishable key, or the logged-in customer’s)', operationId: 'createCart', body: Body({ email: Type.Optional(Email), lines: Type.Optional(Type.Array(LineInput, { maxItems: 100 })) }, 'CartCreate', { email: 'ann@example.com', lines: [{ variant_id: 'var_01j9z3k8q0m4x7c2v5b6n8p1r3', quantity: 2 }] }), response: { 201: CartSchema } },
    },
    async (req, reply) => {
      const c = cartJson(await deps.tx(req, (ctx) => createCart(ctx, req.body)));
      return reply.code(201).header('location', `/api/carts/${c.id}`).send(c);
    },
  );
  app.get('/api/carts/:id', { config: { access: cartAccess }, schema: { tags, summary: 'Read a cart with fresh totals', operationId: 'getCart', params: CartParams, response: { 200: CartSchema } } }, async (req) =>
    cartJson(await viewCart(deps.ctx(req), req.params.id)),
  );
  app.patch(
    '/api/carts/:id',
    {
      config: { access: cartAccess },
      schema: {
        tags,
        summary: 'Set email, addresses, shipping method or discount code (null removes)',
        operationId: 'updateCart',
        params: CartParams,
        body: Body(
          {
            email: Type.Optional(Type.Union([Email, Type.Null()])),
            discount_code: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Null()])),
            shipping_method_id: Type.Optional(Type.Union([Id, Type.Null()])),
            shipping_address: Type.Optional(Type.Union([AddressSchema, Type.Null()])),
            billing_address: Type.Optional(Type.Union([AddressSchema, Type.Null()])),
          },
          'CartUpdate',
        ),
        response: { 200: CartSchema },
      },
    },
    async (req) => cartJson(await deps.tx(req, (ctx) => updateCart(ctx, req.params.id, req.body))),
  );
  app.post('/api/carts/:id/lines', { config: { access: cartAccess }, schema: { tags, summary: 'Add a variant (quantities add up)', operationId: 'addCartLine', params: CartParams, body: LineInput, response: { 200: CartSchema } } }, async (req) =>
    cartJson(await deps.tx(req, (ctx) => addLine(ctx, req.params.id, req.body))),
  );
  app.patch(
    '/api/carts/:id/lines/:lineId',
    { config: { access: cartAccess }, schema: { tags, summary: 'Change a line’s quantity', operationId: 'updateCartLine', params: LineParams, body: Body({ quantity: Type.Integer({ minimum: 1, maximum: 10_000 }) }, 'CartLineUpdate'), response: { 200: CartSchema } } },
    async (req) => cartJson(await deps.tx(req, (ctx) => setLineQuantity(ctx, req.params.id, req.params.lineId, req.body.quantity))),
  );
  app.delete('/api/carts/:id/lines/:lineId', { config: { access: cartAccess }, schema: { tags, summary: 'Remove a line', operationId: 'removeCartLine', params: LineParams, response: { 200: CartSchema } } }, async (req) =>
    cartJson(await deps.tx(req, (ctx) => removeLine(ctx, req.params.id, req.params.lineId))),
  );
  app.get(
    '/api/carts/:id/shipping-options',
    { config: { access: cartAccess }, schema: { tags, summary: 'Shipping methods that can ship this cart, with their price', operationId: 'cartShippingOptions', params: CartParams, response: { 200: Type.Object({ data: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), amount: Type.Integer() })) }) } } },
    async (req) => ({ data: await cartShippingOptions(deps.ctx(req), req.params.id) }),
  );
};
