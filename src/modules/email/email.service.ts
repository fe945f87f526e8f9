import { assertOutsideTransaction } from '../../lib/outside.ts';
import { emitEvent, type EventConsumer } from '../events/index.ts';
import { emailRepository as emails } from './email.repository.ts';
import type { Executor } from '../../context.ts';
import type { Db } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId } from '../../lib/ids.ts';
import { enqueue } from '../jobs/index.ts';
import type { Mailer } from './mailer.ts';
import type { Rendered } from './templates.ts';

/**
 * Sends an email at most once per key (a retried job finds it sent). If a worker dies between handing the message
 * to SMTP and recording it, the retry sends it again: at-least-once, the best SMTP allows.
 */
export async function sendOnce(db: Db, clock: Clock, mailer: Mailer, e: { tenantId: string; key: string; template: string; to: string; fromName: string; rendered: Rendered; about?: Record<string, unknown> | undefined }): Promise<'sent' | 'already_sent'> {
  assertOutsideTransaction(db, 'SMTP');
  const now = clock.now().toISOString();
  try {
    await emails.insert(db, { tenant_id: e.tenantId, id: newId('email'), key: e.key, template: e.template, to: e.to, subject: e.rendered.subject, status: 'sending', message_id: null, created_at: now, sent_at: null });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    if ((await emails.statusOf(db, e.tenantId, e.key)) === 'sent') return 'already_sent';
  }
  const info = await mailer.send({ to: e.to, subject: e.rendered.subject, text: e.rendered.text, html: e.rendered.html, fromName: e.fromName, headers: e.rendered.headers });
  // Recorded and announced together (`email.sent`: the CRM's timeline), never the body.
  const at = clock.now().toISOString();
  await db.transaction().execute(async (trx) => {
    await emails.markSent(trx, e.tenantId, e.key, info.messageId, at);
    await emitEvent(trx, e.tenantId, 'email.sent', e.key, { key: e.key, template: e.template, to: e.to, subject: e.rendered.subject, message_id: info.messageId, ...(e.about ?? {}) }, at);
  });
  return 'sent';
}

/** Which events send which emails (enqueued by the outbox pump in its transaction). */
const TEMPLATE_OF: Record<string, string> = {
  'order.created': 'order_confirmation',
  'order.partially_fulfilled': 'shipping_notification',
  'order.fulfilled': 'shipping_notification',
};

export async function emailJobsForEvent(db: Executor, clock: Clock, e: { tenant_id: string; id: string; type: string; payload: string }): Promise<number> {
  const template = TEMPLATE_OF[e.type];
  if (!template) return 0;
  const payload = JSON.parse(e.payload) as Record<string, unknown>;
  // The emails of one order go out in the order of its events (confirmation before shipping notice).
  const orderingKey = typeof payload.order_id === 'string' ? `email:${payload.order_id}` : undefined;
  const id = await enqueue(db, clock, { tenantId: e.tenant_id, queue: 'email', type: 'email.send', payload: { template, event_id: e.id, ...payload }, maxAttempts: 10, dedupeKey: `email:${template}:${e.id}`, orderingKey });
  return id ? 1 : 0;
}

/** Email as an event consumer: the order emails (confirmation, shipping), each once per event. */
export const emailConsumer: EventConsumer = {
  name: 'email',
  types: Object.keys(TEMPLATE_OF),
  async handle(db, clock, e) {
    await emailJobsForEvent(db, clock, e);
  },
};

/** Whether the email with this key went out already. */
export async function emailSent(db: Executor, tenantId: string, key: string): Promise<boolean> {
  return (await emails.statusOf(db, tenantId, key)) === 'sent';
}
