import type { Ctx, Executor } from '../../context.ts';
import { actorOf } from '../../context.ts';
import type { ContactActivitiesTable, ContactsTable } from '../../db/schema.ts';
import { invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import type { EventConsumer, OutboxEvent } from '../events/index.ts';
import { baseRow, normaliseEmail } from './contacts.service.ts';
import { crmRepository as repo } from './crm.repository.ts';

export interface Activity {
  id: string;
  contact_id: string;
  type: string;
  summary: string;
  data: Record<string, unknown>;
  actor: string;
  assignee_id: string | null;
  due_at: string | null;
  done_at: string | null;
  occurred_at: string;
}

const toActivity = (a: ContactActivitiesTable): Activity => ({
  id: a.id,
  contact_id: a.contact_id,
  type: a.type,
  summary: a.summary,
  data: JSON.parse(a.data) as Record<string, unknown>,
  actor: a.actor,
  assignee_id: a.assignee_id,
  due_at: a.due_at,
  done_at: a.done_at,
  occurred_at: a.occurred_at,
});

async function liveContact(ctx: Ctx, id: string): Promise<ContactsTable> {
  const c = await repo.findContact(ctx.db, ctx.tenantId, id);
  if (!c || c.erased_at) throw notFound('Contact');
  return c;
}

/** A contact's timeline, newest first; `types` narrows it (order.created, email.sent, note, task …). */
export async function timeline(ctx: Ctx, contactId: string, opts: PageRequest & { types?: string[] | undefined }): Promise<Page<Activity>> {
  await liveContact(ctx, contactId);
  const p = toPage(await repo.activities(ctx.db, ctx.tenantId, contactId, { types: opts.types, limit: opts.limit, before: decodeCursor(opts.cursor) }), opts.limit);
  return { ...p, data: p.data.map(toActivity) };
}

function row(ctx: Pick<Ctx, 'tenantId'>, contactId: string, type: string, summary: string, data: Record<string, unknown>, actor: string, at: string, extra: Partial<ContactActivitiesTable> = {}): ContactActivitiesTable {
  return { tenant_id: ctx.tenantId, id: newId('activity'), contact_id: contactId, type, summary, data: JSON.stringify(data), actor, event_id: null, assignee_id: null, due_at: null, done_at: null, reminded_at: null, occurred_at: at, created_at: at, ...extra };
}

/** Staff log a note or a call. */
export async function logActivity(ctx: Ctx, contactId: string, input: { type: 'note' | 'call'; body: string; occurred_at?: string | undefined }): Promise<Activity> {
  await liveContact(ctx, contactId);
  const now = ctx.clock.now().toISOString();
  const a = row(ctx, contactId, input.type, input.body.slice(0, 140), { body: input.body }, actorOf(ctx.principal), input.occurred_at ?? now);
  await repo.insertActivity(ctx.db, a);
  return toActivity(a);
}

/** A task for a staff user, due at a time: the reminder job tells the assignee when it is due. */
export async function createTask(ctx: Ctx, contactId: string, input: { title: string; assignee_id: string; due_at: string }): Promise<Activity> {
  await liveContact(ctx, contactId);
  if (Number.isNaN(Date.parse(input.due_at))) throw invalid('invalid_date', 'due_at is not a date-time', [{ pointer: '/body/due_at', detail: 'ISO 8601' }]);
  const now = ctx.clock.now().toISOString();
  const a = row(ctx, contactId, 'task', input.title.slice(0, 140), { title: input.title }, actorOf(ctx.principal), now, { assignee_id: input.assignee_id, due_at: new Date(input.due_at).toISOString() });
  await repo.insertActivity(ctx.db, a);
  return toActivity(a);
}

export async function completeTask(ctx: Ctx, contactId: string, taskId: string, done: boolean): Promise<Activity> {
  const t = await repo.findActivity(ctx.db, ctx.tenantId, contactId, taskId);
  if (!t || t.type !== 'task') throw notFound('Task');
  const done_at = done ? ctx.clock.now().toISOString() : null;
  await repo.updateActivity(ctx.db, ctx.tenantId, taskId, { done_at });
  return toActivity({ ...t, done_at });
}

/** Tasks due and not reminded yet (the reminder job); marks them reminded in the caller's transaction. */
export async function takeDueTasks(db: Executor, now: string, limit = 100) {
  const due = await repo.dueTasks(db, now, limit);
  for (const t of due) await repo.updateActivity(db, t.tenant_id, t.id, { reminded_at: now });
  return due.map((t) => ({ tenantId: t.tenant_id, ...toActivity(t) }));
}

// --- the CRM as an event consumer -----------------------------------------------------------------------------

/** Finds (or makes) the contact of an email; links the customer account when the event names one. */
async function contactFor(db: Executor, tenantId: string, email: string, source: string, at: string, extra: { customer_id?: string | null; first_name?: string; last_name?: string } = {}): Promise<ContactsTable> {
  const e = normaliseEmail(email);
  let c = (extra.customer_id ? await repo.findByCustomer(db, tenantId, extra.customer_id) : undefined) ?? (await repo.findByEmail(db, tenantId, e));
  if (!c) {
    c = { ...baseRow(tenantId, e, source, at), customer_id: extra.customer_id ?? null, first_name: extra.first_name ?? '', last_name: extra.last_name ?? '' };
    await repo.insertContact(db, c);
    return c;
  }
  const patch: Partial<ContactsTable> = {};
  if (extra.customer_id && !c.customer_id) patch.customer_id = extra.customer_id;
  if (extra.first_name && !c.first_name) patch.first_name = extra.first_name;
  if (extra.last_name && !c.last_name) patch.last_name = extra.last_name;
  if (Object.keys(patch).length) {
    await repo.updateContact(db, tenantId, c.id, { ...patch, updated_at: at });
    c = { ...c, ...patch };
  }
  return c;
}

const money = (n: unknown, currency: unknown) => `${(Number(n) / 100).toFixed(2)} ${String(currency ?? '')}`.trim();

async function log(db: Executor, e: OutboxEvent, contactId: string, type: string, summary: string, data: Record<string, unknown>): Promise<boolean> {
  return repo.insertActivity(db, { ...row({ tenantId: e.tenant_id }, contactId, type, summary, data, 'system', e.created_at), event_id: e.id });
}

/**
 * Every person the shop deals with becomes a contact, and what happens to them lands on their timeline: accounts,
 * orders (and their money), refunds, emails sent, chat messages. Idempotent per event: a contact's activity is
 * unique per event, and the order figures move only when the activity was new.
 */
export const crmConsumer: EventConsumer = {
  name: 'crm',
  types: ['customer.created', 'order.created', 'order.paid', 'order.refunded', 'order.partially_refunded', 'order.cancelled', 'order.message_created', 'email.sent'],
  async handle(db, _clock, e) {
    const p = JSON.parse(e.payload) as Record<string, unknown>;
    const at = e.created_at;
    switch (e.type) {
      case 'customer.created': {
        const c = await contactFor(db, e.tenant_id, String(p.email), 'account', at, { customer_id: String(p.customer_id), first_name: String(p.first_name ?? ''), last_name: String(p.last_name ?? '') });
        await log(db, e, c.id, 'account.created', p.has_account ? 'Created an account' : 'Added as a customer', { customer_id: p.customer_id });
        return;
      }
      case 'order.created': {
        if (typeof p.email !== 'string' || !p.email) return;
        const c = await contactFor(db, e.tenant_id, p.email, 'order', at, { customer_id: (p.customer_id as string | null) ?? null });
        if (await log(db, e, c.id, 'order.created', `Placed order #${String(p.number)} (${money(p.total, p.currency)})`, { order_id: p.order_id, number: p.number, total: p.total, currency: p.currency, status: p.status })) {
          await repo.addOrder(db, e.tenant_id, c.id, at, 1, 0);
        }
        return;
      }
      default: {
        const c = await contactOfOrderEvent(db, e, p);
        if (!c) return;
        if (e.type === 'order.paid') {
          if (await log(db, e, c.id, 'order.paid', `Paid order #${String(p.number)} (${money(p.amount_paid, p.currency)})`, { order_id: p.order_id, amount: p.amount_paid, currency: p.currency })) await repo.addOrder(db, e.tenant_id, c.id, at, 0, Number(p.total ?? 0));
        } else if (e.type === 'order.refunded' || e.type === 'order.partially_refunded') {
          if (await log(db, e, c.id, 'order.refunded', `Refunded ${money(p.amount, p.currency)} of order #${String(p.number)}`, { order_id: p.order_id, amount: p.amount, currency: p.currency })) await repo.addOrder(db, e.tenant_id, c.id, at, 0, -Number(p.amount ?? 0));
        } else if (e.type === 'order.cancelled') {
          await log(db, e, c.id, 'order.cancelled', `Order #${String(p.number)} was cancelled`, { order_id: p.order_id, reason: p.reason ?? null });
        } else if (e.type === 'order.message_created' && p.author_type === 'customer') {
          await log(db, e, c.id, 'chat.message', String(p.body ?? '').slice(0, 140), { order_id: p.order_id, message_id: p.message_id, body: p.body });
        } else if (e.type === 'email.sent' && p.template === 'abandoned_cart') {
          await log(db, e, c.id, 'cart.abandoned', 'Reminded of an abandoned cart', { cart_id: p.cart_id ?? null, subject: p.subject, outcome: 'sent' });
        } else if (e.type === 'email.sent') {
          await log(db, e, c.id, 'email.sent', `Email sent: ${String(p.subject ?? p.template)}`, { template: p.template, subject: p.subject, outcome: 'sent', message_id: p.message_id ?? null, order_id: p.order_id ?? null });
        }
      }
    }
  },
};

/** The contact an event is about: by customer, else by the email the event names, else by the order's email. */
async function contactOfOrderEvent(db: Executor, e: OutboxEvent, p: Record<string, unknown>): Promise<ContactsTable | undefined> {
  if (typeof p.customer_id === 'string' && p.customer_id) {
    const c = await repo.findByCustomer(db, e.tenant_id, p.customer_id);
    if (c) return c;
  }
  const email = typeof p.to === 'string' ? p.to : typeof p.email === 'string' ? p.email : typeof p.order_id === 'string' ? await repo.orderEmail(db, e.tenant_id, p.order_id) : null;
  return email ? repo.findByEmail(db, e.tenant_id, normaliseEmail(email)) : undefined;
}
