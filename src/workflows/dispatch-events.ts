import type { Db } from '../db/database.ts';
import { withSavepoint } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import { wants, type EventConsumer, type OutboxEvent, eventsRepository as events } from '../modules/events/index.ts';
import { enqueue } from '../modules/jobs/index.ts';
import { withOrigin } from '../lib/origin.ts';

/**
 * The outbox publisher: takes committed, unpublished events in order, hands each to every registered consumer
 * that takes its type (each turns it into work of its own: webhook deliveries, emails …) and marks it published —
 * all in one transaction, so an event is handed on exactly once even if the process dies between two batches. A
 * consumer that fails runs in a savepoint rolled back on its own and gets an `event.consume` job to try again, so
 * it never holds the others up. On PostgreSQL concurrent publishers skip each other's rows (SKIP LOCKED).
 */
export async function dispatchEvents(
  db: Db,
  clock: Clock,
  consumers: readonly EventConsumer[],
  log?: Logger,
  limit = 100,
  /** Runs once the batch committed, outside any transaction (the realtime relay tells the nodes at once). */
  onCommitted?: (batch: readonly OutboxEvent[]) => Promise<void> | void,
): Promise<number> {
  const batch = await db.transaction().execute(async (trx) => {
    const batch = await events.unpublished(trx, limit);
    for (const e of batch) {
      for (const c of consumers) {
        if (!wants(c, e.type)) continue;
        try {
          await withSavepoint(trx, `consumer_${c.name}`, () => withOrigin(e, () => c.handle(trx, clock, e)));
        } catch (err) {
          log?.warn({ err, consumer: c.name, event_id: e.id }, 'event consumer failed; retried as a job');
          await enqueue(trx, clock, { tenantId: e.tenant_id, queue: 'default', type: 'event.consume', payload: { consumer: c.name, event_id: e.id }, dedupeKey: `consume:${c.name}:${e.id}` });
        }
      }
      await events.markPublished(trx, e.tenant_id, e.id, clock.now().toISOString());
    }
    return batch;
  });
  if (onCommitted && batch.length > 0) {
    try {
      await onCommitted(batch);
    } catch (err) {
      // Only a shortcut is lost: what committed is in the history, and nodes notice the gap by themselves.
      log?.warn({ err }, 'after-commit hook of the outbox publisher failed');
    }
  }
  return batch.length;
}

/** The `event.consume` job: one consumer, one event, in a transaction of its own (a failed hand-on, or a replay). */
export async function consumeOne(db: Db, clock: Clock, consumers: readonly EventConsumer[], tenantId: string, payload: { consumer: string; event_id: string }): Promise<{ consumed: boolean }> {
  const c = consumers.find((x) => x.name === payload.consumer);
  if (!c) throw new Error(`no event consumer named ${payload.consumer}`);
  return db.transaction().execute(async (trx) => {
    const e = await events.find(trx, tenantId, payload.event_id);
    if (!e) return { consumed: false };
    await withOrigin(e, () => c.handle(trx, clock, e));
    return { consumed: true };
  });
}

/**
 * Hands published events from a position on to one consumer again — a consumer added later catching up, or one
 * that was broken. Consumers are idempotent per event, so what they already did is not done twice.
 */
export async function replayEvents(db: Db, clock: Clock, consumer: EventConsumer, from: string, opts: { tenantId?: string | undefined; batch?: number } = {}): Promise<number> {
  const size = opts.batch ?? 200;
  let n = 0;
  let position = from;
  for (let after = false; ; after = true) {
    const page: OutboxEvent[] = await events.publishedFrom(db, position, size, { after, tenantId: opts.tenantId });
    if (page.length === 0) return n;
    await db.transaction().execute(async (trx) => {
      for (const e of page) if (wants(consumer, e.type)) await withOrigin(e, () => consumer.handle(trx, clock, e));
    });
    n += page.length;
    position = (page.at(-1) as OutboxEvent).id;
    if (page.length < size) return n;
  }
}
