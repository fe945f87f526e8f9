import type { Logger } from '../lib/log.ts';
import type { Ctx, RequestRecord } from '../context.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import { AppError, conflict, invalid, ProviderUnavailable } from '../lib/errors.ts';
import { mulDivRound } from '../lib/money.ts';
import { authorize } from '../policy/index.ts';
import { convertReservation, expiredReservations, releaseReservation, restockOrder } from '../modules/inventory/index.ts';
import { findOrderRow, getOrder, loadOrder, orderLines, recordEvent, transition, type Order, assertTransition } from '../modules/orders/index.ts';
import { type PaymentGateway, createAction, dueActions, failRefund, findAction, findPayment, finishAction, isOpen, leaseAction, markCancelled, markCaptured, paymentsOf, pendingActionOf, recordProviderRefund as recordRefundAtProvider, reserveRefunds, settleRefund, type PaymentAction, type RefundPart, type AuthorizeResult, type PaymentProvider } from '../modules/payments/index.ts';
import { actionError, failedOutcome, settleCheckout, type CheckoutActionInput } from './checkout.ts';

/**
 * Order actions that move money — capture, cancel, refund — and the voids that clean up after them, each in
 * phases with no transaction open across a provider call:
 *   1. one transaction: check the order, reserve what the action takes (a refund's amount, as `pending`
 *      refunds), record the payment action (the intent) and the request's recovery point;
 *   2. the provider calls, through the gateway, each idempotent on ids fixed in step 1;
 *   3. one transaction: settle the action once and apply it to payments, stock and the order (or give back
 *      what step 1 reserved, when the provider refused), and store the request's answer.
 * When the outcome is unknown (timeout, 5xx, a crash) the action stays pending: a retry of the same request
 * resumes it, and the reconciliation job (`reconcilePayments`) settles whatever nobody retried.
 */

type Outcome = { ok: true; result: Record<string, unknown> } | { ok: false; error: AppError; uncertain: boolean };

interface CaptureInput {
  payment_ids: string[];
}
interface CancelInput {
  void_ids: string[];
  refunds: RefundPart[];
  restock: boolean;
  reason: string | null;
}
interface RefundInput {
  parts: RefundPart[];
  amount: number;
  /** variant id → quantity to put back in stock. */
  restock: [string, number][] | null;
  reason: string | null;
}
interface VoidInput {
  payment_ids: string[];
}

export const ACTION_CREATED = 'action_created';

/** Phase 1 of an order action, then the rest; a retry resumes at phase 2 from the recovery point. */
async function runAction<I>(ctx: Ctx, gateway: PaymentGateway, orderId: string, begin: (c: Ctx) => Promise<PaymentAction<I>>, record: RequestRecord | undefined): Promise<Order> {
  let actionId: string;
  if (record?.recovery?.point === ACTION_CREATED && record.recovery.resourceId) {
    actionId = record.recovery.resourceId;
  } else {
    actionId = await ctx.db.transaction().execute(async (trx) => {
      const c: Ctx = { ...ctx, db: trx };
      const a = await begin(c);
      await record?.checkpoint(trx, ACTION_CREATED, a.id);
      return a.id;
    });
  }
  // The answer commits with the outcome (phase 3), so a retry after a crash replays it.
  const answer = await driveAction(ctx, gateway, actionId, async (c) => {
    const a = await findAction(c, actionId);
    if (a?.status === 'failed' && a.error) {
      await record?.checkpoint(c.db, 'settled', actionId);
      return { error: new AppError(a.error.kind, a.error.code, a.error.detail) };
    }
    const order = await getOrder(c, orderId);
    await record?.complete(c.db, order);
    return { order };
  });
  if ('error' in answer) throw answer.error;
  return answer.order;
}

/**
 * Phases 2 and 3 of a pending action, then `after` in the phase-3 transaction (or in a transaction of its own
 * when the action was settled already). An unknown outcome leaves the action pending and throws 503: the caller
 * may retry; the reconciliation job settles it otherwise.
 */
