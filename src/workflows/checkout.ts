import type { Ctx, RequestRecord } from '../context.ts';
import type { OrderLinesTable, OrdersTable } from '../db/schema.ts';
import { AppError, forbidden, invalid, ProviderUnavailable } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { cartForCheckout, markCartOrdered, reopenCart } from '../modules/carts/index.ts';
import { getCustomer } from '../modules/customers/index.ts';
import { convertReservation, holdReservation, releaseReservation, restockOrder, takeStock } from '../modules/inventory/index.ts';
import { emitOrderCreated, findOrderRow, insertOrder, nextOrderNumber, orderCreated, orderFromRows, recordEvent, transition, type Order } from '../modules/orders/index.ts';
import { type PaymentGateway, applyAuthorization, createAction, findPayment, finishAction, insertPendingPayment, latestActionOf, markFailed, type ActionError, type Payment, type PaymentAction, type AuthorizeResult } from '../modules/payments/index.ts';
import { quote, redeemDiscount, releaseDiscount, type Address } from '../modules/pricing/index.ts';
import { getShop } from '../modules/tenants/index.ts';

export interface CheckoutInput {
  cart_id?: string | undefined;
  lines?: { variant_id: string; quantity: number }[] | undefined;
  email?: string | undefined;
  customer_id?: string | undefined;
  shipping_address?: Address | undefined;
  billing_address?: Address | undefined;
  shipping_method_id?: string | undefined;
  discount_code?: string | undefined;
  payment: { provider: 'manual' | 'test' | 'stripe'; card_number?: string | undefined };
}

/** The steps of checkout's first transaction, in order. A probe after each lets tests fail any one of them. */
export const CHECKOUT_STEPS = ['validate', 'price', 'stock', 'discount', 'order', 'payment', 'recovery_point'] as const;
/** The points between the phases where a process can die: after the intent committed, after the provider answered. */
export const CHECKOUT_CRASH_POINTS = ['after_intent', 'after_provider'] as const;
export type CheckoutStep = (typeof CHECKOUT_STEPS)[number] | (typeof CHECKOUT_CRASH_POINTS)[number];

export interface CheckoutDeps {
  gateway: PaymentGateway;
  /** Tests only: called after each step; throwing there fails (or, between phases, "crashes") the checkout. */
  probe?: ((step: CheckoutStep) => void | Promise<void>) | undefined;
}

/** What the checkout's payment action carries, so a retry or the reconciliation job can finish it. */
export interface CheckoutActionInput {
  payment_id: string;
  cart_id: string | null;
  discount_id: string | null;
  customer_key: string;
}

/** The recovery point a checkout request reaches when its first transaction commits. */
export const ORDER_CREATED = 'order_created';

/**
 * `POST /api/orders`, in three phases (Stripe's "atomic phases"), no transaction open across the provider call:
 *
 *  A. one transaction: validate (and close the cart) → price → take stock (held by a reservation that expires)
 *     → count the discount use → write the order `pending_payment`, a `pending` payment and its payment action
 *     (the intent, carrying the provider idempotency key) → save the request's recovery point;
 *  B. the provider call (authorise), outside any transaction, through the gateway (timeout, circuit breaker);
 *  C. one transaction: record the outcome — captured → paid; needs action → placed, awaiting the shopper;
 *     declined or provider unavailable → order cancelled, stock, discount use and cart given back — and store the
 *     request's final answer.
 *
 * A retry of the same request (same Idempotency-Key) after a crash resumes at B from the recovery point; the
 * reconciliation job settles actions nobody retried (workflows/payment-actions.ts).
 */
