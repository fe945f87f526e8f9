import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../app.ts';
import { access } from '../../http/access.ts';
import { problemResponse } from '../../http/problem.ts';
import { Body, Email, IdParams, Page, PageQuery, Timestamp } from '../../http/schemas.ts';
import { checkout } from '../../workflows/checkout.ts';
import { cancelOrder, captureOrder, refundOrder } from '../../workflows/order-actions.ts';
import { MAX_AMOUNT } from '../../lib/money.ts';
import { AddressSchema, LineInput } from '../pricing/pricing.schemas.ts';
import { complete, fulfil, getOrder, listOrders, orderEvents } from './orders.service.ts';
import { ORDER_STATUSES } from './state.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Status = Type.Unsafe<(typeof ORDER_STATUSES)[number]>({ type: 'string', enum: ORDER_STATUSES });

const PaymentSchema = Type.Object({
  id: Type.String(),
  order_id: Type.String(),
  provider: Type.String(),
  status: Type.String(),
  amount: Type.Integer(),
  amount_captured: Type.Integer(),
  amount_refunded: Type.Integer(),
  currency: Type.String(),
  provider_ref: Type.Union([Type.String(), Type.Null()]),
  client_secret: Type.Union([Type.String(), Type.Null()], { description: 'Stripe: confirm the PaymentIntent in the browser with this' }),
  failure_reason: Type.Union([Type.String(), Type.Null()]),
  next_action: Type.Union([Type.Object({ type: Type.String(), detail: Type.String() }), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const OrderSchema = Type.Object(
  {
    id: Type.String(),
    number: Type.Integer(),
    name: Type.String({ description: 'The human number, e.g. #1001' }),
    status: Status,
    customer_id: Type.Union([Type.String(), Type.Null()]),
    email: Type.Union([Type.String(), Type.Null()]),
    currency: Type.String(),
    tax_mode: Type.String(),
    lines: Type.Array(
      Type.Object({
        id: Type.String(),
        variant_id: Type.String(),
        product_id: Type.String(),
        sku: Type.String(),
        title: Type.String(),
        quantity: Type.Integer(),
        unit_price: Type.Integer(),
        subtotal: Type.Integer(),
        discount: Type.Integer(),
        tax: Type.Integer(),
        total: Type.Integer(),
        fulfilled_quantity: Type.Integer(),
      }),
    ),
    subtotal: Type.Integer(),
    discount_total: Type.Integer(),
    shipping_total: Type.Integer(),
    tax_total: Type.Integer(),
    total: Type.Integer(),
    amount_paid: Type.Integer(),
    amount_refunded: Type.Integer(),
    discount_code: Type.Union([Type.String(), Type.Null()]),
    shipping_method: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
    shipping_address: Type.Union([AddressSchema, Type.Null()]),
    billing_address: Type.Union([AddressSchema, Type.Null()]),
    payments: Type.Array(PaymentSchema),
    refunds: Type.Array(Type.Object({ id: Type.String(), payment_id: Type.String(), amount: Type.Integer(), reason: Type.String(), created_at: Timestamp })),
    fulfillments: Type.Array(Type.Object({ id: Type.String(), carrier: Type.String(), tracking_number: Type.String(), lines: Type.Array(Type.Object({ line_id: Type.String(), quantity: Type.Integer() })), created_at: Timestamp })),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Order' },
);

const CheckoutBody = Body(
  {
    cart_id: Type.Optional(Id),
    lines: Type.Optional(Type.Array(LineInput, { minItems: 1, maxItems: 100, description: 'Staff and secret keys only, instead of cart_id' })),
    email: Type.Optional(Email),
    customer_id: Type.Optional(Id),
    shipping_address: Type.Optional(AddressSchema),
    billing_address: Type.Optional(AddressSchema),
    shipping_method_id: Type.Optional(Id),
    discount_code: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    payment: Type.Object(
      {
        provider: Type.Union([Type.Literal('manual'), Type.Literal('test'), Type.Literal('stripe')]),
        card_number: Type.Optional(Type.String({ minLength: 12, maxLength: 23, pattern: '^[0-9 -]+$', description: 'Test provider only: a documented test card number' })),
      },
      { additionalProperties: false },
    ),
  },
  'CheckoutRequest',
);

const LineQty = Type.Array(Type.Object({ line_id: Id, quantity: Type.Integer({ minimum: 1, maximum: 10_000 }) }, { additionalProperties: false }), { minItems: 1, maxItems: 100 });

export const ordersRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['orders'];
  const write = access.staff('orders:write');
  const providers = deps.payments;

  app.post(
    '/api/orders',
    {
      config: { access: { shopper: true, staff: 'orders:write' } },
      schema: {
        tags,
        summary: 'Checkout: turn a cart (or, for staff and secret keys, lines) into an order, take stock and start the payment — all or nothing',
        description: 'Send an Idempotency-Key: a retried request returns the same order instead of a second one.',
        operationId: 'createOrder',
        body: CheckoutBody,
        response: { 201: OrderSchema, 402: problemResponse('Payment declined'), 502: problemResponse('The payment provider failed; nothing was ordered') },
      },
    },
    async (req, reply) => {
      const order = await checkout(deps.ctx(req), { providers, probe: deps.checkoutProbe }, req.body);
      return reply.code(201).header('location', `/api/orders/${order.id}`).send(order);
    },
  );
  app.get(
    '/api/orders',
    {
      config: { access: access.staffOrCustomer('orders:read') },
      schema: { tags, summary: 'Orders, newest first (a customer sees their own)', operationId: 'listOrders', querystring: Type.Object({ ...PageQuery, status: Type.Optional(Status), customer_id: Type.Optional(Id) }, { additionalProperties: false }), response: { 200: Page(OrderSchema, 'Order') } },
    },
    async (req) => listOrders(deps.ctx(req), { ...req.query, limit: req.query.limit ?? 20 }),
  );
  app.get('/api/orders/:id', { config: { access: access.staffOrCustomer('orders:read') }, schema: { tags, summary: 'Read an order', operationId: 'getOrder', params: IdParams, response: { 200: OrderSchema } } }, async (req) =>
    getOrder(deps.ctx(req), req.params.id),
  );
  app.get(
    '/api/orders/:id/events',
    {
      config: { access: access.staffOrCustomer('orders:read') },
      schema: {
        tags,
        summary: 'Everything that happened to an order',
        operationId: 'listOrderEvents',
        params: IdParams,
        response: { 200: Type.Object({ data: Type.Array(Type.Object({ id: Type.String(), type: Type.String(), from_status: Type.Union([Type.String(), Type.Null()]), to_status: Type.Union([Type.String(), Type.Null()]), data: Type.Record(Type.String(), Type.Unknown()), actor: Type.String(), created_at: Timestamp })) }) },
      },
    },
    async (req) => ({ data: await orderEvents(deps.ctx(req), req.params.id) }),
  );

  const action = (path: string, operationId: string, summary: string, body: ReturnType<typeof Body> | null, run: (ctxReq: Parameters<Deps['tx']>[0], id: string, body: never) => Promise<void>) =>
    app.post(
      `/api/orders/:id/${path}`,
      { config: { access: write }, schema: { tags, summary, operationId, params: IdParams, ...(body ? { body } : {}), response: { 200: OrderSchema } } },
      async (req) => {
        await run(req, req.params.id, req.body as never);
        return getOrder(deps.ctx(req), req.params.id);
      },
    );

  action('capture', 'captureOrder', 'Take the payment of a pending order (mark a manual payment received)', null, (req, id) => deps.tx(req, (ctx) => captureOrder(ctx, providers, id)));
  action(
    'cancel',
    'cancelOrder',
    'Cancel an unshipped order: void or refund its payment and put the stock back',
    Body({ restock: Type.Optional(Type.Boolean({ default: true })), reason: Type.Optional(Type.String({ maxLength: 500 })) }, 'CancelRequest'),
    (req, id, body: { restock?: boolean; reason?: string }) => deps.tx(req, (ctx) => cancelOrder(ctx, providers, id, body)),
  );
  action(
    'fulfillments',
    'fulfilOrder',
    'Ship lines with a carrier and tracking number (all remaining lines when none are given)',
    Body({ carrier: Type.String({ minLength: 1, maxLength: 100 }), tracking_number: Type.String({ minLength: 1, maxLength: 100 }), lines: Type.Optional(LineQty) }, 'FulfillmentRequest'),
    (req, id, body: { carrier: string; tracking_number: string; lines?: { line_id: string; quantity: number }[] }) => deps.tx(req, (ctx) => fulfil(ctx, id, body)),
  );
  action('complete', 'completeOrder', 'Close a fulfilled order', null, (req, id) => deps.tx(req, (ctx) => complete(ctx, id)));
  action(
    'refunds',
    'refundOrder',
    'Refund an amount or returned lines (never more than was paid), optionally restocking them',
    Body({ amount: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_AMOUNT })), lines: Type.Optional(LineQty), restock: Type.Optional(Type.Boolean()), reason: Type.Optional(Type.String({ maxLength: 500 })) }, 'RefundRequest'),
    (req, id, body: { amount?: number; lines?: { line_id: string; quantity: number }[]; restock?: boolean; reason?: string }) => deps.tx(req, (ctx) => refundOrder(ctx, providers, id, body)),
  );
};
