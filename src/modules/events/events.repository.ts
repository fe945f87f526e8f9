import type { Executor } from '../../context.ts';
import { dialectOf, prepared } from '../../db/database.ts';
import type { OutboxEventsTable } from '../../db/schema.ts';

/** The outbox and the per-shop change counters: the only code that touches their tables. */
export const eventsRepository = {
  /** Committed events not handed on yet, and the oldest one's time: the outbox's lag. */
  async lag(db: Executor) {
    return db.selectFrom('outbox_events').select([(eb) => eb.fn.countAll<number | string>().as('n'), (eb) => eb.fn.min('created_at').as('oldest')]).where('published_at', 'is', null).executeTakeFirstOrThrow();
  },
  async insert(db: Executor, row: OutboxEventsTable): Promise<void> {
    await db.insertInto('outbox_events').values(row).execute();
  },
  /** Committed events not yet handed on, oldest first; on PostgreSQL locked so concurrent publishers skip them. */
  async unpublished(db: Executor, limit: number) {
    let q = db.selectFrom('outbox_events').selectAll().where('published_at', 'is', null).orderBy('id').limit(limit);
    if (dialectOf(db) === 'postgres') q = q.forUpdate().skipLocked();
    return q.execute();
  },
  async markPublished(db: Executor, tenantId: string, id: string, at: string): Promise<void> {
    await db.updateTable('outbox_events').set({ published_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('outbox_events').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  /** Published events from a position on (a replay; `after` excludes the position itself), across shops or of one. */
  async publishedFrom(db: Executor, from: string, limit: number, opts: { after: boolean; tenantId?: string | undefined }) {
    const tenantId = opts.tenantId;
    let q = db.selectFrom('outbox_events').selectAll().where('id', opts.after ? '>' : '>=', from).where('published_at', 'is not', null).orderBy('id').limit(limit);
    if (tenantId) q = q.where('tenant_id', '=', tenantId);
    return q.execute();
  },

  async bumpVersion(db: Executor, tenantId: string, topic: string): Promise<void> {
    await db
      .insertInto('change_versions')
      .values({ tenant_id: tenantId, topic, version: 1 })
      .onConflict((oc) => oc.columns(['tenant_id', 'topic']).doUpdateSet((eb) => ({ version: eb('change_versions.version', '+', 1) })))
      .execute();
  },
  /** Read on every cached catalogue answer: compiled once. */
  async currentVersion(db: Executor, tenantId: string, topic: string): Promise<number> {
    const [r] = await versionOf(db, tenantId, topic);
    return r ? Number(r.version) : 0;
  },
};

const versionOf = prepared((db: Executor, tenantId: string, topic: string) => db.selectFrom('change_versions').select('version').where('tenant_id', '=', tenantId).where('topic', '=', topic));