export async function checkout(ctx: Ctx, deps: CheckoutDeps, input: CheckoutInput, record?: RequestRecord): Promise<Order> {
  const p = ctx.principal;
  const staff = p.kind === 'user' || p.kind === 'api_key';
  if ((input.cart_id === undefined) === (input.lines === undefined)) throw invalid('invalid_checkout', 'Send either cart_id or lines', [{ pointer: '/body', detail: 'cart_id xor lines' }]);
  if (input.lines !== undefined && !staff) throw forbidden('lines_need_secret_key', 'Only staff and secret keys can order lines directly; shoppers order a cart');
  if (input.customer_id !== undefined && !staff) throw forbidden('principal_not_allowed', 'Only staff can order for a customer');
  const provider = deps.gateway.provider(input.payment.provider);
  const probe = deps.probe ?? (() => {});

  let orderId: string;
  let placed: Placed | undefined;
  if (record?.recovery?.point === ORDER_CREATED && record.recovery.resourceId) {
    orderId = record.recovery.resourceId;
  } else {
    const r = await ctx.db.transaction().execute((trx) => placeOrder({ ...ctx, db: trx }, provider.name, input, probe, record));
    if ('done' in r) return r.done;
    placed = r;
    orderId = r.order.id;
  }
  await probe('after_intent');
  return payForOrder(ctx, deps, orderId, input.payment.card_number, record, placed);
}

/** What phase A wrote, handed on so phases B and C need not read it back. */
interface Placed {
  order: OrdersTable;
  lines: OrderLinesTable[];
  payment: Payment;
  action: PaymentAction<CheckoutActionInput>;
}

/** Phase A. Returns the finished order when there is nothing to pay. */
async function placeOrder(c: Ctx, providerName: CheckoutInput['payment']['provider'], input: CheckoutInput, probe: (s: CheckoutStep) => void | Promise<void>, record: RequestRecord | undefined): Promise<{ done: Order } | Placed> {
  const p = c.principal;
  const staff = p.kind === 'user' || p.kind === 'api_key';
  const orderId = newId('order');

  // 1. validate; the cart is spent at once (a conditional update): a second checkout of the same cart waits on
  //    its row lock and then finds it ordered, instead of doing all the work to fail at the end
  const cart = input.cart_id ? await cartForCheckout(c, input.cart_id) : null;
  if (cart) await markCartOrdered(c, cart.cart.id);
  const lines = cart ? cart.lines : (input.lines ?? []);
  const customerId = p.kind === 'customer' ? p.customerId : (input.customer_id ?? cart?.cart.customer_id ?? null);
  const customer = customerId ? await getCustomer(c, customerId).catch(() => null) : null;
  if (customerId && !customer) throw invalid('unknown_customer', 'No such customer in this shop', [{ pointer: '/body/customer_id', detail: 'unknown customer' }]);
  const email = (input.email ?? cart?.cart.email ?? customer?.email ?? null)?.toLowerCase() ?? null;
  if (!staff && !email) throw invalid('email_required', 'An email address is needed for the order confirmation', [{ pointer: '/body/email', detail: 'required' }]);
  const shippingAddress = input.shipping_address ?? cart?.shippingAddress ?? null;
  const billingAddress = input.billing_address ?? cart?.billingAddress ?? shippingAddress;
  const shippingMethodId = input.shipping_method_id ?? cart?.cart.shipping_method_id ?? null;
  if (shippingMethodId && !shippingAddress) throw invalid('shipping_address_required', 'A shipping method needs a shipping address', [{ pointer: '/body/shipping_address', detail: 'required' }]);
  const discountCode = input.discount_code ?? cart?.cart.discount_code ?? null;
  const customerKey = customerId ?? email ?? `order:${orderId}`;
  await probe('validate');

  // 2. price — from the shop's own tables, never from the client
  const shop = await getShop(c);
  const q = await quote(c, shop, { lines, discount_code: discountCode, shipping_method_id: shippingMethodId, shipping_address: shippingAddress, customer_key: customerKey });
  await probe('price');

  // 3. stock — variants in a fixed order, so concurrent checkouts lock rows in the same order
  const b = q.breakdown;
  const byVariant = [...b.lines].sort((x, y) => (x.key < y.key ? -1 : 1));
  await takeStock(
    c,
    orderId,
    byVariant.map((l) => {
      const v = q.variants.get(l.key)!;
      const i = input.lines?.findIndex((x) => x.variant_id === l.key) ?? -1;
      return { variantId: l.key, sku: v.sku, quantity: l.quantity, lowStockThreshold: v.low_stock_threshold, pointer: i >= 0 ? `/body/lines/${i}/quantity` : '/body/cart_id' };
    }),
  );
  await probe('stock');

  // 4. discount use (limits hold under concurrency)
  if (q.discount) await redeemDiscount(c, q.discount, customerKey);
  await probe('discount');

  // 5. the order and its lines
  const now = c.clock.now().toISOString();
  const order: OrdersTable = {
    tenant_id: c.tenantId,
    id: orderId,
    number: await nextOrderNumber(c),
    status: 'pending_payment',
    customer_id: customerId,
    email,
    cart_id: cart?.cart.id ?? null,
    currency: q.currency,
    tax_mode: q.tax_mode,
    subtotal: b.subtotal,
    discount_total: b.discount_total,
    shipping_total: b.shipping_total,
    tax_total: b.tax_total,
    total: b.total,
    amount_paid: 0,
    amount_refunded: 0,
    discount_id: q.discount?.id ?? null,
    discount_code: q.discount?.code ?? null,
    shipping_method_id: q.shipping?.id ?? null,
    shipping_method_name: q.shipping?.name ?? null,
    shipping_address: shippingAddress ? JSON.stringify(shippingAddress) : null,
    billing_address: billingAddress ? JSON.stringify(billingAddress) : null,
    version: 1,
    created_at: now,
    updated_at: now,
  };
  const orderLines: OrderLinesTable[] = b.lines.map((l, i) => {
    const v = q.variants.get(l.key)!;
    return { tenant_id: c.tenantId, id: newId('orderLine'), order_id: orderId, variant_id: l.key, product_id: v.product_id, sku: v.sku, title: v.title, quantity: l.quantity, unit_price: l.unit_price, subtotal: l.subtotal, discount: l.discount, tax: l.tax, total: l.total, fulfilled_quantity: 0, position: i };
  });
  await insertOrder(c, order, orderLines);
  await probe('order');

  // 6. the payment: nothing to pay is paid now; otherwise a pending payment and the intent of the provider call
  let pay: { payment: Payment; action: PaymentAction<CheckoutActionInput> } | null = null;
  let current = order;
  if (order.total === 0) {
    await emitOrderCreated(c, order);
    current = await transition(c, order, 'paid', { amount_paid: 0 }, { reason: 'nothing to pay' });
  } else {
    const payment = await insertPendingPayment(c, providerName, order);
    await holdReservation(c, orderId);
    const action = await createAction<CheckoutActionInput>(c, orderId, 'checkout', { payment_id: payment.id, cart_id: order.cart_id, discount_id: order.discount_id, customer_key: customerKey });
    pay = { payment, action };
  }
  await probe('payment');

  // 7. the request's recovery point (or, with nothing to pay, its answer) commits with all of it
  await probe('recovery_point');
  if (!pay) {
    const done = orderFromRows(current, orderLines, []);
    await record?.complete(c.db, done);
    return { done };
  }
  await record?.checkpoint(c.db, ORDER_CREATED, orderId);
  return { order, lines: orderLines, ...pay };
}

