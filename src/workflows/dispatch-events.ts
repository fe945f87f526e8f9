import type { Db } from '../db/database.ts';
import { dialectOf } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import { emailJobsForEvent } from '../modules/email/email.service.ts';
import { fanOutEvent } from '../modules/webhooks/webhooks.service.ts';

/**
 * The outbox publisher: takes committed, unpublished events in order, turns each into the work it causes
 * (a webhook delivery job per subscribed endpoint, an email job where the event sends one) and marks it published — all in one transaction, so an event
 * is handed on exactly once even if the process dies between two batches (the next run picks up where this one
 * stopped). On PostgreSQL concurrent publishers skip each other's rows (FOR UPDATE SKIP LOCKED).
 */
export async function dispatchEvents(db: Db, clock: Clock, limit = 100): Promise<number> {
  return db.transaction().execute(async (trx) => {
    let q = trx.selectFrom('outbox_events').selectAll().where('published_at', 'is', null).orderBy('id').limit(limit);
    if (dialectOf(trx) === 'postgres') q = q.forUpdate().skipLocked();
    const events = await q.execute();
    for (const e of events) {
      await fanOutEvent(trx, clock, e);
      await emailJobsForEvent(trx, clock, e);
      await trx.updateTable('outbox_events').set({ published_at: clock.now().toISOString() }).where('tenant_id', '=', e.tenant_id).where('id', '=', e.id).execute();
    }
    return events.length;
  });
}
