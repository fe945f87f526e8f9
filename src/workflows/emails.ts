import type { Logger } from '../lib/log.ts';
import type { Ctx } from '../context.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import { abandonedCarts, cartToRemind, markCartReminded } from '../modules/carts/index.ts';
import { consentToken, contactForEmail, marketingConsent } from '../modules/crm/index.ts';
import { sellableVariants } from '../modules/catalog/index.ts';
import { sendOnce, type Mailer, abandonedCart, consentConfirmation, orderConfirmation, shippingNotification } from '../modules/email/index.ts';
import { enqueue } from '../modules/jobs/index.ts';
import { orderCreated } from '../modules/orders/index.ts';
import { getTenant } from '../modules/tenants/index.ts';

/** The `email.send` job: renders a template from the shop's data and sends it once per job key. */
export async function sendTemplatedEmail(db: Db, clock: Clock, mailer: Mailer, log: Logger, tenantId: string, p: Record<string, unknown>, links: { publicUrl: string; consentSecret: string } | null = null): Promise<{ outcome: string }> {
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
    const consent = await marketingConsent(db, tenantId, cart.email, clock.now().toISOString());
    if (!consent.consented) return { outcome: 'no_consent' };
    const link = shop.storefront_url ? `${shop.storefront_url}${shop.storefront_url.includes('?') ? '&' : '?'}cart=${encodeURIComponent(cart.id)}` : null;
    const unsubscribeUrl = links ? `${links.publicUrl}/api/consent/unsubscribe?token=${consentToken(links.consentSecret, tenantId, consent.contactId, 'unsubscribe')}` : null;
    const rendered = abandonedCart(shop.name, { cart_id: cart.id, lines: lines.map((l) => ({ title: variants.get(l.variant_id)?.title ?? 'item', quantity: l.quantity })), link, unsubscribe_url: unsubscribeUrl });
    return { outcome: await sendOnce(db, clock, mailer, { tenantId, key: `abandoned_cart:${cart.id}`, template, to: cart.email, fromName: shop.name, rendered, about: { cart_id: cart.id } }) };
  }
  if (template === 'consent_confirmation') {
    const c = await contactForEmail(db, tenantId, String(p.contact_id));
    if (!c || c.consent !== 'pending') return { outcome: 'nothing_to_confirm' };
    if (!links) return { outcome: 'no_public_url' };
    const link = `${links.publicUrl}/api/consent/confirm?token=${consentToken(links.consentSecret, tenantId, c.id, 'confirm')}`;
    return { outcome: await sendOnce(db, clock, mailer, { tenantId, key: `consent_confirmation:${String(p.contact_id)}:${clock.now().toISOString().slice(0, 13)}`, template, to: c.email, fromName: shop.name, rendered: consentConfirmation(shop.name, { first_name: c.first_name, link }) }) };
  }
  throw new Error(`unknown email template ${template}`);
}

/**
 * The abandoned-cart sweep: carts with an email and lines, untouched for as long as their shop's setting says
 * (`cart_reminder_hours`, 0: never), not ordered and never reminded, get one reminder — when the person consented
 * to marketing (a person not known yet becomes a contact, without consent, and is not emailed). The cart is marked
 * reminded in the transaction that enqueues the email, so an order from it counts as recovered revenue.
 */
export async function remindAbandonedCarts(db: Db, clock: Clock, limit = 500): Promise<number> {
  const now = clock.now();
  const candidates = await abandonedCarts(db, new Date(now.getTime() - 3600_000).toISOString(), limit);
  const hoursOf = new Map<string, number>();
  let n = 0;
  for (const c of candidates) {
    if (!hoursOf.has(c.tenant_id)) hoursOf.set(c.tenant_id, (await getTenant(db, c.tenant_id)).cart_reminder_hours);
    const hours = hoursOf.get(c.tenant_id) as number;
    if (hours === 0 || Date.parse(c.updated_at) > now.getTime() - hours * 3600_000 || !c.email) continue;
    const at = now.toISOString();
    const sent = await db.transaction().execute(async (trx) => {
      if (!(await marketingConsent(trx, c.tenant_id, c.email as string, at)).consented) return false;
      await markCartReminded(trx, c.tenant_id, c.id, at);
      return Boolean(await enqueue(trx, clock, { tenantId: c.tenant_id, queue: 'email', type: 'email.send', payload: { template: 'abandoned_cart', cart_id: c.id }, maxAttempts: 5, dedupeKey: `email:abandoned_cart:${c.id}` }));
    });
    if (sent) n++;
  }
  return n;
}