export async function driveAction<T>(ctx: Ctx, gateway: PaymentGateway, actionId: string, after: (c: Ctx) => Promise<T>): Promise<T> {
  const action = await findAction<Record<string, unknown>>(ctx, actionId);
  if (!action || action.status !== 'pending') return ctx.db.transaction().execute((trx) => after({ ...ctx, db: trx }));
  const outcome = await callProvider(ctx, gateway, action);
  if (!outcome.ok && outcome.uncertain) {
    throw outcome.error instanceof ProviderUnavailable ? outcome.error : new ProviderUnavailable('payment provider', outcome.error.message, true, 5);
  }
  return ctx.db.transaction().execute(async (trx) => {
    const c: Ctx = { ...ctx, db: trx };
    await settleAction(c, action, outcome);
    return after(c);
  });
}

const nothing = async () => undefined;

/** Phase 2: every provider call of the action. A failure after an earlier call went through is uncertain. */
async function callProvider(ctx: Ctx, gateway: PaymentGateway, action: PaymentAction<Record<string, unknown>>): Promise<Outcome> {
  let called = false;
  const call = async <T>(provider: string, what: string, fn: (p: PaymentProvider) => Promise<T>): Promise<T> => {
    const r = await gateway.call(ctx.db, provider, what, fn);
    called = true;
    return r;
  };
  try {
    switch (action.kind) {
      case 'checkout': {
        const input = action.input as unknown as CheckoutActionInput;
        const p = await findPayment(ctx, input.payment_id);
        if (!p) throw new Error(`payment ${input.payment_id} is missing`);
        const r = await call(p.provider, 'recoverAuthorize', (pr) =>
          pr.recoverAuthorize({ paymentId: p.id, tenantId: ctx.tenantId, orderId: action.order_id, amount: p.amount, currency: p.currency }),
        );
        if (!r) return { ok: false, error: new AppError('conflict', 'checkout_interrupted', 'The checkout was interrupted before the payment was made; nothing was charged'), uncertain: false };
        return { ok: true, result: { authorization: r } };
      }
      case 'capture': {
        const captured: Record<string, number> = {};
        for (const id of (action.input as unknown as CaptureInput).payment_ids) {
          const p = await findPayment(ctx, id);
          if (!p || !isOpen(p)) continue;
          captured[id] = await call(p.provider, 'capture', (pr) => pr.capture({ providerRef: p.provider_ref, amount: p.amount, status: p.status }));
        }
        return { ok: true, result: { captured } };
      }
      case 'cancel':
      case 'void': {
        const input = action.input as unknown as Partial<CancelInput & VoidInput>;
        for (const id of input.void_ids ?? input.payment_ids ?? []) {
          const p = await findPayment(ctx, id);
          if (!p || p.status === 'cancelled' || p.status === 'captured') continue;
          let ref = p.provider_ref;
          // An authorisation whose answer was lost: ask for it again (same key) to learn what there is to void.
          if (ref === null && p.status === 'failed') ref = (await call(p.provider, 'recoverAuthorize', (pr) => pr.recoverAuthorize({ paymentId: p.id, tenantId: ctx.tenantId, orderId: action.order_id, amount: p.amount, currency: p.currency })))?.providerRef ?? null;
          await call(p.provider, 'cancel', (pr) => pr.cancel({ providerRef: ref }));
        }
        const refs: Record<string, string | null> = {};
        for (const part of input.refunds ?? []) refs[part.refund_id] = (await call(part.provider, 'refund', (pr) => pr.refund({ providerRef: part.provider_ref, amount: part.amount, refundId: part.refund_id }))).providerRef;
        return { ok: true, result: { refund_refs: refs } };
      }
      case 'refund': {
        const refs: Record<string, string | null> = {};
        for (const part of (action.input as unknown as RefundInput).parts) refs[part.refund_id] = (await call(part.provider, 'refund', (pr) => pr.refund({ providerRef: part.provider_ref, amount: part.amount, refundId: part.refund_id }))).providerRef;
        return { ok: true, result: { refund_refs: refs } };
      }
    }
  } catch (e) {
    const o = failedOutcome(e);
    return called ? { ...o, uncertain: true } : o;
  }
}

