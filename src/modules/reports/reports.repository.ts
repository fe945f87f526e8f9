import type { Executor } from '../../context.ts';

/**
 * The reports' read model: aggregate reads over orders, refunds, lines, variants and stock of one shop, the stored
 * daily figures and export files. Reports are the one module that reads other modules' tables, read-only (as a
 * reporting replica would), so these queries live together here.
 */
export const reportsRepository = {
  async ordersBetween(db: Executor, tenantId: string, start: string, end: string) {
    return db
      .selectFrom('orders as o')
      .leftJoin('carts as c', (j) => j.onRef('c.tenant_id', '=', 'o.tenant_id').onRef('c.id', '=', 'o.cart_id'))
      .select(['o.created_at', 'o.total', 'o.tax_total', 'o.discount_total', 'c.reminded_at'])
      .where('o.tenant_id', '=', tenantId)
      .where('o.created_at', '>=', start)
      .where('o.created_at', '<', end)
      .where('o.status', '!=', 'cancelled')
      .execute();
  },
  /** Refunds the provider confirmed, of orders that were not cancelled. */
  async refundsBetween(db: Executor, tenantId: string, start: string, end: string) {
    return db
      .selectFrom('refunds as r')
      .innerJoin('orders as o', (j) => j.onRef('o.tenant_id', '=', 'r.tenant_id').onRef('o.id', '=', 'r.order_id'))
      .select(['r.created_at', 'r.amount'])
      .where('r.tenant_id', '=', tenantId)
      .where('o.status', '!=', 'cancelled')
      .where('r.status', '=', 'succeeded')
      .where('r.created_at', '>=', start)
      .where('r.created_at', '<', end)
      .execute();
  },
  async topProducts(db: Executor, tenantId: string, start: string, end: string, limit: number) {
    return db
      .selectFrom('order_lines as l')
      .innerJoin('orders as o', (j) => j.onRef('o.tenant_id', '=', 'l.tenant_id').onRef('o.id', '=', 'l.order_id'))
      .select((eb) => ['l.product_id', 'l.variant_id', 'l.sku', 'l.title', eb.fn.sum<number>('l.quantity').as('quantity'), eb.fn.sum<number>('l.total').as('revenue'), eb.fn.count<number>('l.order_id').distinct().as('orders')])
      .where('l.tenant_id', '=', tenantId)
      .where('o.status', '!=', 'cancelled')
      .where('o.created_at', '>=', start)
      .where('o.created_at', '<', end)
      .groupBy(['l.product_id', 'l.variant_id', 'l.sku', 'l.title'])
      .orderBy('revenue', 'desc')
      .orderBy('l.variant_id')
      .limit(limit)
      .execute();
  },
  /** Variants at or below their threshold, fewest first, after the keyset position (available, sku). */
  async lowStock(db: Executor, tenantId: string, limit: number, after: { available: number; sku: string } | null) {
    let q = db
      .selectFrom('variants as v')
      .innerJoin('products as p', (j) => j.onRef('p.tenant_id', '=', 'v.tenant_id').onRef('p.id', '=', 'v.product_id'))
      .leftJoin('stock_levels as s', (j) => j.onRef('s.tenant_id', '=', 'v.tenant_id').onRef('s.variant_id', '=', 'v.id'))
      .select((eb) => ['v.id', 'v.sku', 'v.title', 'p.title as product_title', 'p.status', 'v.low_stock_threshold', eb.fn.coalesce(eb.fn.sum<number>('s.available'), eb.val(0)).as('available')])
      .where('v.tenant_id', '=', tenantId)
      .where('p.status', '!=', 'archived')
      .groupBy(['v.id', 'v.sku', 'v.title', 'p.title', 'p.status', 'v.low_stock_threshold'])
      .having((eb) => eb(eb.fn.coalesce(eb.fn.sum<number>('s.available'), eb.val(0)), '<=', eb.ref('v.low_stock_threshold')));
    if (after) {
      q = q.having((eb) => {
        const avail = eb.fn.coalesce(eb.fn.sum<number>('s.available'), eb.val(0));
        return eb.or([eb(avail, '>', after.available), eb.and([eb(avail, '=', after.available), eb('v.sku', '>', after.sku)])]);
      });
    }
    return q.orderBy('available').orderBy('v.sku').limit(limit).execute();
  },
  async activeShops(db: Executor) {
    return db.selectFrom('tenants').select(['id', 'currency', 'timezone']).where('status', '=', 'active').execute();
  },
  async shopForExport(db: Executor, tenantId: string) {
    return db.selectFrom('tenants').select(['currency', 'timezone', 'slug']).where('id', '=', tenantId).executeTakeFirstOrThrow();
  },
  async storeDaily(db: Executor, tenantId: string, date: string, data: string, at: string): Promise<boolean> {
    const r = await db
      .insertInto('daily_reports')
      .values({ tenant_id: tenantId, date, data, computed_at: at })
      .onConflict((oc) => oc.columns(['tenant_id', 'date']).doUpdateSet({ data, computed_at: at }))
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },
  async daily(db: Executor, tenantId: string, from: string, to: string) {
    return db.selectFrom('daily_reports').selectAll().where('tenant_id', '=', tenantId).where('date', '>=', from).where('date', '<=', to).orderBy('date').execute();
  },

  // --- exports: keyset batches and the stored file
  async countOrders(db: Executor, tenantId: string, range: { start: string; end: string } | null): Promise<number> {
    let q = db.selectFrom('orders').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId);
    if (range) q = q.where('created_at', '>=', range.start).where('created_at', '<', range.end);
    return Number((await q.executeTakeFirstOrThrow()).n);
  },
  async ordersBatch(db: Executor, tenantId: string, range: { start: string; end: string } | null, after: string, limit: number) {
    let q = db.selectFrom('orders').selectAll().where('tenant_id', '=', tenantId).where('id', '>', after);
    if (range) q = q.where('created_at', '>=', range.start).where('created_at', '<', range.end);
    return q.orderBy('id').limit(limit).execute();
  },
  async countCustomers(db: Executor, tenantId: string): Promise<number> {
    return Number((await db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
  },
  async customersBatch(db: Executor, tenantId: string, after: string, limit: number) {
    return db.selectFrom('customers').selectAll().where('tenant_id', '=', tenantId).where('id', '>', after).orderBy('id').limit(limit).execute();
  },
  async countVariants(db: Executor, tenantId: string): Promise<number> {
    return Number((await db.selectFrom('variants').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
  },
  async variantsBatch(db: Executor, tenantId: string, after: string, limit: number) {
    return db
      .selectFrom('variants as v')
      .innerJoin('products as pr', (j) => j.onRef('pr.tenant_id', '=', 'v.tenant_id').onRef('pr.id', '=', 'v.product_id'))
      .select(['v.id', 'v.sku', 'v.title', 'v.price', 'v.compare_at_price', 'v.weight_grams', 'pr.id as product_id', 'pr.handle', 'pr.title as product_title', 'pr.status'])
      .where('v.tenant_id', '=', tenantId)
      .where('v.id', '>', after)
      .orderBy('v.id')
      .limit(limit)
      .execute();
  },
  async storeExport(db: Executor, row: { tenant_id: string; job_id: string; kind: string; filename: string; content: string; rows: number; created_at: string }): Promise<void> {
    await db
      .insertInto('export_files')
      .values(row)
      .onConflict((oc) => oc.columns(['tenant_id', 'job_id']).doUpdateSet({ content: row.content, rows: row.rows, filename: row.filename, created_at: row.created_at }))
      .execute();
  },
  async clearChunks(db: Executor, tenantId: string, jobId: string): Promise<void> {
    await db.deleteFrom('export_chunks').where('tenant_id', '=', tenantId).where('job_id', '=', jobId).execute();
  },
  async insertChunk(db: Executor, row: { tenant_id: string; job_id: string; seq: number; content: string }): Promise<void> {
    await db.insertInto('export_chunks').values(row).execute();
  },
  async chunksAfter(db: Executor, tenantId: string, jobId: string, after: number, limit: number) {
    return db.selectFrom('export_chunks').select(['seq', 'content']).where('tenant_id', '=', tenantId).where('job_id', '=', jobId).where('seq', '>', after).orderBy('seq').limit(limit).execute();
  },
  async exportFile(db: Executor, tenantId: string, jobId: string) {
    return db.selectFrom('export_files').selectAll().where('tenant_id', '=', tenantId).where('job_id', '=', jobId).executeTakeFirst();
  },
};
