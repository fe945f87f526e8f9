import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { RequestRecord } from '../../context.ts';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access, type Access } from '../../http/access.ts';
import { problemResponse } from '../../http/problem.ts';
import { Body, Email, IdParams, Page, PageQuery, Timestamp } from '../../http/schemas.ts';
import { checkout } from '../../workflows/checkout.ts';
import { cancelOrder, captureOrder, refundOrder } from '../../workflows/order-actions.ts';
import { MAX_AMOUNT } from '../../lib/money.ts';
import { AddressSchema, LineInput } from '../pricing/index.ts';
import { complete, fulfil, getOrder, listOrders, orderEvents, type Order } from './orders.service.ts';
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
    refunds: Type.Array(Type.Object({ id: Type.String(), payment_id: Type.String(), amount: Type.Integer(), reason: Type.String(), status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')], { description: 'pending until the provider answered; a failed refund gave its amount back' }), created_at: Timestamp })),
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
  { cart_id: 'cart_01j9z3k8q0m4x7c2v5b6n8p1r3', shipping_method_id: 'ship_01j9z3k8q0m4x7c2v5b6n8p1r4', payment: { provider: 'test', card_number: '4242424242424242' } },
);

const LineQty = Type.Array(Type.Object({ line_id: Id, quantity: Type.Integer({ minimum: 1, maximum: 10_000 }) }, { additionalProperties: false }), { minItems: 1, maxItems: 100 });

export const ordersRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['orders'];
  const write = access.staff('orders:write');
  const gateway = deps.payments;

  app.post(
    '/api/orders',
    {
      config: { access: { shopper: true, staff: 'orders:write' }, idempotency: 'recoverable' },
      schema: {
        tags,
        summary: 'Checkout: turn a cart (or, for staff and secret keys, lines) into an order, take stock and start the payment — all or nothing',
        description:
          'Send an Idempotency-Key: a retried request returns the same order instead of a second one — also after a crash, when the retry resumes where the first attempt got to. The payment provider is called outside any database transaction; a provider that cannot be reached answers 503 payment_provider_unavailable with Retry-After, and nothing is ordered.',
        operationId: 'createOrder',
        body: CheckoutBody,
        response: { 201: OrderSchema, 402: problemResponse('Payment declined'), 502: problemResponse('The payment provider refused the request; nothing was ordered'), 503: problemResponse('The payment provider cannot be reached now (circuit open or timed out); nothing was ordered, retry after Retry-After') },
      },
    },
    async (req, reply) => {
      const record = app.requestRecord(req, reply, { status: 201, headers: (o: Order) => ({ location: `/api/orders/${o.id}` }) });
      let order: Order;
      try {
        order = await checkout(deps.ctx(req), { gateway, probe: deps.checkoutProbe }, req.body, record);
      } catch (e) {
        // The same request sent twice at once: the twin's answer, not what this one ran into (a spent cart).
        const outcome = await app.idempotencyRace(req, reply, e);
        if (outcome === reply) return reply;
        throw outcome;
      }
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
        summary: 'Everything that happened to an order, oldest first',
        operationId: 'listOrderEvents',
        params: IdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(Type.Object({ id: Type.String(), type: Type.String(), from_status: Type.Union([Type.String(), Type.Null()]), to_status: Type.Union([Type.String(), Type.Null()]), data: Type.Record(Type.String(), Type.Unknown()), actor: Type.String(), created_at: Timestamp }), 'OrderEvent') },
      },
    },
    async (req) => orderEvents(deps.ctx(req), req.params.id, { limit: req.query.limit ?? 100, cursor: req.query.cursor }),
  );

  type Run = (req: FastifyRequest, record: RequestRecord | undefined, id: string, body: never) => Promise<Order>;
  const money = { 409: problemResponse('Another payment action on this order is still running (order_action_in_progress), or the order cannot do this'), 502: problemResponse('The payment provider refused'), 503: problemResponse('The payment provider cannot be reached now; the action is settled later, retry after Retry-After') };
  const action = (path: string, operationId: string, summary: string, body: ReturnType<typeof Body> | null, run: Run, moves: boolean, needs: Access = write) =>
    app.post(
      `/api/orders/:id/${path}`,
      {
        config: { access: needs, ...(moves ? { idempotency: 'recoverable' as const } : {}) },
        schema: { tags, summary, operationId, params: IdParams, ...(body ? { body } : {}), response: { 200: OrderSchema, ...(moves ? money : {}) } },
      },
      async (req, reply) => run(req, moves ? app.requestRecord(req, reply, { status: 200 }) : undefined, req.params.id, req.body as never),
    );
  // Actions that move money run in phases (workflows/order-actions.ts): never inside one transaction.
  action('capture', 'captureOrder', 'Take the payment of a pending order (mark a manual payment received)', null, (req, record, id) => captureOrder(deps.ctx(req), gateway, id, record), true);
  action(
    'cancel',
    'cancelOrder',
    'Cancel an unshipped order: void or refund its payment and put the stock back (a taken payment needs orders:refund)',
    Body({ restock: Type.Optional(Type.Boolean({ default: true })), reason: Type.Optional(Type.String({ maxLength: 500 })) }, 'CancelRequest'),
    (req, record, id, body: { restock?: boolean; reason?: string }) => cancelOrder(deps.ctx(req), gateway, id, body, record),
    true,
  );
  action(
    'fulfillments',
    'fulfilOrder',
    'Ship lines with a carrier and tracking number (all remaining lines when none are given)',
    Body({ carrier: Type.String({ minLength: 1, maxLength: 100 }), tracking_number: Type.String({ minLength: 1, maxLength: 100 }), lines: Type.Optional(LineQty) }, 'FulfillmentRequest'),
    (req, _record, id, body: { carrier: string; tracking_number: string; lines?: { line_id: string; quantity: number }[] }) =>
      deps.tx(req, async (ctx) => {
        await fulfil(ctx, id, body);
        return getOrder(ctx, id);
      }),
    false,
  );
  action('complete', 'completeOrder', 'Close a fulfilled order', null, (req, _record, id) => deps.tx(req, async (ctx) => {
    await complete(ctx, id);
    return getOrder(ctx, id);
  }), false);
  action(
    'refunds',
    'refundOrder',
    'Refund an amount or returned lines (never more than was paid), optionally restocking them',
    Body({ amount: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_AMOUNT })), lines: Type.Optional(LineQty), restock: Type.Optional(Type.Boolean()), reason: Type.Optional(Type.String({ maxLength: 500 })) }, 'RefundRequest', { amount: 500, reason: 'scratched' }),
    (req, record, id, body: { amount?: number; lines?: { line_id: string; quantity: number }[]; restock?: boolean; reason?: string }) => refundOrder(deps.ctx(req), gateway, id, body, record),
    true,
    access.staff('orders:refund'),
  );
};
