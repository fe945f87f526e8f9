import type { Ctx, Executor } from '../../context.ts';
import { isUniqueViolation } from '../../db/database.ts';
import type { PaymentActionKind, PaymentActionsTable, PaymentsTable, RefundStatus } from '../../db/schema.ts';
import { addSeconds } from '../../lib/clock.ts';
import { AppError, conflict, invalid, type ErrorKind } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { AuthorizeResult, PaymentProvider } from './providers.ts';
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
  /** `pending` until the provider has answered; `failed` refunds gave their amount back. */
  status: RefundStatus;
  created_at: string;
}

const nextActionOf = (p: Pick<PaymentsTable, 'status' | 'provider'>): Payment['next_action'] =>
  p.status === 'requires_action' ? { type: 'authenticate', detail: 'The customer must complete authentication' } : p.status === 'pending' && p.provider === 'manual' ? { type: 'offline_payment', detail: 'Awaiting bank transfer or payment on delivery' } : null;

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
  next_action: nextAction ?? nextActionOf(p),
  created_at: p.created_at,
  updated_at: p.updated_at,
});

/** Which providers a shop may use, by name. */
export type ProviderRegistry = ReadonlyMap<string, PaymentProvider>;

export function providerOf(registry: ProviderRegistry, name: string): PaymentProvider {
  const p = registry.get(name);
  if (!p) throw invalid('payment_provider_unavailable', `The payment provider "${name}" is not enabled on this server`, [{ pointer: '/body/payment/provider', detail: 'not enabled' }]);
  return p;
}

export async function paymentsOf(ctx: Pick<Ctx, 'db' | 'tenantId'>, orderIds: readonly string[]): Promise<Payment[]> {
  return (await repo.ofOrders(ctx.db, ctx.tenantId, orderIds)).map((p) => toPayment(p));
}

export async function refundsOf(ctx: Pick<Ctx, 'db' | 'tenantId'>, orderId: string): Promise<Refund[]> {
  return (await repo.refundsOf(ctx.db, ctx.tenantId, orderId)).map((r) => ({ id: r.id, payment_id: r.payment_id, amount: Number(r.amount), reason: r.reason, status: r.status, created_at: r.created_at }));
}

// --- phase 1: intents, written in the business transaction before any provider call -----------------

/** A payment about to be authorised: `pending`, no provider reference yet (checkout's first transaction). */
export async function insertPendingPayment(ctx: Ctx, provider: PaymentsTable['provider'], order: { id: string; total: number; currency: string }): Promise<Payment> {
  const now = ctx.clock.now().toISOString();
  const row: PaymentsTable = {
    tenant_id: ctx.tenantId,
    id: newId('payment'),
    order_id: order.id,
    provider,
    status: 'pending',
    amount: order.total,
    amount_captured: 0,
    amount_refunded: 0,
    currency: order.currency,
    provider_ref: null,
    client_secret: null,
    failure_reason: null,
    created_at: now,
    updated_at: now,
  };
  await repo.insert(ctx.db, row);
  return toPayment(row);
}

export async function findPayment(ctx: Pick<Ctx, 'db' | 'tenantId'>, id: string): Promise<Payment | null> {
  const row = await repo.find(ctx.db, ctx.tenantId, id);
  return row ? toPayment(row) : null;
}

export interface RefundPart {
  payment_id: string;
  refund_id: string;
  amount: number;
  provider: PaymentsTable['provider'];
  provider_ref: string | null;
}

/**
 * Reserves `amount` across the order's captured payments as `pending` refunds: each payment's refunded amount
 * grows with a condition (and a CHECK constraint backs it), so two refunds can never take more than was
 * captured, even before the provider has answered. The provider is called after the commit.
 */