/** Phase 3, in the caller's transaction: settles the action once and applies it. */
async function settleAction(c: Ctx, action: PaymentAction<Record<string, unknown>>, outcome: Outcome): Promise<void> {
  if (action.kind === 'checkout') {
    const auth = outcome.ok ? (outcome.result.authorization as AuthorizeResult) : null;
    await settleCheckout(c, action as unknown as PaymentAction<CheckoutActionInput>, auth ? { ok: true, result: auth } : (outcome as { ok: false; error: AppError; uncertain: boolean }));
    return;
  }
  if (!(await finishAction(c, action, outcome.ok ? { ok: true, result: outcome.result } : { ok: false, error: actionError(outcome.error) }))) return;
  const refs = (outcome.ok ? (outcome.result.refund_refs as Record<string, string | null> | undefined) : undefined) ?? {};
  switch (action.kind) {
    case 'capture': {
      if (!outcome.ok) return;
      const o = await findOrderRow(c, action.order_id);
      let sum = 0;
      for (const [id, amount] of Object.entries(outcome.result.captured as Record<string, number>)) {
        const p = await findPayment(c, id);
        if (p && (await markCaptured(c, p, amount))) sum += Math.min(amount, p.amount);
      }
      if (!o || o.status !== 'pending_payment') return;
      await convertReservation(c, o.id);
      await transition(c, o, 'paid', { amount_paid: Number(o.amount_paid) + sum }, { captured: sum });
      return;
    }
    case 'cancel': {
      const input = action.input as unknown as CancelInput;
      if (!outcome.ok) {
        for (const part of input.refunds) await failRefund(c, part);
        return;
      }
      for (const id of input.void_ids) {
        const p = await findPayment(c, id);
        if (p) await markCancelled(c, p);
      }
      for (const part of input.refunds) await settleRefund(c, part, refs[part.refund_id] ?? null);
      const o = await findOrderRow(c, action.order_id);
      if (!o || (o.status !== 'pending_payment' && o.status !== 'paid')) return;
      const refunded = input.refunds.reduce((a, p) => a + p.amount, 0);
      await releaseReservation(c, o.id);
      if (input.restock) await restockOrder(c, o.id, 'release');
      await transition(c, o, 'cancelled', { amount_refunded: Number(o.amount_refunded) + refunded }, { reason: input.reason, restocked: input.restock, refunded });
      return;
    }
    case 'refund': {
      const input = action.input as unknown as RefundInput;
      if (!outcome.ok) {
        for (const part of input.parts) await failRefund(c, part);
        return;
      }
      for (const part of input.parts) await settleRefund(c, part, refs[part.refund_id] ?? null);
      if (input.restock?.length) await restockOrder(c, action.order_id, 'return', new Map(input.restock));
      const o = await findOrderRow(c, action.order_id);
      if (!o) return;
      const after = Number(o.amount_refunded) + input.amount;
      await transition(c, o, after >= Number(o.amount_paid) ? 'refunded' : 'partially_refunded', { amount_refunded: after }, { amount: input.amount, refund_ids: input.parts.map((p) => p.refund_id), restocked: Boolean(input.restock?.length), reason: input.reason });
      return;
    }
    case 'void': {
      if (!outcome.ok) return;
      for (const id of (action.input as unknown as VoidInput).payment_ids) {
        const p = await findPayment(c, id);
        if (p) await markCancelled(c, p);
      }
      return;
    }
  }
}

// --- the order actions staff take -----------------------------------------------------------------

/** Staff take the money of a pending order (a manual payment received, an authorised card captured). */
export async function captureOrder(ctx: Ctx, gateway: PaymentGateway, orderId: string, record?: RequestRecord): Promise<Order> {
  return runAction(ctx, gateway, orderId, async (c) => {
    const o = await loadOrder(c, orderId);
    if (o.status !== 'pending_payment') throw conflict('invalid_order_transition', `An order that is ${o.status} has nothing to capture`);
    const open = (await paymentsOf(c, [orderId])).filter(isOpen);
    if (open.length === 0) throw conflict('payment_not_capturable', 'The order has no open payment');
    return createAction<CaptureInput>(c, orderId, 'capture', { payment_ids: open.map((p) => p.id) });
  }, record);
}

/**
 * Cancels an order that has not shipped: voids open payments or refunds captured ones, releases the
 * reservation and (unless told not to) puts the stock back.
 */
