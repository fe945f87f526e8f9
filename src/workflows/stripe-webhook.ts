import type Stripe from 'stripe';
import type { Logger } from '../lib/log.ts';
import type { Ctx } from '../context.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import { emitEvent } from '../modules/events/index.ts';
import { findOrderRow, recordEvent } from '../modules/orders/index.ts';
import { paymentsRepository, markCaptured, markFailed, toPayment } from '../modules/payments/index.ts';
import { markOrderPaid, recordProviderRefund } from './order-actions.ts';

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

/**
 * Applies a verified Stripe event once: the event id is recorded in the same transaction as its effect, so a
 * replayed (or concurrently redelivered) event changes nothing.
 */
export async function applyStripeEvent(db: Db, clock: Clock, log: Logger, event: Stripe.Event): Promise<WebhookOutcome> {
  const obj = event.data.object as { id?: string; metadata?: Record<string, string>; payment_intent?: string | { id: string } | null };
  const meta = obj.metadata ?? {};
  const tenantId = meta.tenant_id;
  if (!tenantId) return 'ignored';
  return db.transaction().execute(async (trx) => {
    const ctx: Ctx = { tenantId, principal: { kind: 'system', tenantId }, db: trx, clock, log };
    if (!(await paymentsRepository.markProcessed(trx, 'stripe', event.id, tenantId, clock.now().toISOString()))) return 'duplicate';
    const piId = event.type.startsWith('charge.') ? (typeof obj.payment_intent === 'string' ? obj.payment_intent : obj.payment_intent?.id) : obj.id;
    if (!piId) return 'ignored';
    const row = await paymentsRepository.byProviderRef(trx, tenantId, 'stripe', piId);
    if (!row) return 'ignored';
    const payment = toPayment(row);
    const order = await findOrderRow(ctx, payment.order_id);
    if (!order) return 'ignored';
    switch (event.type) {
      case 'payment_intent.amount_capturable_updated':
        if (payment.status === 'requires_action' || payment.status === 'pending') await paymentsRepository.update(trx, tenantId, payment.id, payment.status, { status: 'authorized', updated_at: clock.now().toISOString() });
        await recordEvent(ctx, order.id, 'payment.authorized', { payment_id: payment.id });
        return 'applied';
      case 'payment_intent.succeeded': {
        const pi = event.data.object as Stripe.PaymentIntent;
        if (await markCaptured(ctx, payment, pi.amount_received)) await markOrderPaid(ctx, order.id, Math.min(pi.amount_received, payment.amount), payment.id);
        return 'applied';
      }
      case 'payment_intent.payment_failed': {
        const pi = event.data.object as Stripe.PaymentIntent;
        const reason = pi.last_payment_error?.message ?? 'payment failed';
        if (await markFailed(ctx, payment, reason)) {
          await recordEvent(ctx, order.id, 'payment.failed', { payment_id: payment.id, reason });
          await emitEvent(trx, tenantId, 'payment.failed', order.id, { order_id: order.id, payment_id: payment.id, reason }, clock.now().toISOString());
        }
        return 'applied';
      }
      case 'charge.refunded': {
        const charge = event.data.object as Stripe.Charge;
        // Refunds we made ourselves are already counted; apply only what Stripe refunded beyond that.
        const beyond = charge.amount_refunded - payment.amount_refunded;
        if (beyond > 0) await recordProviderRefund(ctx, order.id, beyond, `${charge.id}:${charge.amount_refunded}`);
        return 'applied';
      }
      default:
        return 'ignored';
    }
  });
}
