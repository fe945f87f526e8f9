import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.ts';

// Frozen in time: never edit a migration that has shipped; add a new one.

/**
 * Realtime (docs/realtime.md):
 *  - realtime_channels / realtime_messages: the history of each durable channel, written by the realtime event
 *    consumer in the outbox publisher's transaction (nothing that rolled back is ever announced). A channel's
 *    position counts up by one per message; its epoch names this history (a client holding another epoch refetches);
 *  - conversations / order_messages: the chat of an order between its customer and the shop, with read positions
 *    and unread counts for both sides;
 *  - dashboard_days / dashboard_products / dashboard_minutes: the live dashboard's figures, kept up to date event
 *    by event (never a report query per client).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const ts = pg ? 'timestamptz' : 'text';
  const money = pg ? 'bigint' : 'integer';

  await db.schema
    .createTable('realtime_channels')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('epoch', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('realtime_channels_pk', ['tenant_id', 'channel'])
    .addForeignKeyConstraint('realtime_channels_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('realtime_messages')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('realtime_messages_pk', ['tenant_id', 'channel', 'position'])
    .addForeignKeyConstraint('realtime_messages_channel_fk', ['tenant_id', 'channel'], 'realtime_channels', ['tenant_id', 'channel'], (fk) => fk.onDelete('cascade'))
    .execute();
  // One event lands in a channel once (a replayed event is skipped), and the relay finds an event's messages.
  await db.schema.createIndex('realtime_messages_event_uq').on('realtime_messages').columns(['tenant_id', 'event_id', 'channel']).unique().execute();
  await db.schema.createIndex('realtime_messages_created_idx').on('realtime_messages').column('created_at').execute();

  await db.schema
    .createTable('conversations')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text')
    .addColumn('message_count', 'integer', (c) => c.notNull())
    .addColumn('last_message_id', 'text', (c) => c.notNull())
    .addColumn('last_message_at', ts, (c) => c.notNull())
    .addColumn('last_author', 'text', (c) => c.notNull().check(sql`last_author in ('customer', 'staff')`))
    .addColumn('staff_read_id', 'text')
    .addColumn('customer_read_id', 'text')
    .addColumn('unread_for_staff', 'integer', (c) => c.notNull())
    .addColumn('unread_for_customer', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('conversations_pk', ['tenant_id', 'order_id'])
    .addForeignKeyConstraint('conversations_order_fk', ['tenant_id', 'order_id'], 'orders', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('conversations_recent_idx').on('conversations').columns(['tenant_id', 'last_message_id']).execute();

  await db.schema
    .createTable('order_messages')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('author_type', 'text', (c) => c.notNull().check(sql`author_type in ('customer', 'staff')`))
    .addColumn('author_id', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('order_messages_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('order_messages_conversation_fk', ['tenant_id', 'order_id'], 'conversations', ['tenant_id', 'order_id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('order_messages_order_idx').on('order_messages').columns(['tenant_id', 'order_id', 'id']).execute();

  await db.schema
    .createTable('dashboard_days')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('orders', 'integer', (c) => c.notNull())
    .addColumn('gross_sales', money, (c) => c.notNull())
    .addColumn('refunds', money, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('dashboard_days_pk', ['tenant_id', 'day'])
    .addForeignKeyConstraint('dashboard_days_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema
    .createTable('dashboard_products')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('revenue', money, (c) => c.notNull())
    .addPrimaryKeyConstraint('dashboard_products_pk', ['tenant_id', 'day', 'product_id'])
    .addForeignKeyConstraint('dashboard_products_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('dashboard_products_top_idx').on('dashboard_products').columns(['tenant_id', 'day', 'quantity']).execute();
  await db.schema
    .createTable('dashboard_minutes')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('minute', 'text', (c) => c.notNull())
    .addColumn('orders', 'integer', (c) => c.notNull())
    .addColumn('sales', money, (c) => c.notNull())
    .addPrimaryKeyConstraint('dashboard_minutes_pk', ['tenant_id', 'minute'])
    .addForeignKeyConstraint('dashboard_minutes_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['dashboard_minutes', 'dashboard_products', 'dashboard_days', 'order_messages', 'conversations', 'realtime_messages', 'realtime_channels']) await db.schema.dropTable(t).execute();
}