export async function cancelOrder(ctx: Ctx, gateway: PaymentGateway, orderId: string, opts: { restock?: boolean | undefined; reason?: string | undefined }, record?: RequestRecord): Promise<Order> {
  return runAction(ctx, gateway, orderId, async (c) => {
    const o = await loadOrder(c, orderId);
    if (o.status !== 'pending_payment' && o.status !== 'paid') throw conflict('invalid_order_transition', `An order that is ${o.status} cannot be cancelled; refund it instead`);
    const payments = await paymentsOf(c, [orderId]);
    const captured = payments.reduce((a, p) => a + p.amount_captured - p.amount_refunded, 0);
    // Money goes back to the customer: the same permission a refund needs.
    if (captured > 0) authorize(c.principal, 'orders:refund', 'Cancelling an order whose payment was taken');
    const refunds = captured > 0 ? await reserveRefunds(c, payments, captured, opts.reason ?? 'order cancelled') : [];
    return createAction<CancelInput>(c, orderId, 'cancel', { void_ids: payments.filter(isOpen).map((p) => p.id), refunds, restock: opts.restock !== false, reason: opts.reason ?? null });
  }, record);
}

/**
 * Refunds money (an amount, or the value of returned lines) — never more than was paid and not yet refunded —
 * and optionally puts the returned lines back in stock.
 */
export async function refundOrder(
  ctx: Ctx,
  gateway: PaymentGateway,
  orderId: string,
  input: { amount?: number | undefined; lines?: { line_id: string; quantity: number }[] | undefined; restock?: boolean | undefined; reason?: string | undefined },
  record?: RequestRecord,
): Promise<Order> {
  return runAction(ctx, gateway, orderId, async (c) => {
    const o = await loadOrder(c, orderId);
    const lines = await orderLines(c, orderId);
    const returned = new Map<string, number>();
    let linesValue = 0;
    for (const [i, l] of (input.lines ?? []).entries()) {
      const line = lines.find((x) => x.id === l.line_id);
      if (!line) throw invalid('unknown_order_line', 'No such line in this order', [{ pointer: `/body/lines/${i}/line_id`, detail: 'unknown line' }]);
      if (l.quantity > line.quantity) throw invalid('refund_exceeds_quantity', `Line ${line.sku} has only ${line.quantity}`, [{ pointer: `/body/lines/${i}/quantity`, detail: 'more than ordered' }]);
      returned.set(line.variant_id, (returned.get(line.variant_id) ?? 0) + l.quantity);
      linesValue += mulDivRound(line.total, l.quantity, line.quantity);
    }
    const refundable = Number(o.amount_paid) - Number(o.amount_refunded);
    const amount = input.amount ?? (input.lines ? linesValue : refundable);
    if (amount <= 0) throw invalid('invalid_refund', 'Nothing to refund', [{ pointer: '/body/amount', detail: 'must be positive' }]);
    if (amount > refundable) throw invalid('refund_exceeds_payment', `At most ${refundable} can be refunded`, [{ pointer: '/body/amount', detail: `at most ${refundable}` }]);
    // Check the transition before touching money.
    assertTransition(o.status, Number(o.amount_refunded) + amount >= Number(o.amount_paid) ? 'refunded' : 'partially_refunded');
    const parts = await reserveRefunds(c, await paymentsOf(c, [orderId]), amount, input.reason ?? 'refund');
    return createAction<RefundInput>(c, orderId, 'refund', { parts, amount, restock: input.restock && returned.size ? [...returned.entries()] : null, reason: input.reason ?? null });
  }, record);
}

// --- what the provider tells us by webhook: no call back to it ---------------------------------------

/** The provider told us the payment went through (webhook): the same effect as a capture, without calling it. */
export async function markOrderPaid(ctx: Ctx, orderId: string, amount: number, paymentId: string): Promise<void> {
  const o = await loadOrder(ctx, orderId);
  if (o.status !== 'pending_payment') return;
  await convertReservation(ctx, orderId);
  await transition(ctx, o, 'paid', { amount_paid: Number(o.amount_paid) + amount }, { payment_id: paymentId, source: 'provider' });
}

