import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.ts';

// Frozen in time: never edit a migration that has shipped; add a new one.

/**
 * Outside calls in phases (docs/architecture.md, "Outside calls"):
 *  - payment_actions: the intent of every call to a payment provider, written before the call in the same
 *    transaction as the business change, settled after it (or by the reconciliation job after a crash);
 *  - refunds.status: a refund is `pending` until the provider has answered;
 *  - idempotency_keys: a recovery point (how far the request got, committed with the business write) and a
 *    lock naming the process that works on the request, so a retry after a crash resumes instead of repeating;
 *  - nodes: the processes alive right now (heartbeats), to tell a dead request's lock from a live one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const ts = pg ? 'timestamptz' : 'text';

  await db.schema
    .createTable('payment_actions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('checkout', 'capture', 'cancel', 'refund', 'void')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'succeeded', 'failed')`))
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', ts, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('payment_actions_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('payment_actions_order_fk', ['tenant_id', 'order_id'], 'orders', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  // At most one action in flight per order: two staff refunding at once cannot both reserve the same money.
  await sql`create unique index payment_actions_one_pending_uq on payment_actions (tenant_id, order_id) where status = 'pending'`.execute(db);
  await db.schema.createIndex('payment_actions_order_idx').on('payment_actions').columns(['tenant_id', 'order_id', 'id']).execute();
  await sql`create index payment_actions_due_idx on payment_actions (next_attempt_at) where status = 'pending'`.execute(db);

  await db.schema
    .alterTable('refunds')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('succeeded').check(sql`status in ('pending', 'succeeded', 'failed')`))
    .execute();

  for (const [name, type] of [
    ['recovery_point', 'text'],
    ['resource_id', 'text'],
    ['locked_by', 'text'],
    ['locked_until', ts],
  ] as const) {
    await db.schema.alterTable('idempotency_keys').addColumn(name, type).execute();
  }

  // The shop and customers carry a version, for ETag / If-Match like every other resource staff edit.
  await db.schema.alterTable('tenants').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('customers').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();

  // Jobs that must run one after another (the emails of one order): a later one waits for the earlier ones.
  await db.schema.alterTable('jobs').addColumn('ordering_key', 'text').execute();
  await sql`create index jobs_ordering_idx on jobs (tenant_id, ordering_key, id) where ordering_key is not null`.execute(db);

  // A shop's schedule runs with its creator's rights (issue 9): who made it, and why it was paused.
  await db.schema.alterTable('shop_schedules').addColumn('created_by', 'text').execute();
  await db.schema.alterTable('shop_schedules').addColumn('paused_reason', 'text').execute();

  // CSV exports in chunks (a batch of rows each): written as the export runs, streamed on download, never one
  // string of the whole file in memory.
  await db.schema
    .createTable('export_chunks')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('export_chunks_pk', ['tenant_id', 'job_id', 'seq'])
    .addForeignKeyConstraint('export_chunks_file_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('nodes')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('started_at', ts, (c) => c.notNull())
    .addColumn('heartbeat_at', ts, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('nodes').execute();
  await db.schema.dropTable('export_chunks').execute();
  await db.schema.alterTable('customers').dropColumn('version').execute();
  await db.schema.alterTable('tenants').dropColumn('version').execute();
  await db.schema.alterTable('shop_schedules').dropColumn('paused_reason').execute();
  await db.schema.alterTable('shop_schedules').dropColumn('created_by').execute();
  await db.schema.dropIndex('jobs_ordering_idx').execute();
  await db.schema.alterTable('jobs').dropColumn('ordering_key').execute();
  for (const name of ['locked_until', 'locked_by', 'resource_id', 'recovery_point']) await db.schema.alterTable('idempotency_keys').dropColumn(name).execute();
  await db.schema.alterTable('refunds').dropColumn('status').execute();
  await db.schema.dropTable('payment_actions').execute();
}
