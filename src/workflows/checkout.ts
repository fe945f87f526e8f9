import type { Ctx } from '../context.ts';
import type { OrderLinesTable, OrdersTable } from '../db/schema.ts';
import { AppError, forbidden, unprocessable } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { cartForCheckout, markCartOrdered } from '../modules/carts/carts.service.ts';
import { getCustomer } from '../modules/customers/customers.service.ts';
import { holdReservation, takeStock } from '../modules/inventory/inventory.service.ts';
import { orderCreated, insertOrder, nextOrderNumber, transition, type Order } from '../modules/orders/orders.service.ts';
import { createPayment, providerOf, type ProviderRegistry } from '../modules/payments/payments.service.ts';
import type { PaymentProvider } from '../modules/payments/providers.ts';
import { quote, redeemDiscount, type Address } from '../modules/pricing/pricing.service.ts';
import { getShop } from '../modules/tenants/tenants.service.ts';

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

/** The steps of checkout, in order. A probe after each lets tests fail any one of them. */
export const CHECKOUT_STEPS = ['validate', 'price', 'stock', 'discount', 'order', 'payment', 'cart'] as const;
export type CheckoutStep = (typeof CHECKOUT_STEPS)[number];

export interface CheckoutDeps {
  providers: ProviderRegistry;
  /** Called after each step inside the transaction; throwing fails the checkout there. */
  probe?: ((step: CheckoutStep) => void | Promise<void>) | undefined;
}

/**
 * `POST /api/orders`: a cart (or, for staff and secret keys, lines) becomes an order in ONE transaction:
 * validate → price → take stock → count the discount use → write the order and its events → create the
 * payment → close the cart. Any failure rolls all of it back; the one step outside the database (the
 * payment provider) is compensated by voiding the payment.
 */
export async function checkout(ctx: Ctx, deps: CheckoutDeps, input: CheckoutInput): Promise<Order> {
  const p = ctx.principal;
  const staff = p.kind === 'user' || p.kind === 'api_key';
  if ((input.cart_id === undefined) === (input.lines === undefined)) throw unprocessable('invalid_checkout', 'Send either cart_id or lines', [{ pointer: '/body', detail: 'cart_id xor lines' }]);
  if (input.lines !== undefined && !staff) throw forbidden('lines_need_secret_key', 'Only staff and secret keys can order lines directly; shoppers order a cart');
  if (input.customer_id !== undefined && !staff) throw forbidden('principal_not_allowed', 'Only staff can order for a customer');
  const provider = providerOf(deps.providers, input.payment.provider);
  const probe = deps.probe ?? (() => {});
  let opened: { provider: PaymentProvider; ref: string | null } | null = null;

  try {
    const orderId = await ctx.db.transaction().execute(async (trx) => {
      const c: Ctx = { ...ctx, db: trx };
      const orderId = newId('order');

      // 1. validate
      const cart = input.cart_id ? await cartForCheckout(c, input.cart_id) : null;
      const lines = cart ? cart.lines : (input.lines ?? []);
      const customerId = p.kind === 'customer' ? p.customerId : (input.customer_id ?? cart?.cart.customer_id ?? null);
      const customer = customerId ? await getCustomer(c, customerId).catch(() => null) : null;
      if (customerId && !customer) throw unprocessable('unknown_customer', 'No such customer in this shop', [{ pointer: '/body/customer_id', detail: 'unknown customer' }]);
      const email = (input.email ?? cart?.cart.email ?? customer?.email ?? null)?.toLowerCase() ?? null;
      if (!staff && !email) throw unprocessable('email_required', 'An email address is needed for the order confirmation', [{ pointer: '/body/email', detail: 'required' }]);
      const shippingAddress = input.shipping_address ?? cart?.shippingAddress ?? null;
      const billingAddress = input.billing_address ?? cart?.billingAddress ?? shippingAddress;
      const shippingMethodId = input.shipping_method_id ?? cart?.cart.shipping_method_id ?? null;
      if (shippingMethodId && !shippingAddress) throw unprocessable('shipping_address_required', 'A shipping method needs a shipping address', [{ pointer: '/body/shipping_address', detail: 'required' }]);
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
          return { variantId: l.key, sku: v.sku, quantity: l.quantity, lowStockThreshold: v.low_stock_threshold };
        }),
      );
      await probe('stock');

      // 4. discount use (limits hold under concurrency)
      if (q.discount) await redeemDiscount(c, q.discount, customerKey);
      await probe('discount');

      // 5. the order, its lines and events
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

      // 6. payment
      if (order.total === 0) {
        await transition(c, order, 'paid', { amount_paid: 0 }, { reason: 'nothing to pay' });
      } else {
        const payment = await createPayment(c, provider, order, input.payment.card_number);
        opened = { provider, ref: payment.provider_ref };
        if (payment.status === 'captured') await transition(c, order, 'paid', { amount_paid: payment.amount_captured }, { payment_id: payment.id });
        else await holdReservation(c, orderId);
      }
      await probe('payment');

      // 7. the cart is spent
      if (cart) await markCartOrdered(c, cart.cart.id);
      await probe('cart');
      return orderId;
    });
    return await orderCreated(ctx, orderId);
  } catch (e) {
    const o = opened as { provider: PaymentProvider; ref: string | null } | null;
    if (o) await o.provider.cancel({ providerRef: o.ref }).catch((err: unknown) => ctx.log.error({ err }, 'could not void the payment of a failed checkout'));
    if (!(e instanceof AppError)) ctx.log.error({ err: e }, 'checkout failed');
    throw e;
  }
}
