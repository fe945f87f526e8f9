import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import { dialectOf } from '../database.ts';

// Frozen in time: never edit a migration that has shipped; add a new one.

function sqlIn(column: string, values: string[]): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const ts = pg ? 'timestamptz' : 'text';
  const money = pg ? 'bigint' : 'integer';

  await db.schema.alterTable('tenants').addColumn('tax_mode', 'text', (c) => c.notNull().defaultTo('exclusive').check(sqlIn('tax_mode', ['exclusive', 'inclusive']))).execute();

  // --- catalogue -------------------------------------------------------------------------------
  await db.schema
    .createTable('categories')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('handle', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('categories_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('categories_handle_uq', ['tenant_id', 'handle'])
    .addForeignKeyConstraint('categories_parent_fk', ['tenant_id', 'parent_id'], 'categories', ['tenant_id', 'id'])
    .execute();

  await db.schema
    .createTable('products')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('handle', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sqlIn('status', ['draft', 'active', 'archived'])))
    .addColumn('category_id', 'text')
    .addColumn('images', 'text', (c) => c.notNull())
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('skus', 'text', (c) => c.notNull())
    .addColumn('min_price', money, (c) => c.notNull())
    .addColumn('max_price', money, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('products_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('products_handle_uq', ['tenant_id', 'handle'])
    .addForeignKeyConstraint('products_category_fk', ['tenant_id', 'category_id'], 'categories', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('products_status_idx').on('products').columns(['tenant_id', 'status', 'id']).execute();
  await db.schema.createIndex('products_category_idx').on('products').columns(['tenant_id', 'category_id']).execute();

  await db.schema
    .createTable('variants')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('sku', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('price', money, (c) => c.notNull().check(sql`price >= 0`))
    .addColumn('compare_at_price', money)
    .addColumn('weight_grams', 'integer', (c) => c.notNull().check(sql`weight_grams >= 0`))
    .addColumn('option_values', 'text', (c) => c.notNull())
    .addColumn('low_stock_threshold', 'integer', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('variants_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('variants_sku_uq', ['tenant_id', 'sku'])
    .addForeignKeyConstraint('variants_product_fk', ['tenant_id', 'product_id'], 'products', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('variants_product_idx').on('variants').columns(['tenant_id', 'product_id']).execute();

  await db.schema
    .createTable('collections')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('handle', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('collections_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('collections_handle_uq', ['tenant_id', 'handle'])
    .execute();
  await db.schema
    .createTable('collection_products')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('collection_id', 'text', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('collection_products_pk', ['tenant_id', 'collection_id', 'product_id'])
    .addForeignKeyConstraint('collection_products_collection_fk', ['tenant_id', 'collection_id'], 'collections', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('collection_products_product_fk', ['tenant_id', 'product_id'], 'products', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  // Full-text search: FTS5 on SQLite, a tsvector column with a GIN index on PostgreSQL.
  if (pg) {
    await sql`alter table products add column search tsvector generated always as (to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || coalesce(handle, '') || ' ' || coalesce(skus, ''))) stored`.execute(db);
    await sql`create index products_search_idx on products using gin (search)`.execute(db);
  } else {
    await sql`create virtual table products_fts using fts5(tenant_id unindexed, product_id unindexed, title, description, skus, tokenize = 'unicode61 remove_diacritics 2')`.execute(db);
  }

  // --- inventory -------------------------------------------------------------------------------
  await db.schema
    .createTable('locations')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('locations_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('locations_name_uq', ['tenant_id', 'name'])
    .execute();
  await sql`create unique index locations_one_default on locations (tenant_id) where is_default = 1`.execute(db);

  await db.schema
    .createTable('stock_levels')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('variant_id', 'text', (c) => c.notNull())
    .addColumn('location_id', 'text', (c) => c.notNull())
    .addColumn('available', 'integer', (c) => c.notNull().check(sql`available >= 0`))
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('stock_levels_pk', ['tenant_id', 'variant_id', 'location_id'])
    .addForeignKeyConstraint('stock_levels_variant_fk', ['tenant_id', 'variant_id'], 'variants', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('stock_levels_location_fk', ['tenant_id', 'location_id'], 'locations', ['tenant_id', 'id'])
    .execute();

  await db.schema
    .createTable('inventory_ledger')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('variant_id', 'text', (c) => c.notNull())
    .addColumn('location_id', 'text', (c) => c.notNull())
    .addColumn('delta', 'integer', (c) => c.notNull())
    .addColumn('balance_after', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull().check(sqlIn('reason', ['sale', 'return', 'adjustment', 'count', 'release'])))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('reference', 'text')
    .addColumn('note', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('inventory_ledger_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('inventory_ledger_variant_idx').on('inventory_ledger').columns(['tenant_id', 'variant_id', 'id']).execute();

  await db.schema
    .createTable('reservations')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sqlIn('status', ['held', 'converted', 'released'])))
    .addColumn('expires_at', ts, (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('reservations_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('reservations_order_uq', ['tenant_id', 'order_id'])
    .execute();
  await db.schema.createIndex('reservations_expiry_idx').on('reservations').columns(['status', 'expires_at']).execute();

  // --- pricing ---------------------------------------------------------------------------------
  await db.schema
    .createTable('tax_rates')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('rate_bp', 'integer', (c) => c.notNull().check(sql`rate_bp >= 0 and rate_bp <= 10000`))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('tax_rates_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('tax_rates_place_uq', ['tenant_id', 'country', 'region'])
    .execute();

  await db.schema
    .createTable('shipping_methods')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('rate_type', 'text', (c) => c.notNull().check(sqlIn('rate_type', ['flat', 'weight'])))
    .addColumn('amount', money, (c) => c.notNull().check(sql`amount >= 0`))
    .addColumn('weight_tiers', 'text', (c) => c.notNull())
    .addColumn('free_over', money)
    .addColumn('countries', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sqlIn('status', ['active', 'inactive'])))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('shipping_methods_pk', ['tenant_id', 'id'])
    .execute();

  await db.schema
    .createTable('discounts')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sqlIn('kind', ['percentage', 'fixed_amount', 'free_shipping'])))
    .addColumn('value', money, (c) => c.notNull().check(sql`value >= 0`))
    .addColumn('min_subtotal', money, (c) => c.notNull())
    .addColumn('starts_at', ts)
    .addColumn('ends_at', ts)
    .addColumn('usage_limit', 'integer')
    .addColumn('per_customer_limit', 'integer')
    .addColumn('times_used', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sqlIn('status', ['active', 'disabled'])))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('discounts_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('discounts_code_uq', ['tenant_id', 'code'])
    .addCheckConstraint('discounts_usage_ck', sql`usage_limit is null or times_used <= usage_limit`)
    .execute();
  await db.schema
    .createTable('discount_usages')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('discount_id', 'text', (c) => c.notNull())
    .addColumn('customer_key', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('discount_usages_pk', ['tenant_id', 'discount_id', 'customer_key'])
    .addForeignKeyConstraint('discount_usages_discount_fk', ['tenant_id', 'discount_id'], 'discounts', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  // --- carts -----------------------------------------------------------------------------------
  await db.schema
    .createTable('carts')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull().check(sqlIn('status', ['open', 'ordered', 'merged'])))
    .addColumn('email', 'text')
    .addColumn('discount_code', 'text')
    .addColumn('shipping_method_id', 'text')
    .addColumn('shipping_address', 'text')
    .addColumn('billing_address', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('carts_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('carts_customer_fk', ['tenant_id', 'customer_id'], 'customers', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('carts_customer_idx').on('carts').columns(['tenant_id', 'customer_id', 'status']).execute();
  await db.schema
    .createTable('cart_lines')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('cart_id', 'text', (c) => c.notNull())
    .addColumn('variant_id', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull().check(sql`quantity > 0`))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('cart_lines_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('cart_lines_variant_uq', ['tenant_id', 'cart_id', 'variant_id'])
    .addForeignKeyConstraint('cart_lines_cart_fk', ['tenant_id', 'cart_id'], 'carts', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('cart_lines_variant_fk', ['tenant_id', 'variant_id'], 'variants', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  // --- orders and payments ---------------------------------------------------------------------
  await db.schema
    .createTable('order_counters')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('last_number', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('orders')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sqlIn('status', ['pending_payment', 'paid', 'partially_fulfilled', 'fulfilled', 'completed', 'cancelled', 'partially_refunded', 'refunded'])),
    )
    .addColumn('customer_id', 'text')
    .addColumn('email', 'text')
    .addColumn('cart_id', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('tax_mode', 'text', (c) => c.notNull())
    .addColumn('subtotal', money, (c) => c.notNull())
    .addColumn('discount_total', money, (c) => c.notNull())
    .addColumn('shipping_total', money, (c) => c.notNull())
    .addColumn('tax_total', money, (c) => c.notNull())
    .addColumn('total', money, (c) => c.notNull().check(sql`total >= 0`))
    .addColumn('amount_paid', money, (c) => c.notNull())
    .addColumn('amount_refunded', money, (c) => c.notNull())
    .addColumn('discount_id', 'text')
    .addColumn('discount_code', 'text')
    .addColumn('shipping_method_id', 'text')
    .addColumn('shipping_method_name', 'text')
    .addColumn('shipping_address', 'text')
    .addColumn('billing_address', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('orders_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('orders_number_uq', ['tenant_id', 'number'])
    .addUniqueConstraint('orders_cart_uq', ['tenant_id', 'cart_id'])
    .addCheckConstraint('orders_refund_ck', sql`amount_refunded <= amount_paid`)
    .execute();
  await db.schema.createIndex('orders_customer_idx').on('orders').columns(['tenant_id', 'customer_id', 'id']).execute();

  await db.schema
    .createTable('order_lines')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('variant_id', 'text', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull())
    .addColumn('sku', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull().check(sql`quantity > 0`))
    .addColumn('unit_price', money, (c) => c.notNull())
    .addColumn('subtotal', money, (c) => c.notNull())
    .addColumn('discount', money, (c) => c.notNull())
    .addColumn('tax', money, (c) => c.notNull())
    .addColumn('total', money, (c) => c.notNull())
    .addColumn('fulfilled_quantity', 'integer', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('order_lines_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('order_lines_order_fk', ['tenant_id', 'order_id'], 'orders', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addCheckConstraint('order_lines_fulfilled_ck', sql`fulfilled_quantity >= 0 and fulfilled_quantity <= quantity`)
    .execute();
  await db.schema.createIndex('order_lines_order_idx').on('order_lines').columns(['tenant_id', 'order_id']).execute();

  await db.schema
    .createTable('order_events')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('order_events_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('order_events_order_fk', ['tenant_id', 'order_id'], 'orders', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('order_events_order_idx').on('order_events').columns(['tenant_id', 'order_id', 'id']).execute();

  await db.schema
    .createTable('fulfillments')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('carrier', 'text', (c) => c.notNull())
    .addColumn('tracking_number', 'text', (c) => c.notNull())
    .addColumn('lines', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('fulfillments_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('fulfillments_order_fk', ['tenant_id', 'order_id'], 'orders', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('payments')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull().check(sqlIn('provider', ['manual', 'test', 'stripe'])))
    .addColumn('status', 'text', (c) => c.notNull().check(sqlIn('status', ['pending', 'requires_action', 'authorized', 'captured', 'failed', 'cancelled'])))
    .addColumn('amount', money, (c) => c.notNull())
    .addColumn('amount_captured', money, (c) => c.notNull())
    .addColumn('amount_refunded', money, (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('provider_ref', 'text')
    .addColumn('client_secret', 'text')
    .addColumn('failure_reason', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('payments_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('payments_order_fk', ['tenant_id', 'order_id'], 'orders', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .addCheckConstraint('payments_refund_ck', sql`amount_refunded <= amount_captured and amount_captured <= amount`)
    .execute();
  await db.schema.createIndex('payments_order_idx').on('payments').columns(['tenant_id', 'order_id']).execute();
  await db.schema.createIndex('payments_provider_ref_idx').on('payments').columns(['provider', 'provider_ref']).execute();

  await db.schema
    .createTable('refunds')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('payment_id', 'text', (c) => c.notNull())
    .addColumn('amount', money, (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('provider_ref', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('refunds_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('refunds_payment_fk', ['tenant_id', 'payment_id'], 'payments', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await sql`create unique index refunds_provider_ref_uq on refunds (tenant_id, provider_ref) where provider_ref is not null`.execute(db);

  // Provider webhooks already applied (idempotency on the provider's event id).
  await db.schema
    .createTable('processed_webhooks')
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('processed_webhooks_pk', ['provider', 'event_id'])
    .execute();

  // The transactional outbox: written in the same transaction as the change it describes.
  await db.schema
    .createTable('outbox_events')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('aggregate_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('published_at', ts)
    .addPrimaryKeyConstraint('outbox_events_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('outbox_events_unpublished_idx').on('outbox_events').columns(['published_at', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  for (const t of [
    'outbox_events',
    'processed_webhooks',
    'refunds',
    'payments',
    'fulfillments',
    'order_events',
    'order_lines',
    'orders',
    'order_counters',
    'cart_lines',
    'carts',
    'discount_usages',
    'discounts',
    'shipping_methods',
    'tax_rates',
    'reservations',
    'inventory_ledger',
    'stock_levels',
    'locations',
    'collection_products',
    'collections',
    'variants',
    'products',
    'categories',
  ]) {
    await db.schema.dropTable(t).execute();
  }
  if (!pg) await sql`drop table products_fts`.execute(db);
  await db.schema.alterTable('tenants').dropColumn('tax_mode').execute();
}
