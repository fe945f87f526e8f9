import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.ts';

// Frozen in time: never edit a migration that has shipped; add a new one.

/**
 * The CRM (docs/crm.md): contacts (one per email per shop, linked to the customer account when there is one),
 * the shop's own contact fields, the timeline of each contact, scores (RFM and lead score, with history and their
 * explanation), score rules, segments (saved filters, with their members for enter/leave events) and an audit of
 * merges, exports and erasures.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const ts = pg ? 'timestamptz' : 'text';
  const money = pg ? 'bigint' : 'integer';

  await db.schema
    .createTable('contacts')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('phone', 'text')
    .addColumn('country', 'text')
    .addColumn('customer_id', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull().check(sql`stage in ('lead', 'customer', 'repeat', 'lapsed')`))
    .addColumn('stage_override', 'text', (c) => c.check(sql`stage_override is null or stage_override in ('lead', 'customer', 'repeat', 'lapsed')`))
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('custom', 'text', (c) => c.notNull())
    .addColumn('consent', 'text', (c) => c.notNull().check(sql`consent in ('none', 'pending', 'subscribed', 'unsubscribed')`))
    .addColumn('consent_source', 'text')
    .addColumn('consent_at', ts)
    .addColumn('order_count', 'integer', (c) => c.notNull())
    .addColumn('total_spent', money, (c) => c.notNull())
    .addColumn('first_order_at', ts)
    .addColumn('last_order_at', ts)
    .addColumn('erased_at', ts)
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('contacts_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('contacts_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('contacts_email_uq').on('contacts').columns(['tenant_id', 'email']).unique().execute();
  await db.schema.createIndex('contacts_customer_idx').on('contacts').columns(['tenant_id', 'customer_id']).execute();

  await db.schema
    .createTable('contact_fields')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('text', 'number', 'date', 'boolean', 'choice')`))
    .addColumn('choices', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('contact_fields_pk', ['tenant_id', 'key'])
    .addForeignKeyConstraint('contact_fields_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('contact_activities')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text')
    .addColumn('assignee_id', 'text')
    .addColumn('due_at', ts)
    .addColumn('done_at', ts)
    .addColumn('reminded_at', ts)
    .addColumn('occurred_at', ts, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('contact_activities_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('contact_activities_contact_fk', ['tenant_id', 'contact_id'], 'contacts', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('contact_activities_contact_idx').on('contact_activities').columns(['tenant_id', 'contact_id', 'id']).execute();
  // An event is logged on a contact's timeline once (a replayed event is skipped).
  await sql`create unique index contact_activities_event_uq on contact_activities (tenant_id, contact_id, event_id) where event_id is not null`.execute(db);
  await sql`create index contact_activities_due_idx on contact_activities (due_at) where type = 'task' and done_at is null and reminded_at is null`.execute(db);

  await db.schema
    .createTable('contact_scores')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('recency_days', 'integer')
    .addColumn('frequency', 'integer', (c) => c.notNull())
    .addColumn('monetary', money, (c) => c.notNull())
    .addColumn('r', 'integer', (c) => c.notNull())
    .addColumn('f', 'integer', (c) => c.notNull())
    .addColumn('m', 'integer', (c) => c.notNull())
    .addColumn('rfm', 'text', (c) => c.notNull())
    .addColumn('lead_score', 'integer', (c) => c.notNull())
    .addColumn('explanation', 'text', (c) => c.notNull())
    .addColumn('computed_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('contact_scores_pk', ['tenant_id', 'contact_id'])
    .addForeignKeyConstraint('contact_scores_contact_fk', ['tenant_id', 'contact_id'], 'contacts', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema
    .createTable('contact_score_history')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('computed_at', ts, (c) => c.notNull())
    .addColumn('rfm', 'text', (c) => c.notNull())
    .addColumn('lead_score', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('contact_score_history_pk', ['tenant_id', 'contact_id', 'computed_at'])
    .addForeignKeyConstraint('contact_score_history_contact_fk', ['tenant_id', 'contact_id'], 'contacts', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('score_rules')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('activity', 'attribute')`))
    .addColumn('activity_type', 'text')
    .addColumn('attribute', 'text')
    .addColumn('value', 'text')
    .addColumn('points', 'integer', (c) => c.notNull())
    .addColumn('half_life_days', 'integer')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('score_rules_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('score_rules_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('segments')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('filter', 'text', (c) => c.notNull())
    .addColumn('member_count', 'integer', (c) => c.notNull())
    .addColumn('evaluated_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('segments_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('segments_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('segments_name_uq').on('segments').columns(['tenant_id', 'name']).unique().execute();
  await db.schema
    .createTable('segment_members')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('segment_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('since', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('segment_members_pk', ['tenant_id', 'segment_id', 'contact_id'])
    .addForeignKeyConstraint('segment_members_segment_fk', ['tenant_id', 'segment_id'], 'segments', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('segment_members_contact_fk', ['tenant_id', 'contact_id'], 'contacts', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('contact_audit')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('merge', 'export', 'erase')`))
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('contact_audit_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('contact_audit_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('contact_audit_contact_idx').on('contact_audit').columns(['tenant_id', 'contact_id', 'id']).execute();

  // Abandoned-cart recovery: the shop's idle time before one reminder (0: never), where the link back goes, and
  // which carts were reminded (an order from one is recovered revenue).
  await db.schema.alterTable('tenants').addColumn('cart_reminder_hours', 'integer', (c) => c.notNull().defaultTo(24)).execute();
  await db.schema.alterTable('tenants').addColumn('storefront_url', 'text').execute();
  await db.schema.alterTable('carts').addColumn('reminded_at', ts).execute();

  // Marketing sync: where a shop sends its consented contacts, and a report per run.
  await db.schema
    .createTable('marketing_connections')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('mailchimp', 'webhook')`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('last_unsubscribe_sync_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('marketing_connections_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('marketing_connections_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema
    .createTable('marketing_sync_runs')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('segment_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('queued', 'running', 'succeeded', 'failed')`))
    .addColumn('report', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('finished_at', ts)
    .addPrimaryKeyConstraint('marketing_sync_runs_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('marketing_sync_runs_connection_fk', ['tenant_id', 'connection_id'], 'marketing_connections', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('carts').dropColumn('reminded_at').execute();
  await db.schema.alterTable('tenants').dropColumn('storefront_url').execute();
  await db.schema.alterTable('tenants').dropColumn('cart_reminder_hours').execute();
  for (const t of ['marketing_sync_runs', 'marketing_connections', 'contact_audit', 'segment_members', 'segments', 'score_rules', 'contact_score_history', 'contact_scores', 'contact_activities', 'contact_fields', 'contacts']) await db.schema.dropTable(t).execute();
}
