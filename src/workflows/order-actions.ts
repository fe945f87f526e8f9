import type { FastifyBaseLogger } from 'fastify';
import type { Ctx } from '../context.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import { conflict, unprocessable } from '../lib/errors.ts';
import { divRound } from '../lib/money.ts';
import { convertReservation, expiredReservations, releaseReservation, restockOrder } from '../modules/inventory/inventory.service.ts';
import { findOrderRow, loadOrder, orderLines, recordEvent, transition } from '../modules/orders/orders.service.ts';
import { assertTransition } from '../modules/orders/state.ts';
import { cancelPayment, capturePayment, paymentsOf, refundPayments, type ProviderRegistry } from '../modules/payments/payments.service.ts';

/** Workflows that change an order and its payment and stock together, each in the caller's transaction. */

/** Staff take the money of a pending order (a manual payment received, an authorised card captured). */
export async function captureOrder(ctx: Ctx, providers: ProviderRegistry, orderId: string): Promise<void> {
  const o = await loadOrder(ctx, orderId);
  if (o.status !== 'pending_payment') throw conflict('invalid_order_transition', `An order that is ${o.status} has nothing to capture`);
  const open = (await paymentsOf(ctx, [orderId])).filter((p) => p.status !== 'captured' && p.status !== 'failed' && p.status !== 'cancelled');
  if (open.length === 0) throw conflict('payment_not_capturable', 'The order has no open payment');
  let captured = 0;
  for (const p of open) captured += await capturePayment(ctx, providers, p);
  await convertReservation(ctx, orderId);
  await transition(ctx, o, 'paid', { amount_paid: Number(o.amount_paid) + captured }, { captured });
}

/** The provider told us the payment went through (webhook): the same effect as a capture, without calling it. */
export async function markOrderPaid(ctx: Ctx, orderId: string, amount: number, paymentId: string): Promise<void> {
  const o = await loadOrder(ctx, orderId);
  if (o.status !== 'pending_payment') return;
  await convertReservation(ctx, orderId);
  await transition(ctx, o, 'paid', { amount_paid: Number(o.amount_paid) + amount }, { payment_id: paymentId, source: 'provider' });
}

/**
 * Cancels an order that has not shipped: voids open payments or refunds captured ones, releases the
 * reservation and (unless told not to) puts the stock back.
 */
export async function cancelOrder(ctx: Ctx, providers: ProviderRegistry, orderId: string, opts: { restock?: boolean | undefined; reason?: string | undefined }): Promise<void> {
  const o = await loadOrder(ctx, orderId);
  if (o.status !== 'pending_payment' && o.status !== 'paid') throw conflict('invalid_order_transition', `An order that is ${o.status} cannot be cancelled; refund it instead`);
  const payments = await paymentsOf(ctx, [orderId]);
  for (const p of payments) await cancelPayment(ctx, providers, p);
  const captured = payments.reduce((a, p) => a + p.amount_captured - p.amount_refunded, 0);
  if (captured > 0) await refundPayments(ctx, providers, payments, captured, opts.reason ?? 'order cancelled');
  await releaseReservation(ctx, orderId);
  if (opts.restock !== false) await restockOrder(ctx, orderId, 'release');
  await transition(ctx, o, 'cancelled', { amount_refunded: Number(o.amount_refunded) + captured }, { reason: opts.reason ?? null, restocked: opts.restock !== false, refunded: captured });
}

/**
 * Refunds money (an amount, or the value of returned lines) — never more than was paid and not yet refunded —
 * and optionally puts the returned lines back in stock.
 */
