import type { Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.

/**
 * An order's refunds and fulfilments are read with every order (its detail, its confirmation email); without an
 * index on the order they were found by scanning the shop's (payments had one from the start).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('refunds_order_idx').on('refunds').columns(['tenant_id', 'order_id']).execute();
  await db.schema.createIndex('fulfillments_order_idx').on('fulfillments').columns(['tenant_id', 'order_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('fulfillments_order_idx').execute();
  await db.schema.dropIndex('refunds_order_idx').execute();
}
