import type { Ctx } from '../../context.ts';
import type { PaymentsTable } from '../../db/schema.ts';
import { AppError, conflict, unprocessable } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { PaymentProvider } from './providers.ts';
import { paymentsRepository as repo } from './payments.repository.ts';

export interface Payment {
  id: string;
  order_id: string;
  provider: PaymentsTable['provider'];
  status: PaymentsTable['status'];
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  currency: string;
  provider_ref: string | null;
  client_secret: string | null;
  failure_reason: string | null;
  next_action: { type: string; detail: string } | null;
  created_at: string;
  updated_at: string;
}

export interface Refund {
  id: string;
  payment_id: string;
  amount: number;
  reason: string;
  created_at: string;
}

export const toPayment = (p: PaymentsTable, nextAction: Payment['next_action'] = null): Payment => ({
  id: p.id,
  order_id: p.order_id,
  provider: p.provider,
  status: p.status,
  amount: Number(p.amount),
  amount_captured: Number(p.amount_captured),
  amount_refunded: Number(p.amount_refunded),
  currency: p.currency,
  provider_ref: p.provider_ref,
  client_secret: p.client_secret,
  failure_reason: p.failure_reason,
  next_action: nextAction ?? (p.status === 'requires_action' ? { type: 'authenticate', detail: 'The customer must complete authentication' } : p.status === 'pending' && p.provider === 'manual' ? { type: 'offline_payment', detail: 'Awaiting bank transfer or payment on delivery' } : null),
  created_at: p.created_at,
  updated_at: p.updated_at,
});

/** Which providers a shop may use, by name. */
export type ProviderRegistry = ReadonlyMap<string, PaymentProvider>;

export function providerOf(registry: ProviderRegistry, name: string): PaymentProvider {
  const p = registry.get(name);
  if (!p) throw unprocessable('payment_provider_unavailable', `The payment provider "${name}" is not enabled on this server`, [{ pointer: '/body/payment/provider', detail: 'not enabled' }]);
  return p;
}

/** Starts the payment of an order through its provider and records it. A decline throws (402). */
export async function createPayment(
  ctx: Ctx,
  provider: PaymentProvider,
  order: { id: string; total: number; currency: string },
  cardNumber: string | undefined,
): Promise<Payment> {
  const now = ctx.clock.now().toISOString();
  const id = newId('payment');
  const r = await provider.authorize({ paymentId: id, tenantId: ctx.tenantId, orderId: order.id, amount: order.total, currency: order.currency, cardNumber });
  const row: PaymentsTable = {
    tenant_id: ctx.tenantId,
    id,
    order_id: order.id,
    provider: provider.name,
    status: r.status,
    amount: order.total,
    amount_captured: r.status === 'captured' ? order.total : 0,
    amount_refunded: 0,
    currency: order.currency,
    provider_ref: r.providerRef,
    client_secret: r.clientSecret,
    failure_reason: null,
    created_at: now,
    updated_at: now,
  };
  await repo.insert(ctx.db, row);
  return toPayment(row, r.nextAction);
}

export async function paymentsOf(ctx: Pick<Ctx, 'db' | 'tenantId'>, orderIds: readonly string[]): Promise<Payment[]> {
  return (await repo.ofOrders(ctx.db, ctx.tenantId, orderIds)).map((p) => toPayment(p));
}

export async function refundsOf(ctx: Pick<Ctx, 'db' | 'tenantId'>, orderId: string): Promise<Refund[]> {
  return (await repo.refundsOf(ctx.db, ctx.tenantId, orderId)).map((r) => ({ id: r.id, payment_id: r.payment_id, amount: Number(r.amount), reason: r.reason, created_at: r.created_at }));
}

/** Captures an open payment. Returns the captured amount. */
export async function capturePayment(ctx: Ctx, registry: ProviderRegistry, payment: Payment): Promise<number> {
  if (payment.status === 'captured') return 0;
  if (!['pending', 'requires_action', 'authorized'].includes(payment.status)) throw conflict('payment_not_capturable', `A ${payment.status} payment cannot be captured`);
  const amount = await providerOf(registry, payment.provider).capture({ providerRef: payment.provider_ref, amount: payment.amount, status: payment.status });
  if (!(await repo.update(ctx.db, ctx.tenantId, payment.id, payment.status, { status: 'captured', amount_captured: amount, updated_at: ctx.clock.now().toISOString() }))) {
    throw conflict('payment_changed', 'The payment changed at the same time');
  }
  return amount;
}

/** Marks a payment captured because the provider said so (webhook). False if it already was. */
export async function markCaptured(ctx: Ctx, payment: Payment, amount: number): Promise<boolean> {
  if (payment.status === 'captured') return false;
  return repo.update(ctx.db, ctx.tenantId, payment.id, payment.status, { status: 'captured', amount_captured: Math.min(amount, payment.amount), updated_at: ctx.clock.now().toISOString() });
}

export async function markFailed(ctx: Ctx, payment: Payment, reason: string): Promise<boolean> {
  if (payment.status === 'captured' || payment.status === 'failed' || payment.status === 'cancelled') return false;
  return repo.update(ctx.db, ctx.tenantId, payment.id, payment.status, { status: 'failed', failure_reason: reason, updated_at: ctx.clock.now().toISOString() });
}

export async function cancelPayment(ctx: Ctx, registry: ProviderRegistry, payment: Payment): Promise<void> {
  if (!['pending', 'requires_action', 'authorized'].includes(payment.status)) return;
  await providerOf(registry, payment.provider).cancel({ providerRef: payment.provider_ref });
  await repo.update(ctx.db, ctx.tenantId, payment.id, payment.status, { status: 'cancelled', updated_at: ctx.clock.now().toISOString() });
}

/**
 * Refunds `amount` across the order's captured payments. Never more than was captured and not yet refunded:
 * each payment row is changed with a condition (and a CHECK constraint backs it).
 */
export async function refundPayments(ctx: Ctx, registry: ProviderRegistry, payments: Payment[], amount: number, reason: string, providerRef?: string): Promise<Refund[]> {
  const refundable = payments.filter((p) => p.amount_captured > p.amount_refunded);
  const available = refundable.reduce((a, p) => a + p.amount_captured - p.amount_refunded, 0);
  if (amount > available) throw unprocessable('refund_exceeds_payment', `At most ${available} can be refunded`, [{ pointer: '/body/amount', detail: `at most ${available}` }]);
  const out: Refund[] = [];
  let left = amount;
  for (const p of refundable) {
    if (left === 0) break;
    const part = Math.min(left, p.amount_captured - p.amount_refunded);
    const now = ctx.clock.now().toISOString();
    const id = newId('refund');
    if (!(await repo.addRefunded(ctx.db, ctx.tenantId, p.id, part, now))) throw new AppError(409, 'refund_exceeds_payment', 'The payment was refunded at the same time');
    const ref = providerRef ?? (await providerOf(registry, p.provider).refund({ providerRef: p.provider_ref, amount: part, refundId: id })).providerRef;
    await repo.insertRefund(ctx.db, { tenant_id: ctx.tenantId, id, order_id: p.order_id, payment_id: p.id, amount: part, reason, provider_ref: ref, created_at: now });
    out.push({ id, payment_id: p.id, amount: part, reason, created_at: now });
    left -= part;
  }
  return out;
}
