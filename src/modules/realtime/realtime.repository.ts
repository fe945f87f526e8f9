import { sql } from 'kysely';
import type { Executor } from '../../context.ts';
import type { RealtimeMessagesTable } from '../../db/schema.ts';
import { randomSecret } from '../../lib/crypto.ts';

export type StoredMessage = RealtimeMessagesTable;

/** Channel histories and the live dashboard's figures. Every query is scoped by tenant_id. */
export const realtimeRepository = {
  /**
   * The next position of a channel, taken under the channel row's lock: messages of one channel commit in the
   * order of their positions. Creates the channel (with a new epoch) on its first message.
   */
  async nextPosition(db: Executor, tenantId: string, channel: string, at: string): Promise<{ position: number; epoch: string }> {
    const row = await db
      .insertInto('realtime_channels')
      .values({ tenant_id: tenantId, channel, epoch: randomSecret(6), position: 1, updated_at: at })
      .onConflict((oc) => oc.columns(['tenant_id', 'channel']).doUpdateSet({ position: sql`realtime_channels.position + 1`, updated_at: at }))
      .returning(['position', 'epoch'])
      .executeTakeFirstOrThrow();
    return { position: Number(row.position), epoch: row.epoch };
  },
  async insertMessage(db: Executor, row: StoredMessage): Promise<void> {
    await db.insertInto('realtime_messages').values(row).execute();
  },
  /** Whether an event was already turned into messages (a replay is skipped). */
  async consumed(db: Executor, tenantId: string, eventId: string): Promise<boolean> {
    return (await db.selectFrom('realtime_messages').select('position').where('tenant_id', '=', tenantId).where('event_id', '=', eventId).limit(1).executeTakeFirst()) !== undefined;
  },
  /** The messages some events became, with their channel's epoch (for the relay after the publisher commits). */
  async messagesOfEvents(db: Executor, events: readonly { tenant_id: string; id: string }[]) {
    if (events.length === 0) return [];
    const byTenant = new Map<string, string[]>();
    for (const e of events) byTenant.set(e.tenant_id, [...(byTenant.get(e.tenant_id) ?? []), e.id]);
    const out = [];
    for (const [tenantId, ids] of byTenant) {
      out.push(
        ...(await db
          .selectFrom('realtime_messages as m')
          .innerJoin('realtime_channels as c', (j) => j.onRef('c.tenant_id', '=', 'm.tenant_id').onRef('c.channel', '=', 'm.channel'))
          .select(['m.tenant_id', 'm.channel', 'm.position', 'm.type', 'm.data', 'm.created_at', 'c.epoch'])
          .where('m.tenant_id', '=', tenantId)
          .where('m.event_id', 'in', ids)
          .orderBy('m.channel')
          .orderBy('m.position')
          .execute()),
      );
    }
    return out;
  },
  async channel(db: Executor, tenantId: string, channel: string) {
    return db.selectFrom('realtime_channels').select(['epoch', 'position']).where('tenant_id', '=', tenantId).where('channel', '=', channel).executeTakeFirst();
  },
  /** The heads of several channels of one shop (a node checking it missed nothing). */
  async heads(db: Executor, tenantId: string, channels: readonly string[]) {
    if (channels.length === 0) return [];
    return db.selectFrom('realtime_channels').select(['channel', 'epoch', 'position']).where('tenant_id', '=', tenantId).where('channel', 'in', channels).execute();
  },
  /** Messages after a position, in order. */
  async after(db: Executor, tenantId: string, channel: string, position: number, limit: number) {
    return db
      .selectFrom('realtime_messages')
      .select(['position', 'type', 'data', 'created_at'])
      .where('tenant_id', '=', tenantId)
      .where('channel', '=', channel)
      .where('position', '>', position)
      .orderBy('position')
      .limit(limit)
      .execute();
  },
  /** Drops history older than a time; the channel rows (epoch, position) stay. */
  async prune(db: Executor, before: string): Promise<number> {
    const r = await db.deleteFrom('realtime_messages').where('created_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  },

  // --- the live dashboard -------------------------------------------------------------------------------------
  async addOrderToDay(db: Executor, tenantId: string, day: string, currency: string, total: number, at: string): Promise<void> {
    await db
      .insertInto('dashboard_days')
      .values({ tenant_id: tenantId, day, currency, orders: 1, gross_sales: total, refunds: 0, updated_at: at })
      .onConflict((oc) => oc.columns(['tenant_id', 'day']).doUpdateSet({ orders: sql`dashboard_days.orders + 1`, gross_sales: sql`dashboard_days.gross_sales + ${total}`, updated_at: at }))
      .execute();
  },
  async addRefundToDay(db: Executor, tenantId: string, day: string, currency: string, amount: number, at: string): Promise<void> {
    await db
      .insertInto('dashboard_days')
      .values({ tenant_id: tenantId, day, currency, orders: 0, gross_sales: 0, refunds: amount, updated_at: at })
      .onConflict((oc) => oc.columns(['tenant_id', 'day']).doUpdateSet({ refunds: sql`dashboard_days.refunds + ${amount}`, updated_at: at }))
      .execute();
  },
  async addProductSale(db: Executor, tenantId: string, day: string, productId: string, title: string, quantity: number, revenue: number): Promise<void> {
    await db
      .insertInto('dashboard_products')
      .values({ tenant_id: tenantId, day, product_id: productId, title, quantity, revenue })
      .onConflict((oc) => oc.columns(['tenant_id', 'day', 'product_id']).doUpdateSet({ quantity: sql`dashboard_products.quantity + ${quantity}`, revenue: sql`dashboard_products.revenue + ${revenue}` }))
      .execute();
  },
  async addOrderToMinute(db: Executor, tenantId: string, minute: string, total: number): Promise<void> {
    await db
      .insertInto('dashboard_minutes')
      .values({ tenant_id: tenantId, minute, orders: 1, sales: total })
      .onConflict((oc) => oc.columns(['tenant_id', 'minute']).doUpdateSet({ orders: sql`dashboard_minutes.orders + 1`, sales: sql`dashboard_minutes.sales + ${total}` }))
      .execute();
  },
  async day(db: Executor, tenantId: string, day: string) {
    return db.selectFrom('dashboard_days').selectAll().where('tenant_id', '=', tenantId).where('day', '=', day).executeTakeFirst();
  },
  async topProducts(db: Executor, tenantId: string, day: string, limit: number) {
    return db.selectFrom('dashboard_products').select(['product_id', 'title', 'quantity', 'revenue']).where('tenant_id', '=', tenantId).where('day', '=', day).orderBy('quantity', 'desc').orderBy('product_id').limit(limit).execute();
  },
  async minutesSince(db: Executor, tenantId: string, fromMinute: string) {
    return db.selectFrom('dashboard_minutes').select(['minute', 'orders', 'sales']).where('tenant_id', '=', tenantId).where('minute', '>=', fromMinute).orderBy('minute').execute();
  },
  async pruneMinutes(db: Executor, beforeMinute: string): Promise<number> {
    const r = await db.deleteFrom('dashboard_minutes').where('minute', '<', beforeMinute).executeTakeFirst();
    return Number(r.numDeletedRows);
  },
  /** Variants at or under their low-stock threshold (summed over locations), fewest first. */
  async lowStock(db: Executor, tenantId: string, limit: number) {
    return db
      .selectFrom('variants as v')
      .innerJoin('stock_levels as s', (j) => j.onRef('s.tenant_id', '=', 'v.tenant_id').onRef('s.variant_id', '=', 'v.id'))
      .select(['v.id as variant_id', 'v.product_id', 'v.sku', (eb) => eb.fn.sum<number | string>('s.available').as('available'), 'v.low_stock_threshold'])
      .where('v.tenant_id', '=', tenantId)
      .groupBy(['v.id', 'v.product_id', 'v.sku', 'v.low_stock_threshold'])
      .having((eb) => eb(eb.fn.sum('s.available'), '<=', eb.ref('v.low_stock_threshold')))
      .orderBy((eb) => eb.fn.sum('s.available'))
      .orderBy('v.id')
      .limit(limit)
      .execute();
  },
  /** Variants with their product and stock summed over locations — some variants, or every variant of some products. */
  async stockByVariant(db: Executor, tenantId: string, which: { variantIds: readonly string[] } | { productIds: readonly string[] }) {
    const ids = 'variantIds' in which ? which.variantIds : which.productIds;
    if (ids.length === 0) return [];
    return db
      .selectFrom('variants as v')
      .leftJoin('stock_levels as s', (j) => j.onRef('s.tenant_id', '=', 'v.tenant_id').onRef('s.variant_id', '=', 'v.id'))
      .select(['v.id as variant_id', 'v.product_id', (eb) => eb.fn.coalesce(eb.fn.sum<number | string>('s.available'), eb.lit(0)).as('available')])
      .where('v.tenant_id', '=', tenantId)
      .where('variantIds' in which ? 'v.id' : 'v.product_id', 'in', ids)
      .groupBy(['v.id', 'v.product_id'])
      .orderBy('v.id')
      .execute();
  },
  /** An order's lines with their product's title (the dashboard's top products). */
  async orderLinesForDashboard(db: Executor, tenantId: string, orderId: string) {
    return db
      .selectFrom('order_lines as l')
      .leftJoin('products as p', (j) => j.onRef('p.tenant_id', '=', 'l.tenant_id').onRef('p.id', '=', 'l.product_id'))
      .select(['l.product_id', 'l.title as line_title', 'p.title as product_title', 'l.quantity', 'l.total'])
      .where('l.tenant_id', '=', tenantId)
      .where('l.order_id', '=', orderId)
      .execute();
  },
  async orderCustomer(db: Executor, tenantId: string, orderId: string) {
    return db.selectFrom('orders').select(['customer_id', 'created_at']).where('tenant_id', '=', tenantId).where('id', '=', orderId).executeTakeFirst();
  },
  async shopOf(db: Executor, tenantId: string) {
    return db.selectFrom('tenants').select(['timezone', 'currency']).where('id', '=', tenantId).executeTakeFirst();
  },
};
