import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.ts';

// Frozen in time: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<unknown>): Promise<void> {
  const ts = dialectOf(db) === 'postgres' ? 'timestamptz' : 'text';
  // Every email we send, once per key (e.g. order_confirmation:ord_…): a retried job does not send it twice.
  await db.schema
    .createTable('emails')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('to', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('sending', 'sent')`))
    .addColumn('message_id', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('sent_at', ts)
    .addPrimaryKeyConstraint('emails_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('emails_key_uq', ['tenant_id', 'key'])
    .execute();
  await db.schema
    .createTable('password_resets')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull().check(sql`subject_type in ('user', 'customer')`))
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .addColumn('used_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('password_resets_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('password_resets_hash_uq', ['tenant_id', 'token_hash'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('password_resets').execute();
  await db.schema.dropTable('emails').execute();
}