/** Applies a refund the provider made on its own (dashboard, dispute), once per provider refund id. */
export async function recordProviderRefund(ctx: Ctx, orderId: string, amount: number, providerRef: string): Promise<void> {
  const o = await loadOrder(ctx, orderId);
  const refundable = Number(o.amount_paid) - Number(o.amount_refunded);
  const take = Math.min(amount, refundable);
  if (take <= 0) return;
  await recordRefundAtProvider(ctx, await paymentsOf(ctx, [orderId]), take, 'refunded at the provider', providerRef);
  const after = Number(o.amount_refunded) + take;
  await transition(ctx, o, after >= Number(o.amount_paid) ? 'refunded' : 'partially_refunded', { amount_refunded: after }, { amount: take, source: 'provider' });
}

// --- background: expiry and reconciliation ------------------------------------------------------------

const systemCtx = (db: Db, clock: Clock, log: Logger, tenantId: string): Ctx => ({ tenantId, principal: { kind: 'system', tenantId }, db, clock, log });

/**
 * Cancels pending orders whose stock hold expired (payment never arrived) and puts their stock back, each in
 * its own transaction; open payments are then voided at the provider, outside it. An order whose payment
 * action is still in flight waits until that action is settled.
 */
export async function expireReservations(db: Db, clock: Clock, gateway: PaymentGateway, log: Logger): Promise<number> {
  let n = 0;
  for (const r of await expiredReservations(db, clock.now().toISOString())) {
    const ctx = systemCtx(db, clock, log, r.tenant_id);
    try {
      const voidId = await db.transaction().execute(async (trx) => {
        const c: Ctx = { ...ctx, db: trx };
        const o = await findOrderRow(c, r.order_id);
        if (!o || o.status !== 'pending_payment') {
          await releaseReservation(c, r.order_id);
          return null;
        }
        if (await pendingActionOf(c, o.id)) return null;
        if (!(await releaseReservation(c, r.order_id))) return null;
        await restockOrder(c, o.id, 'release');
        await recordEvent(c, o.id, 'reservation.expired', {});
        await transition(c, o, 'cancelled', {}, { reason: 'payment not received in time', restocked: true });
        n++;
        const open = (await paymentsOf(c, [o.id])).filter(isOpen);
        return open.length ? (await createAction<VoidInput>(c, o.id, 'void', { payment_ids: open.map((p) => p.id) }, { dueNow: true })).id : null;
      });
      if (voidId) await driveAction(ctx, gateway, voidId, nothing).catch((err: unknown) => log.warn({ err, order_id: r.order_id }, 'void left to reconciliation'));
    } catch (err) {
      log.error({ err, order_id: r.order_id }, 'could not expire a reservation');
    }
  }
  return n;
}

/** Seconds until the next attempt at a pending action: 1, 2, 4 … minutes, at most an hour. */
const backoff = (attempts: number) => Math.min(3600, 60 * 2 ** Math.min(attempts, 6));

/**
 * The reconciliation job: settles payment actions left pending — a process that died between the phases, a
 * provider that timed out — by asking the provider again with the same idempotency keys. Each action is
 * leased before it is driven, so two workers never drive the same one; a provider that still cannot answer
 * gets the action back later, with backoff. Returns what it settled and what is still open.
 */
export async function reconcilePayments(db: Db, clock: Clock, gateway: PaymentGateway, log: Logger): Promise<{ settled: number; pending: number }> {
  let settled = 0;
  let pending = 0;
  for (const a of await dueActions(db, clock.now().toISOString())) {
    if (!(await leaseAction(db, a, clock.now(), backoff(a.attempts)))) continue;
    const ctx = systemCtx(db, clock, log, a.tenant_id);
    try {
      await driveAction(ctx, gateway, a.id, nothing);
      settled++;
      log.info({ action_id: a.id, kind: a.kind, order_id: a.order_id, attempts: a.attempts + 1 }, 'payment action reconciled');
    } catch (err) {
      pending++;
      (a.attempts >= 4 ? log.error.bind(log) : log.warn.bind(log))({ err, action_id: a.id, kind: a.kind, order_id: a.order_id, attempts: a.attempts + 1 }, 'payment action still unsettled');
    }
  }
  return { settled, pending };
}