export async function reserveRefunds(ctx: Ctx, payments: Payment[], amount: number, reason: string): Promise<RefundPart[]> {
  const refundable = payments.filter((p) => p.amount_captured > p.amount_refunded);
  const available = refundable.reduce((a, p) => a + p.amount_captured - p.amount_refunded, 0);
  if (amount > available) throw invalid('refund_exceeds_payment', `At most ${available} can be refunded`, [{ pointer: '/body/amount', detail: `at most ${available}` }]);
  const parts: RefundPart[] = [];
  let left = amount;
  for (const p of refundable) {
    if (left === 0) break;
    const part = Math.min(left, p.amount_captured - p.amount_refunded);
    const now = ctx.clock.now().toISOString();
    const id = newId('refund');
    if (!(await repo.addRefunded(ctx.db, ctx.tenantId, p.id, part, now))) throw new AppError('conflict', 'refund_exceeds_payment', 'The payment was refunded at the same time');
    await repo.insertRefund(ctx.db, { tenant_id: ctx.tenantId, id, order_id: p.order_id, payment_id: p.id, amount: part, reason, provider_ref: null, status: 'pending', created_at: now });
    parts.push({ payment_id: p.id, refund_id: id, amount: part, provider: p.provider, provider_ref: p.provider_ref });
    left -= part;
  }
  return parts;
}

// --- phase 3: outcomes, written in a second transaction after the provider answered ---------------

/** Records what the provider said of an authorisation; returns the payment as it is now. */
export async function applyAuthorization(ctx: Ctx, payment: Payment, r: AuthorizeResult): Promise<Payment> {
  const patch = {
    status: r.status,
    amount_captured: r.status === 'captured' ? payment.amount : payment.amount_captured,
    provider_ref: r.providerRef,
    client_secret: r.clientSecret,
    updated_at: ctx.clock.now().toISOString(),
  };
  if (!(await repo.update(ctx.db, ctx.tenantId, payment.id, payment.status, patch))) throw conflict('payment_changed', 'The payment changed at the same time');
  const next = { ...payment, ...patch };
  return { ...next, next_action: nextActionOf(next) };
}

/** Marks a payment captured after the provider took the money (a staff capture, or its webhook). False if it already was. */
export async function markCaptured(ctx: Ctx, payment: Payment, amount: number): Promise<boolean> {
  if (payment.status === 'captured') return false;
  return repo.update(ctx.db, ctx.tenantId, payment.id, payment.status, { status: 'captured', amount_captured: Math.min(amount, payment.amount), updated_at: ctx.clock.now().toISOString() });
}

export async function markFailed(ctx: Ctx, payment: Payment, reason: string): Promise<boolean> {
  if (payment.status === 'captured' || payment.status === 'failed' || payment.status === 'cancelled') return false;
  return repo.update(ctx.db, ctx.tenantId, payment.id, payment.status, { status: 'failed', failure_reason: reason, updated_at: ctx.clock.now().toISOString() });
}

/** An uncaptured payment was voided at the provider. */
export async function markCancelled(ctx: Ctx, payment: Payment): Promise<boolean> {
  if (!isOpen(payment)) return false;
  return repo.update(ctx.db, ctx.tenantId, payment.id, payment.status, { status: 'cancelled', updated_at: ctx.clock.now().toISOString() });
}

/** An open payment: money may still move (authorised, awaiting the shopper or an offline transfer). */
export const isOpen = (p: Pick<Payment, 'status'>) => p.status === 'pending' || p.status === 'requires_action' || p.status === 'authorized';

/** The provider made the refund. */
export async function settleRefund(ctx: Ctx, part: RefundPart, providerRef: string | null): Promise<void> {
  await repo.updateRefund(ctx.db, ctx.tenantId, part.refund_id, { status: 'succeeded', provider_ref: providerRef });
}

/** The provider refused the refund: the reserved amount is given back to the payment. */
export async function failRefund(ctx: Ctx, part: RefundPart): Promise<void> {
  if (await repo.updateRefund(ctx.db, ctx.tenantId, part.refund_id, { status: 'failed' })) {
    await repo.subtractRefunded(ctx.db, ctx.tenantId, part.payment_id, part.amount, ctx.clock.now().toISOString());
  }
}

/** A refund the provider made on its own (dashboard, dispute): recorded at once, never sent back to it. */
export async function recordProviderRefund(ctx: Ctx, payments: Payment[], amount: number, reason: string, providerRef: string): Promise<void> {
  const parts = await reserveRefunds(ctx, payments, amount, reason);
  for (const [i, part] of parts.entries()) await settleRefund(ctx, part, i === 0 ? providerRef : `${providerRef}:${i}`);
}

// --- payment actions ---------------------------------------------------------------------------------

