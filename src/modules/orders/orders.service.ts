import { actorOf, type Ctx } from '../../context.ts';
import type { OrderLinesTable, OrdersTable, OrderStatus } from '../../db/schema.ts';
import { AppError, conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { maySeeOrder } from '../../policy/index.ts';
import { decodeCursor, toPage, type Page } from '../../lib/pagination.ts';
import { emitEvent, type EventType } from '../events/index.ts';
import { paymentsOf, refundsOf, type Payment, type Refund } from '../payments/index.ts';
import type { Address } from '../pricing/index.ts';
import { ordersRepository as repo } from './orders.repository.ts';
import { assertTransition } from './state.ts';

export interface OrderLine {
  id: string;
  variant_id: string;
  product_id: string;
  sku: string;
  title: string;
  quantity: number;
  unit_price: number;
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  fulfilled_quantity: number;
}

export interface Fulfillment {
  id: string;
  carrier: string;
  tracking_number: string;
  lines: { line_id: string; quantity: number }[];
  created_at: string;
}

export interface Order {
  id: string;
  number: number;
  name: string;
  status: OrderStatus;
  customer_id: string | null;
  email: string | null;
  currency: string;
  tax_mode: 'exclusive' | 'inclusive';
  lines: OrderLine[];
  subtotal: number;
  discount_total: number;
  shipping_total: number;
  tax_total: number;
  total: number;
  amount_paid: number;
  amount_refunded: number;
  discount_code: string | null;
  shipping_method: { id: string; name: string } | null;
  shipping_address: Address | null;
  billing_address: Address | null;
  payments: Payment[];
  refunds: Refund[];
  fulfillments: Fulfillment[];
  version: number;
  created_at: string;
  updated_at: string;
}

const parse = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

const toLine = (l: OrderLinesTable): OrderLine => ({
  id: l.id,
  variant_id: l.variant_id,
  product_id: l.product_id,
  sku: l.sku,
  title: l.title,
  quantity: l.quantity,
  unit_price: Number(l.unit_price),
  subtotal: Number(l.subtotal),
  discount: Number(l.discount),
  tax: Number(l.tax),
  total: Number(l.total),
  fulfilled_quantity: l.fulfilled_quantity,
});

function toOrder(o: OrdersTable, lines: OrderLine[], payments: Payment[], refunds: Refund[], fulfillments: Fulfillment[]): Order {
  return {
    id: o.id,
    number: o.number,
    name: `#${o.number}`,
    status: o.status,
    customer_id: o.customer_id,
    email: o.email,
    currency: o.currency,
    tax_mode: o.tax_mode,
    lines,
    subtotal: Number(o.subtotal),
    discount_total: Number(o.discount_total),
    shipping_total: Number(o.shipping_total),
    tax_total: Number(o.tax_total),
    total: Number(o.total),
    amount_paid: Number(o.amount_paid),
    amount_refunded: Number(o.amount_refunded),
    discount_code: o.discount_code,
    shipping_method: o.shipping_method_id ? { id: o.shipping_method_id, name: o.shipping_method_name ?? '' } : null,
    shipping_address: parse<Address>(o.shipping_address),
    billing_address: parse<Address>(o.billing_address),
    payments,
    refunds,
    fulfillments,
    version: o.version,
    created_at: o.created_at,
    updated_at: o.updated_at,
  };
}

/** The order from rows the caller already holds (checkout, which just wrote them): no read back. */
export function orderFromRows(o: OrdersTable, lines: OrderLinesTable[], payments: Payment[]): Order {
  return toOrder(o, lines.map(toLine), payments, [], []);
}

/** The order row, if the caller may see it: staff see all of the shop's, a customer only their own. */
export async function loadOrder(ctx: Ctx, id: string): Promise<OrdersTable> {
  const o = await repo.find(ctx.db, ctx.tenantId, id);
  if (!o || !maySeeOrder(ctx.principal, o)) throw notFound('Order');
  return o;
}

export async function getOrder(ctx: Ctx, id: string): Promise<Order> {
  return hydrateOrder(ctx, await loadOrder(ctx, id));
}

/** The full order for the caller that just created it (checkout answers a guest shopper with it once). */
export async function orderCreated(ctx: Ctx, id: string): Promise<Order> {
  const o = await repo.find(ctx.db, ctx.tenantId, id);
  if (!o) throw notFound('Order');
  return hydrateOrder(ctx, o);
}

async function hydrateOrder(ctx: Ctx, o: OrdersTable): Promise<Order> {
  const id = o.id;
  const [lines, payments, refunds, fulfillments] = await Promise.all([repo.lines(ctx.db, ctx.tenantId, [id]), paymentsOf(ctx, [id]), refundsOf(ctx, id), repo.fulfillments(ctx.db, ctx.tenantId, id)]);
  return toOrder(
    o,
    lines.map(toLine),
    payments,
    refunds,
    fulfillments.map((f) => ({ id: f.id, carrier: f.carrier, tracking_number: f.tracking_number, lines: JSON.parse(f.lines) as Fulfillment['lines'], created_at: f.created_at })),
  );
}

/** Orders, newest first. A customer sees only their own; staff filter by status or customer. */
export async function listOrders(ctx: Ctx, opts: { limit: number; cursor?: string | undefined; status?: OrderStatus | undefined; customer_id?: string | undefined }): Promise<Page<Order>> {
  const p = ctx.principal;
  const customerId = p.kind === 'customer' ? p.customerId : opts.customer_id;
  const rows = await repo.list(ctx.db, ctx.tenantId, { limit: opts.limit, before: decodeCursor(opts.cursor), customerId, status: opts.status });
  const page = toPage(rows, opts.limit);
  const ids = page.data.map((o) => o.id);
  const [lines, payments] = await Promise.all([repo.lines(ctx.db, ctx.tenantId, ids), paymentsOf(ctx, ids)]);
  return {
    ...page,
    data: page.data.map((o) =>
      toOrder(
        o,
        lines.filter((l) => l.order_id === o.id).map(toLine),
        payments.filter((x) => x.order_id === o.id),
        [],
        [],
      ),
    ),
  };
}

/** Everything that happened to an order, oldest first, cursor-paginated. */
export async function orderEvents(ctx: Ctx, id: string, opts: { limit: number; cursor?: string | undefined }) {
  await loadOrder(ctx, id);
  const rows = await repo.events(ctx.db, ctx.tenantId, id, { limit: opts.limit, after: decodeCursor(opts.cursor) });
  return toPage(
    rows.map((e) => ({ id: e.id, type: e.type, from_status: e.from_status, to_status: e.to_status, data: JSON.parse(e.data) as Record<string, unknown>, actor: e.actor, created_at: e.created_at })),
    opts.limit,
  );
}

export async function recordEvent(ctx: Ctx, orderId: string, type: string, data: Record<string, unknown>, from: OrderStatus | null = null, to: OrderStatus | null = null): Promise<void> {
  await repo.insertEvent(ctx.db, { tenant_id: ctx.tenantId, id: newId('orderEvent'), order_id: orderId, type, from_status: from, to_status: to, data: JSON.stringify(data), actor: actorOf(ctx.principal), created_at: ctx.clock.now().toISOString() });
}

const EVENT_OF: Partial<Record<OrderStatus, EventType>> = {
  paid: 'order.paid',
  partially_fulfilled: 'order.partially_fulfilled',
  fulfilled: 'order.fulfilled',
  completed: 'order.completed',
  cancelled: 'order.cancelled',
  partially_refunded: 'order.partially_refunded',
  refunded: 'order.refunded',
};

/**
 * The one way an order changes status: checks the transition table, writes with a guard on the status and
 * version it read, records the order event and the outbox event — all on the caller's transaction.
 */
export async function transition(ctx: Ctx, order: OrdersTable, to: OrderStatus, patch: Partial<OrdersTable> = {}, data: Record<string, unknown> = {}, opts: { emit?: boolean } = {}): Promise<OrdersTable> {
  assertTransition(order.status, to);
  const now = ctx.clock.now().toISOString();
  const next = { ...patch, status: to, updated_at: now };
  if (!(await repo.update(ctx.db, ctx.tenantId, order.id, { status: order.status, version: order.version }, next))) {
    throw conflict('order_changed', 'The order changed at the same time; read it again');
  }
  await recordEvent(ctx, order.id, `status.${to}`, data, order.status, to);
  const type = EVENT_OF[to];
  const updated = { ...order, ...next, version: order.version + 1 };
  if (type && opts.emit !== false) await emitEvent(ctx.db, ctx.tenantId, type, order.id, { order_id: order.id, number: order.number, status: to, total: Number(updated.total), amount_paid: Number(updated.amount_paid), amount_refunded: Number(updated.amount_refunded), currency: order.currency, customer_id: order.customer_id, ...data }, now);
  return updated;
}

/** Ships lines (all that are left when none are named). Moves the order to partially_fulfilled or fulfilled. */
export async function fulfil(ctx: Ctx, orderId: string, input: { carrier: string; tracking_number: string; lines?: { line_id: string; quantity: number }[] | undefined }): Promise<void> {
  const o = await loadOrder(ctx, orderId);
  const lines = await repo.lines(ctx.db, ctx.tenantId, [orderId]);
  const wanted = input.lines ?? lines.filter((l) => l.quantity > l.fulfilled_quantity).map((l) => ({ line_id: l.id, quantity: l.quantity - l.fulfilled_quantity }));
  if (wanted.length === 0) throw conflict('nothing_to_fulfil', 'Every line is already fulfilled');
  const target = await (async () => {
    // Decide the status first so an illegal transition fails before anything is written.
    const after = new Map(lines.map((l) => [l.id, l.fulfilled_quantity]));
    for (const [i, w] of wanted.entries()) {
      const line = lines.find((l) => l.id === w.line_id);
      if (!line) throw invalid('unknown_order_line', 'No such line in this order', [{ pointer: `/body/lines/${i}/line_id`, detail: 'unknown line' }]);
      const next = (after.get(line.id) ?? 0) + w.quantity;
      if (next > line.quantity) throw invalid('fulfillment_exceeds_quantity', `Line ${line.sku} has only ${line.quantity - line.fulfilled_quantity} left to fulfil`, [{ pointer: `/body/lines/${i}/quantity`, detail: 'more than ordered' }]);
      after.set(line.id, next);
    }
    return lines.every((l) => (after.get(l.id) ?? 0) >= l.quantity) ? 'fulfilled' : 'partially_fulfilled';
  })();
  assertTransition(o.status, target);
  for (const w of wanted) if (!(await repo.addFulfilled(ctx.db, ctx.tenantId, w.line_id, w.quantity))) throw conflict('order_changed', 'The order changed at the same time');
  const fid = newId('fulfillment');
  await repo.insertFulfillment(ctx.db, { tenant_id: ctx.tenantId, id: fid, order_id: orderId, carrier: input.carrier, tracking_number: input.tracking_number, lines: JSON.stringify(wanted), created_at: ctx.clock.now().toISOString() });
  await transition(ctx, o, target, {}, { fulfillment_id: fid, carrier: input.carrier, tracking_number: input.tracking_number, lines: wanted });
}

export async function complete(ctx: Ctx, orderId: string): Promise<void> {
  const o = await loadOrder(ctx, orderId);
  const lines = await repo.lines(ctx.db, ctx.tenantId, [orderId]);
  if (lines.some((l) => l.fulfilled_quantity < l.quantity)) throw new AppError('conflict', 'invalid_order_transition', 'Only a fully fulfilled order can be completed');
  await transition(ctx, o, 'completed');
}

// --- what checkout and the workflows need --------------------------------------------------------

export async function nextOrderNumber(ctx: Ctx): Promise<number> {
  return repo.nextNumber(ctx.db, ctx.tenantId);
}

/**
 * Writes the order and its lines. `order.created` (confirmation email, webhooks) is emitted separately, by
 * `emitOrderCreated`, once the order is placed — checkout does that only after the payment provider accepted it.
 */
export async function insertOrder(ctx: Ctx, order: OrdersTable, lines: OrderLinesTable[]): Promise<void> {
  await repo.insert(ctx.db, order, lines);
  await recordEvent(ctx, order.id, 'created', { number: order.number, total: order.total }, null, order.status);
}

export async function emitOrderCreated(ctx: Ctx, order: OrdersTable): Promise<void> {
  await emitEvent(ctx.db, ctx.tenantId, 'order.created', order.id, { order_id: order.id, number: order.number, status: order.status, total: Number(order.total), currency: order.currency, customer_id: order.customer_id, email: order.email }, ctx.clock.now().toISOString());
}

export async function orderLines(ctx: Ctx, orderId: string): Promise<OrderLine[]> {
  return (await repo.lines(ctx.db, ctx.tenantId, [orderId])).map(toLine);
}

export async function findOrderRow(ctx: Pick<Ctx, 'db' | 'tenantId'>, id: string) {
  return repo.find(ctx.db, ctx.tenantId, id);
}
