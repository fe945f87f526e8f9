import type { Logger } from '../lib/log.ts';
import type { Ctx } from '../context.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import { abandonedCarts, cartToRemind } from '../modules/carts/index.ts';
import { sellableVariants } from '../modules/catalog/index.ts';
import { sendOnce, type Mailer, abandonedCart, orderConfirmation, shippingNotification } from '../modules/email/index.ts';
import { enqueue } from '../modules/jobs/index.ts';
import { orderCreated } from '../modules/orders/index.ts';
import { getTenant } from '../modules/tenants/index.ts';

/** The `email.send` job: renders a template from the shop's data and sends it once per job key. */
export async function sendTemplatedEmail(db: Db, clock: Clock, mailer: Mailer, log: Logger, tenantId: string, p: Record<string, unknown>): Promise<{ outcome: string }> {
  const ctx: Ctx = { tenantId, principal: { kind: 'system', tenantId }, db, clock, log };
  const shop = await getTenant(db, tenantId);
  const template = String(p.template);
  if (template === 'order_confirmation' || template === 'shipping_notification') {
    const order = await orderCreated(ctx, String(p.order_id));
    if (!order.email) return { outcome: 'no_email_address' };
    const rendered =
      template === 'order_confirmation'
        ? orderConfirmation(shop.name, order)
        : shippingNotification(shop.name, {
            name: order.name,
            carrier: String(p.carrier ?? ''),
            tracking_number: String(p.tracking_number ?? ''),
            lines: ((p.lines as { line_id: string; quantity: number }[] | undefined) ?? []).map((l) => ({ title: order.lines.find((x) => x.id === l.line_id)?.title ?? 'item', quantity: l.quantity })),
          });
    return { outcome: await sendOnce(db, clock, mailer, { tenantId, key: `${template}:${String(p.event_id)}`, template, to: order.email, fromName: shop.name, rendered, about: { order_id: order.id, customer_id: order.customer_id } }) };
  }
  if (template === 'abandoned_cart') {
    const found = await cartToRemind(db, tenantId, String(p.cart_id));
    if (!found) return { outcome: 'cart_gone' };
    const { cart, lines } = found;
    const variants = await sellableVariants(db, tenantId, lines.map((l) => l.variant_id));
    const rendered = abandonedCart(shop.name, { cart_id: cart.id, lines: lines.map((l) => ({ title: variants.get(l.variant_id)?.title ?? 'item', quantity: l.quantity })) });
    return { outcome: await sendOnce(db, clock, mailer, { tenantId, key: `abandoned_cart:${cart.id}`, template, to: cart.email, fromName: shop.name, rendered, about: { cart_id: cart.id } }) };
  }
  throw new Error(`unknown email template ${template}`);
}

/**
 * The abandoned-cart sweep: carts with an email and lines, untouched for a day, not ordered and not reminded
 * yet, get one reminder each (the email key makes it once per cart even if the sweep runs twice).
 */
export async function remindAbandonedCarts(db: Db, clock: Clock, idleHours = 24, limit = 500): Promise<number> {
  const before = new Date(clock.now().getTime() - idleHours * 3600_000).toISOString();
  const carts = await abandonedCarts(db, before, limit);
  let n = 0;
  for (const c of carts) {
    if (await enqueue(db, clock, { tenantId: c.tenant_id, queue: 'email', type: 'email.send', payload: { template: 'abandoned_cart', cart_id: c.id }, maxAttempts: 5, dedupeKey: `email:abandoned_cart:${c.id}` })) n++;
  }
  return n;
}
