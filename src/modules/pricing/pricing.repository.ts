import type { Executor } from '../../context.ts';
import type { DiscountsTable, ShippingMethodsTable, TaxRatesTable } from '../../db/schema.ts';

/** Tax rates, shipping methods and discount codes. Every query is scoped by tenant_id. */
export const pricingRepository = {
  async insertTaxRate(db: Executor, row: TaxRatesTable) {
    await db.insertInto('tax_rates').values(row).execute();
  },
  async listTaxRates(db: Executor, tenantId: string) {
    return db.selectFrom('tax_rates').selectAll().where('tenant_id', '=', tenantId).orderBy('country').orderBy('region').execute();
  },
  async countTaxRates(db: Executor, tenantId: string): Promise<number> {
    const r = await db.selectFrom('tax_rates').select((eb) => eb.fn.countAll<number | string>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    return Number(r.n);
  },
  /** A page in creation order (oldest first). */
  async pageTaxRates(db: Executor, tenantId: string, limit: number, after?: string) {
    let q = db.selectFrom('tax_rates').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(limit + 1);
    if (after) q = q.where('id', '>', after);
    return q.execute();
  },
  async findTaxRate(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('tax_rates').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  /** The region's own rate if there is one, else the country's. */
  async rateFor(db: Executor, tenantId: string, country: string, region: string) {
    const rows = await db.selectFrom('tax_rates').selectAll().where('tenant_id', '=', tenantId).where('country', '=', country).where('region', 'in', region ? [region, ''] : ['']).execute();
    return rows.find((r) => r.region === region) ?? rows.find((r) => r.region === '');
  },
  async updateTaxRate(db: Executor, tenantId: string, id: string, patch: Partial<TaxRatesTable>) {
    await db.updateTable('tax_rates').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async deleteTaxRate(db: Executor, tenantId: string, id: string) {
    await db.deleteFrom('tax_rates').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  async insertShippingMethod(db: Executor, row: ShippingMethodsTable) {
    await db.insertInto('shipping_methods').values(row).execute();
  },
  async pageShippingMethods(db: Executor, tenantId: string, limit: number, after?: string) {
    let q = db.selectFrom('shipping_methods').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(limit + 1);
    if (after) q = q.where('id', '>', after);
    return q.execute();
  },
  async listShippingMethods(db: Executor, tenantId: string, activeOnly: boolean) {
    let q = db.selectFrom('shipping_methods').selectAll().where('tenant_id', '=', tenantId).orderBy('id');
    if (activeOnly) q = q.where('status', '=', 'active');
    return q.execute();
  },
  async findShippingMethod(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('shipping_methods').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async updateShippingMethod(db: Executor, tenantId: string, id: string, patch: Partial<ShippingMethodsTable>) {
    await db.updateTable('shipping_methods').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  async insertDiscount(db: Executor, row: DiscountsTable) {
    await db.insertInto('discounts').values(row).execute();
  },
  async listDiscounts(db: Executor, tenantId: string, limit: number, after?: string) {
    let q = db.selectFrom('discounts').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(limit + 1);
    if (after) q = q.where('id', '<', after);
    return q.execute();
  },
  async findDiscount(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('discounts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async findDiscountByCode(db: Executor, tenantId: string, code: string) {
    return db.selectFrom('discounts').selectAll().where('tenant_id', '=', tenantId).where('code', '=', code).executeTakeFirst();
  },
  async updateDiscount(db: Executor, tenantId: string, id: string, version: number, patch: Partial<DiscountsTable>): Promise<boolean> {
    const r = await db.updateTable('discounts').set({ ...patch, version: version + 1 }).where('tenant_id', '=', tenantId).where('id', '=', id).where('version', '=', version).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async customerUses(db: Executor, tenantId: string, discountId: string, customerKey: string): Promise<number> {
    const r = await db.selectFrom('discount_usages').select('count').where('tenant_id', '=', tenantId).where('discount_id', '=', discountId).where('customer_key', '=', customerKey).executeTakeFirst();
    return r ? Number(r.count) : 0;
  },

  /** Counts one use, only while under the total limit: one conditional statement, safe under concurrency. */
  async countUse(db: Executor, tenantId: string, discountId: string): Promise<boolean> {
    const r = await db
      .updateTable('discounts')
      .set((eb) => ({ times_used: eb('times_used', '+', 1) }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', discountId)
      .where('status', '=', 'active')
      .where((eb) => eb.or([eb('usage_limit', 'is', null), eb('times_used', '<', eb.ref('usage_limit'))]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  /** Counts one use by a customer, only while under the per-customer limit (an upsert with a condition). */
  async countCustomerUse(db: Executor, tenantId: string, discountId: string, customerKey: string, limit: number): Promise<boolean> {
    const r = await db
      .insertInto('discount_usages')
      .values({ tenant_id: tenantId, discount_id: discountId, customer_key: customerKey, count: 1 })
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'discount_id', 'customer_key'])
          .doUpdateSet((eb) => ({ count: eb('discount_usages.count', '+', 1) }))
          .where('discount_usages.count', '<', limit),
      )
      .returning('count')
      .executeTakeFirst();
    return r !== undefined;
  },
  /** Gives a use back (a checkout whose payment failed). */
  async uncountUse(db: Executor, tenantId: string, discountId: string, customerKey: string): Promise<void> {
    await db.updateTable('discounts').set((eb) => ({ times_used: eb('times_used', '-', 1) })).where('tenant_id', '=', tenantId).where('id', '=', discountId).where('times_used', '>', 0).execute();
    await db
      .updateTable('discount_usages')
      .set((eb) => ({ count: eb('count', '-', 1) }))
      .where('tenant_id', '=', tenantId)
      .where('discount_id', '=', discountId)
      .where('customer_key', '=', customerKey)
      .where('count', '>', 0)
      .execute();
  },
};