export type AuthorizeOutcome = { ok: true; result: AuthorizeResult } | { ok: false; error: AppError; uncertain: boolean };

/** An error the provider gave, as the outcome of an action; anything that is not an AppError is a bug: rethrown. */
export function failedOutcome(e: unknown): { ok: false; error: AppError; uncertain: boolean } {
  if (!(e instanceof AppError)) throw e;
  return { ok: false, error: e, uncertain: e instanceof ProviderUnavailable && e.uncertain };
}

export const actionError = (e: AppError): ActionError => ({ kind: e.kind, code: e.code, detail: e.message });

/** Phases B and C, for a first attempt and for a retry that resumes from the recovery point. */
async function payForOrder(ctx: Ctx, deps: CheckoutDeps, orderId: string, cardNumber: string | undefined, record: RequestRecord | undefined, placed: Placed | undefined): Promise<Order> {
  const probe = deps.probe ?? (() => {});
  const action = placed?.action ?? (await latestActionOf<CheckoutActionInput>(ctx, orderId, 'checkout'));
  if (action?.status === 'pending') {
    const payment = placed?.payment ?? (await findPayment(ctx, action.input.payment_id));
    if (!payment) throw new Error(`checkout action ${action.id} has no payment`);
    let outcome: AuthorizeOutcome;
    try {
      const result = await deps.gateway.call(ctx.db, payment.provider, 'authorize', (p) =>
        p.authorize({ paymentId: payment.id, tenantId: ctx.tenantId, orderId, amount: payment.amount, currency: payment.currency, cardNumber }),
      );
      outcome = { ok: true, result };
    } catch (e) {
      outcome = failedOutcome(e);
    }
    await probe('after_provider');
    const answer = await ctx.db.transaction().execute(async (trx) => {
      const c: Ctx = { ...ctx, db: trx };
      const settled = await settleCheckout(c, action, outcome, placed && { order: placed.order, payment });
      // This request settled it from what it wrote itself: the answer is known without reading anything back.
      if (settled && placed && outcome.ok) {
        const order = orderFromRows(settled.order, placed.lines, [settled.payment]);
        await record?.complete(trx, order);
        return { order };
      }
      return answerCheckout(c, orderId, record);
    });
    if ('error' in answer) throw answer.error;
    return answer.order;
  }
  const answer = await ctx.db.transaction().execute((trx) => answerCheckout({ ...ctx, db: trx }, orderId, record));
  if ('error' in answer) throw answer.error;
  return answer.order;
}

