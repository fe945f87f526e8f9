import type { Executor } from '../../context.ts';
import type { JobsTable, JobStatus } from '../../db/schema.ts';
import { dialectOf } from '../../db/database.ts';

/** The job queue's SQL. Jobs of a shop carry its tenant_id; the deployment's own jobs carry ''. */
export const jobsRepository = {
  /** Jobs waiting per type (due now or later) and the oldest due one's time: the queue's depth and age. */
  async queueStats(db: Executor, now: string) {
    return db
      .selectFrom('jobs')
      .select(['type', (eb) => eb.fn.countAll<number | string>().as('queued'), (eb) => eb.fn.min('run_at').as('oldest')])
      .where('status', '=', 'queued')
      .where('run_at', '<=', now)
      .groupBy('type')
      .execute();
  },
  /** Inserts a job; with a dedupe key, an existing job with that key wins and nothing is inserted. */
  async insert(db: Executor, row: JobsTable): Promise<boolean> {
    const r = await db.insertInto('jobs').values(row).onConflict((oc) => oc.columns(['tenant_id', 'dedupe_key']).where('dedupe_key', 'is not', null).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  },

  /**
   * Claims up to `limit` runnable jobs of a queue for a worker: queued and due, or running with an expired lease
   * (its worker died). One statement; on PostgreSQL the candidate rows are locked with FOR UPDATE SKIP LOCKED,
   * so concurrent workers never claim the same job. SQLite has one writer, so the statement alone is enough.
   */
  async claim(db: Executor, queue: string, limit: number, workerId: string, now: string, leaseUntil: string): Promise<JobsTable[]> {
    const runnable = db
      .selectFrom('jobs')
      .where('queue', '=', queue)
      .where((eb) => eb.or([eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]), eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now)])]));
    // A read first: an idle queue costs no write (on embedded SQLite a write waits for the write lock).
    if (!(await runnable.select('id').limit(1).executeTakeFirst())) return [];
    let candidates = runnable
      .select(['tenant_id', 'id'])
      // An ordered job waits while an earlier job with its key is still queued or running.
      .where((eb) =>
        eb.or([
          eb('jobs.ordering_key', 'is', null),
          eb.not(
            eb.exists(
              eb
                .selectFrom('jobs as earlier')
                .select('earlier.id')
                .whereRef('earlier.tenant_id', '=', 'jobs.tenant_id')
                .whereRef('earlier.ordering_key', '=', 'jobs.ordering_key')
                .whereRef('earlier.id', '<', 'jobs.id')
                .where('earlier.status', 'in', ['queued', 'running']),
            ),
          ),
        ]),
      )
      .orderBy('run_at')
      .limit(limit);
    if (dialectOf(db) === 'postgres') candidates = candidates.forUpdate().skipLocked();
    return db
      .updateTable('jobs')
      .set((eb) => ({ status: 'running', locked_by: workerId, lease_until: leaseUntil, attempts: eb('attempts', '+', 1), updated_at: now }))
      .where((eb) => eb(eb.refTuple('tenant_id', 'id'), 'in', candidates.$asTuple('tenant_id', 'id')))
      .returningAll()
      .execute();
  },

  async extendLease(db: Executor, tenantId: string, id: string, workerId: string, leaseUntil: string): Promise<boolean> {
    const r = await db.updateTable('jobs').set({ lease_until: leaseUntil }).where('tenant_id', '=', tenantId).where('id', '=', id).where('locked_by', '=', workerId).where('status', '=', 'running').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  /** Finishes a job this worker still holds; false if its lease was lost (another worker took it over). */
  async finish(db: Executor, tenantId: string, id: string, workerId: string, patch: Partial<JobsTable>): Promise<boolean> {
    const r = await db
      .updateTable('jobs')
      .set({ ...patch, locked_by: null, lease_until: null })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  async setProgress(db: Executor, tenantId: string, id: string, workerId: string, progress: number, at: string): Promise<void> {
    await db.updateTable('jobs').set({ progress, updated_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).where('locked_by', '=', workerId).execute();
  },

  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },

  async list(db: Executor, opts: { tenantId?: string | undefined; status?: JobStatus | undefined; type?: string | undefined; limit: number; before?: string | undefined }) {
    let q = db.selectFrom('jobs').selectAll().orderBy('id', 'desc').limit(opts.limit + 1);
    if (opts.tenantId !== undefined) q = q.where('tenant_id', '=', opts.tenantId);
    if (opts.status) q = q.where('status', '=', opts.status);
    if (opts.type) q = q.where('type', '=', opts.type);
    if (opts.before) q = q.where('id', '<', opts.before);
    return q.execute();
  },

  /** Moves a job from one of `from` to `patch`; false if it was in none of them. */
  async transition(db: Executor, tenantId: string, id: string, from: JobStatus[], patch: Partial<JobsTable>): Promise<boolean> {
    const r = await db.updateTable('jobs').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  /** Records that a schedule slot is taken; false when another node got there first. */
  async claimSlot(db: Executor, row: { tenant_id: string; schedule: string; slot_at: string; job_id: string; claimed_by: string; created_at: string }): Promise<boolean> {
    const r = await db.insertInto('schedule_slots').values(row).onConflict((oc) => oc.columns(['tenant_id', 'schedule', 'slot_at']).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  },
};