export interface ActionError {
  kind: ErrorKind;
  code: string;
  detail: string;
}

export interface PaymentAction<I = Record<string, unknown>> {
  id: string;
  tenant_id: string;
  order_id: string;
  kind: PaymentActionKind;
  status: PaymentActionsTable['status'];
  input: I;
  result: Record<string, unknown> | null;
  error: ActionError | null;
  attempts: number;
  next_attempt_at: string;
}

export const toAction = <I>(r: PaymentActionsTable): PaymentAction<I> => ({
  id: r.id,
  tenant_id: r.tenant_id,
  order_id: r.order_id,
  kind: r.kind,
  status: r.status,
  input: JSON.parse(r.input) as I,
  result: r.result === null ? null : (JSON.parse(r.result) as Record<string, unknown>),
  error: r.error === null ? null : (JSON.parse(r.error) as ActionError),
  attempts: r.attempts,
  next_attempt_at: r.next_attempt_at,
});

/**
 * How long a request may work on its action before the reconciliation job takes it over: well past the
 * provider timeout, so a live request is never overtaken.
 */
export const ACTION_LEASE_SECONDS = 120;

/**
 * Records the intent of a provider call in the caller's transaction. At most one action per order is pending
 * (a unique index): a second one is refused with 409 `order_action_in_progress`.
 */
export async function createAction<I extends object>(ctx: Ctx, orderId: string, kind: PaymentActionKind, input: I, opts: { dueNow?: boolean } = {}): Promise<PaymentAction<I>> {
  const now = ctx.clock.now();
  const row: PaymentActionsTable = {
    tenant_id: ctx.tenantId,
    id: newId('paymentAction'),
    order_id: orderId,
    kind,
    status: 'pending',
    input: JSON.stringify(input),
    result: null,
    error: null,
    attempts: 0,
    next_attempt_at: (opts.dueNow ? now : addSeconds(now, ACTION_LEASE_SECONDS)).toISOString(),
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
  };
  try {
    await repo.insertAction(ctx.db, row);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('order_action_in_progress', 'Another payment action on this order is still running; retry shortly');
    throw e;
  }
  return toAction<I>(row);
}

export async function findAction<I>(ctx: Pick<Ctx, 'db' | 'tenantId'>, id: string): Promise<PaymentAction<I> | null> {
  const r = await repo.findAction(ctx.db, ctx.tenantId, id);
  return r ? toAction<I>(r) : null;
}

export async function pendingActionOf(ctx: Pick<Ctx, 'db' | 'tenantId'>, orderId: string): Promise<PaymentAction | null> {
  const r = await repo.pendingActionOf(ctx.db, ctx.tenantId, orderId);
  return r ? toAction(r) : null;
}

export async function latestActionOf<I>(ctx: Pick<Ctx, 'db' | 'tenantId'>, orderId: string, kind: PaymentActionKind): Promise<PaymentAction<I> | null> {
  const r = await repo.latestActionOf(ctx.db, ctx.tenantId, orderId, kind);
  return r ? toAction<I>(r) : null;
}

/** Settles an action once: false when a retry or the reconciliation job settled it first (then do nothing). */
export async function finishAction(ctx: Ctx, action: Pick<PaymentAction, 'id'>, outcome: { ok: true; result: Record<string, unknown> } | { ok: false; error: ActionError }): Promise<boolean> {
  return repo.finishAction(ctx.db, ctx.tenantId, action.id, {
    status: outcome.ok ? 'succeeded' : 'failed',
    result: outcome.ok ? JSON.stringify(outcome.result) : null,
    error: outcome.ok ? null : JSON.stringify(outcome.error),
    updated_at: ctx.clock.now().toISOString(),
  });
}

/** Pending actions due for the reconciliation job, across shops. */
export async function dueActions(db: Executor, now: string, limit = 100): Promise<PaymentAction[]> {
  return (await repo.dueActions(db, now, limit)).map((r) => toAction(r));
}

/** Takes a due action for one attempt (moves its lease on); false if another node took it first. */
export async function leaseAction(db: Executor, a: PaymentAction, now: Date, seconds: number): Promise<boolean> {
  return repo.leaseAction(db, a, addSeconds(now, seconds).toISOString(), now.toISOString());
}