/** The answer to the checkout request, stored with the request in the same transaction. */
async function answerCheckout(c: Ctx, orderId: string, record: RequestRecord | undefined): Promise<{ order: Order } | { error: AppError }> {
  const action = await latestActionOf<CheckoutActionInput>(c, orderId, 'checkout');
  if (action?.status === 'failed' && action.error) {
    await record?.checkpoint(c.db, 'settled', orderId);
    const e = action.error;
    return { error: e.code === 'payment_provider_unavailable' ? new ProviderUnavailable('payment provider', e.detail, false, 5) : new AppError(e.kind, e.code, e.detail) };
  }
  if (action?.status === 'pending') return { error: new ProviderUnavailable('payment provider', 'the payment is still being settled; retry shortly', true, 5) };
  const order = await orderCreated(c, orderId);
  await record?.complete(c.db, order);
  return { order };
}

/**
 * Phase C: applies what the provider said, once (the action is settled with a condition, so a retry and the
 * reconciliation job cannot both apply it). Runs in the caller's transaction.
 */
export async function settleCheckout(
  c: Ctx,
  action: PaymentAction<CheckoutActionInput>,
  outcome: AuthorizeOutcome,
  known?: { order: OrdersTable; payment: Payment },
): Promise<{ order: OrdersTable; payment: Payment } | null> {
  const settled = await finishAction(c, action, outcome.ok ? { ok: true, result: { status: outcome.result.status, provider_ref: outcome.result.providerRef } } : { ok: false, error: actionError(outcome.error) });
  if (!settled) return null;
  // While the action was pending nothing else could change the order or its payment (one action per order;
  // the updates below are conditional on the status and version read), so what phase A wrote is current.
  const order = known?.order ?? (await findOrderRow(c, action.order_id));
  const payment = known?.payment ?? (await findPayment(c, action.input.payment_id));
  if (!order || !payment) return null;
  if (outcome.ok) {
    const r = outcome.result;
    const paid = await applyAuthorization(c, payment, r);
    if (order.status !== 'pending_payment') return { order, payment: paid };
    await emitOrderCreated(c, order);
    if (r.status !== 'captured') return { order, payment: paid };
    await convertReservation(c, order.id);
    return { order: await transition(c, order, 'paid', { amount_paid: payment.amount }, { payment_id: payment.id }), payment: paid };
  }
  // Declined, or the provider could not be reached: nothing was ordered. Everything phase A took goes back.
  await markFailed(c, payment, outcome.error.message);
  if (order.status !== 'pending_payment') return null;
  await releaseReservation(c, order.id);
  await restockOrder(c, order.id, 'release');
  if (action.input.discount_id) await releaseDiscount(c, action.input.discount_id, action.input.customer_key);
  if (action.input.cart_id) await reopenCart(c, action.input.cart_id);
  await recordEvent(c, order.id, 'payment.failed', { payment_id: payment.id, code: outcome.error.code, detail: outcome.error.message });
  // The order was never placed (no order.created went out), so its cancellation is not announced either.
  await transition(c, order, 'cancelled', { cart_id: null }, { reason: 'payment failed', code: outcome.error.code, restocked: true }, { emit: false });
  // The provider may have authorised after all (a timeout): void whatever it made, as soon as it answers.
  if (outcome.uncertain) await createAction(c, order.id, 'void', { payment_ids: [payment.id] }, { dueNow: true });
  return null;
}