export async function refundOrder(
  ctx: Ctx,
  providers: ProviderRegistry,
  orderId: string,
  input: { amount?: number | undefined; lines?: { line_id: string; quantity: number }[] | undefined; restock?: boolean | undefined; reason?: string | undefined },
): Promise<void> {
  const o = await loadOrder(ctx, orderId);
  const lines = await orderLines(ctx, orderId);
  const returned = new Map<string, number>();
  let linesValue = 0;
  for (const [i, l] of (input.lines ?? []).entries()) {
    const line = lines.find((x) => x.id === l.line_id);
    if (!line) throw unprocessable('unknown_order_line', 'No such line in this order', [{ pointer: `/body/lines/${i}/line_id`, detail: 'unknown line' }]);
    if (l.quantity > line.quantity) throw unprocessable('refund_exceeds_quantity', `Line ${line.sku} has only ${line.quantity}`, [{ pointer: `/body/lines/${i}/quantity`, detail: 'more than ordered' }]);
    returned.set(line.variant_id, (returned.get(line.variant_id) ?? 0) + l.quantity);
    linesValue += divRound(line.total * l.quantity, line.quantity);
  }
  const refundable = Number(o.amount_paid) - Number(o.amount_refunded);
  const amount = input.amount ?? (input.lines ? linesValue : refundable);
  if (amount <= 0) throw unprocessable('invalid_refund', 'Nothing to refund', [{ pointer: '/body/amount', detail: 'must be positive' }]);
  if (amount > refundable) throw unprocessable('refund_exceeds_payment', `At most ${refundable} can be refunded`, [{ pointer: '/body/amount', detail: `at most ${refundable}` }]);
  const after = Number(o.amount_refunded) + amount;
  const target = after >= Number(o.amount_paid) ? 'refunded' : 'partially_refunded';
  // Check the transition before touching money.
  assertTransition(o.status, target);
  const refunds = await refundPayments(ctx, providers, await paymentsOf(ctx, [orderId]), amount, input.reason ?? 'refund');
  if (input.restock && returned.size) await restockOrder(ctx, orderId, 'return', returned);
  await transition(ctx, o, target, { amount_refunded: after }, { amount, refund_ids: refunds.map((r) => r.id), restocked: Boolean(input.restock && returned.size), reason: input.reason ?? null });
}

/** Applies a refund the provider made on its own (dashboard, dispute), once per provider refund id. */
export async function recordProviderRefund(ctx: Ctx, providers: ProviderRegistry, orderId: string, amount: number, providerRef: string): Promise<void> {
  const o = await loadOrder(ctx, orderId);
  const refundable = Number(o.amount_paid) - Number(o.amount_refunded);
  const take = Math.min(amount, refundable);
  if (take <= 0) return;
  await refundPayments(ctx, providers, await paymentsOf(ctx, [orderId]), take, 'refunded at the provider', providerRef);
  const after = Number(o.amount_refunded) + take;
  await transition(ctx, o, after >= Number(o.amount_paid) ? 'refunded' : 'partially_refunded', { amount_refunded: after }, { amount: take, source: 'provider' });
}

/**
 * Cancels pending orders whose stock hold expired (payment never arrived) and puts their stock back.
 * Each order in its own transaction; runs for every shop.
 */
export async function expireReservations(db: Db, clock: Clock, providers: ProviderRegistry, log: FastifyBaseLogger): Promise<number> {
  let n = 0;
  for (const r of await expiredReservations(db, clock.now().toISOString())) {
    try {
      await db.transaction().execute(async (trx) => {
        const ctx: Ctx = { tenantId: r.tenant_id, principal: { kind: 'system', tenantId: r.tenant_id }, db: trx, clock, log };
        const o = await findOrderRow(ctx, r.order_id);
        if (!o || o.status !== 'pending_payment') {
          await releaseReservation(ctx, r.order_id);
          return;
        }
        if (!(await releaseReservation(ctx, r.order_id))) return;
        for (const p of await paymentsOf(ctx, [o.id])) await cancelPayment(ctx, providers, p);
        await restockOrder(ctx, o.id, 'release');
        await recordEvent(ctx, o.id, 'reservation.expired', {});
        await transition(ctx, o, 'cancelled', {}, { reason: 'payment not received in time', restocked: true });
        n++;
      });
    } catch (err) {
      log.error({ err, order_id: r.order_id }, 'could not expire a reservation');
    }
  }
  return n;
}
