import type { Ctx } from '../../context.ts';
import { actorOf } from '../../context.ts';
import { notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { getOrder } from '../orders/index.ts';
import { getContact } from './contacts.service.ts';
import { crmRepository as repo } from './crm.repository.ts';
import { privacyRepository as privacy } from './privacy.repository.ts';
import { scoresOf } from './scores.service.ts';

const ERASED_DOMAIN = 'erased.invalid';

/** Everything the shop holds about a contact, as one JSON document (a subject access request); audited. */
export async function exportContact(ctx: Ctx, id: string) {
  const contact = await getContact(ctx, id);
  const activities = [];
  for (let before: string | undefined; ; ) {
    const page = await repo.activities(ctx.db, ctx.tenantId, id, { limit: 500, before });
    activities.push(...page.slice(0, 500).map((a) => ({ type: a.type, summary: a.summary, data: JSON.parse(a.data) as unknown, occurred_at: a.occurred_at })));
    if (page.length <= 500) break;
    before = page[499]?.id;
  }
  const orderIds = await privacy.orderIds(ctx.db, ctx.tenantId, { customerId: contact.customer_id, email: contact.email });
  const orders = [];
  for (const oid of orderIds) orders.push(await getOrder({ ...ctx, principal: { kind: 'system', tenantId: ctx.tenantId } }, oid));
  await repo.insertAudit(ctx.db, { tenant_id: ctx.tenantId, id: newId('audit'), action: 'export', contact_id: id, actor: actorOf(ctx.principal), detail: JSON.stringify({ orders: orders.length, activities: activities.length }), created_at: ctx.clock.now().toISOString() });
  return { exported_at: ctx.clock.now().toISOString(), contact, scores: await scoresOf(ctx, id), timeline: activities, orders };
}

/**
 * Erases a contact: personal data goes from the contact, its customer account (which is disabled and logged out),
 * its orders (email, addresses — amounts, lines and totals stay, so the books still add up), carts, its chat
 * messages and the email log; its timeline and scores are deleted. One transaction; the audit keeps who did it and
 * what it touched, nothing personal.
 */
export async function eraseContact(ctx: Ctx, id: string) {
  const c = await repo.findContact(ctx.db, ctx.tenantId, id);
  if (!c || c.erased_at) throw notFound('Contact');
  const now = ctx.clock.now().toISOString();
  const placeholder = `erased-${id}@${ERASED_DOMAIN}`;
  const who = { customerId: c.customer_id, email: c.email };
  const orderIds = await privacy.orderIds(ctx.db, ctx.tenantId, who);
  const counts = {
    orders: await privacy.anonymiseOrders(ctx.db, ctx.tenantId, orderIds, placeholder),
    carts: await privacy.forgetCarts(ctx.db, ctx.tenantId, who),
    messages: await privacy.eraseMessages(ctx.db, ctx.tenantId, orderIds),
    emails: await privacy.forgetEmails(ctx.db, ctx.tenantId, c.email, placeholder),
    activities: await repo.eraseActivities(ctx.db, ctx.tenantId, id),
    customer_account: c.customer_id !== null,
  };
  if (c.customer_id) await privacy.anonymiseCustomer(ctx.db, ctx.tenantId, c.customer_id, `erased-${c.customer_id}@${ERASED_DOMAIN}`, now);
  await privacy.deleteScores(ctx.db, ctx.tenantId, id);
  await repo.updateContact(ctx.db, ctx.tenantId, id, { email: placeholder, first_name: '', last_name: '', phone: null, country: null, tags: '[]', custom: '{}', consent: 'unsubscribed', consent_source: 'erased', consent_at: now, erased_at: now, updated_at: now });
  await repo.insertAudit(ctx.db, { tenant_id: ctx.tenantId, id: newId('audit'), action: 'erase', contact_id: id, actor: actorOf(ctx.principal), detail: JSON.stringify(counts), created_at: now });
  return { contact_id: id, erased_at: now, ...counts };
}
