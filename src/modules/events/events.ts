import type { Executor } from '../../context.ts';
import { newId } from '../../lib/ids.ts';
import { currentOrigin } from '../../lib/origin.ts';
import { eventsRepository as repo } from './events.repository.ts';

/**
 * The transactional outbox. A domain event is written with the same executor (transaction) as the change it
 * describes, so it exists if and only if the change committed. Workers publish it later (webhooks, emails,
 * realtime); see docs/events.md for the catalogue.
 */
export type EventType =
  | 'order.created'
  | 'order.paid'
  | 'order.fulfilled'
  | 'order.partially_fulfilled'
  | 'order.completed'
  | 'order.cancelled'
  | 'order.refunded'
  | 'order.partially_refunded'
  | 'payment.failed'
  | 'inventory.low'
  | 'inventory.changed'
  | 'customer.created'
  | 'order.message_created'
  | 'order.messages_read'
  | 'email.sent'
  | 'segment.members_changed'
  | 'crm.task_due'
  | 'import.progress'
  | 'import.completed'
  | 'import.failed';

/** One committed event (the broker bridge publishes it by id). */
export async function findEvent(db: Executor, tenantId: string, id: string) {
  return repo.find(db, tenantId, id);
}

/** The outbox's lag: unpublished events and the age (seconds) of the oldest. */
export async function outboxLag(db: Executor, now: Date): Promise<{ unpublished: number; oldestSeconds: number }> {
  const r = await repo.lag(db);
  return { unpublished: Number(r.n), oldestSeconds: r.oldest ? Math.max(0, (now.getTime() - Date.parse(String(r.oldest))) / 1000) : 0 };
}

/** The events of an order's life, in the order they can happen (feeds, webhooks and the realtime channels list them). */
export const ORDER_EVENT_TYPES = [
  'order.created',
  'order.paid',
  'order.partially_fulfilled',
  'order.fulfilled',
  'order.completed',
  'order.cancelled',
  'order.partially_refunded',
  'order.refunded',
  'payment.failed',
] as const satisfies readonly EventType[];

export async function emitEvent(db: Executor, tenantId: string, type: EventType, aggregateId: string, payload: Record<string, unknown>, at: string, version = 1): Promise<string> {
  const id = newId('event');
  const origin = currentOrigin();
  await repo.insert(db, { tenant_id: tenantId, id, type, version, aggregate_id: aggregateId, payload: JSON.stringify(payload), created_at: at, published_at: null, request_id: origin.requestId, traceparent: origin.traceparent });
  return id;
}
