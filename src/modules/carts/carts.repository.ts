import { sql } from 'kysely';
import type { Executor } from '../../context.ts';
import type { CartsTable } from '../../db/schema.ts';

export const cartsRepository = {
  async insert(db: Executor, row: CartsTable) {
    await db.insertInto('carts').values(row).execute();
  },
  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('carts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async latestOpenOf(db: Executor, tenantId: string, customerId: string) {
    return db.selectFrom('carts').selectAll().where('tenant_id', '=', tenantId).where('customer_id', '=', customerId).where('status', '=', 'open').orderBy('id', 'desc').executeTakeFirst();
  },
  /** Applies a change only to an open cart at the expected version; false otherwise. */
  async update(db: Executor, tenantId: string, id: string, version: number, patch: Partial<CartsTable>): Promise<boolean> {
    const r = await db
      .updateTable('carts')
      .set({ ...patch, version: version + 1 })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('version', '=', version)
      .where('status', '=', 'open')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async lines(db: Executor, tenantId: string, cartId: string) {
    return db.selectFrom('cart_lines').selectAll().where('tenant_id', '=', tenantId).where('cart_id', '=', cartId).orderBy('id').execute();
  },
  async upsertLine(db: Executor, row: { tenant_id: string; id: string; cart_id: string; variant_id: string; quantity: number; created_at: string }, mode: 'add' | 'set') {
    await db
      .insertInto('cart_lines')
      .values(row)
      .onConflict((oc) => oc.columns(['tenant_id', 'cart_id', 'variant_id']).doUpdateSet((eb) => ({ quantity: mode === 'add' ? eb('cart_lines.quantity', '+', row.quantity) : row.quantity })))
      .execute();
  },
  async findLine(db: Executor, tenantId: string, cartId: string, lineId: string) {
    return db.selectFrom('cart_lines').selectAll().where('tenant_id', '=', tenantId).where('cart_id', '=', cartId).where('id', '=', lineId).executeTakeFirst();
  },
  async setLineQuantity(db: Executor, tenantId: string, lineId: string, quantity: number) {
    await db.updateTable('cart_lines').set({ quantity }).where('tenant_id', '=', tenantId).where('id', '=', lineId).execute();
  },
  async deleteLine(db: Executor, tenantId: string, lineId: string) {
    await db.deleteFrom('cart_lines').where('tenant_id', '=', tenantId).where('id', '=', lineId).execute();
  },
  /** Marks an open cart ordered; false if it was not open (already ordered or merged). */
  async markOrdered(db: Executor, tenantId: string, id: string, at: string): Promise<boolean> {
    const r = await db.updateTable('carts').set({ status: 'ordered', updated_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'open').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  /** An ordered cart opens again (its checkout's payment failed). */
  async reopen(db: Executor, tenantId: string, id: string, at: string): Promise<boolean> {
    const r = await db.updateTable('carts').set((eb) => ({ status: 'open', updated_at: at, version: eb('version', '+', 1) })).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'ordered').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  /** Open carts with an email and lines, untouched since `before`, never reminded (no abandoned-cart email). */
  async markReminded(db: Executor, tenantId: string, id: string, at: string): Promise<void> {
    await db.updateTable('carts').set({ reminded_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async abandoned(db: Executor, before: string, limit: number) {
    return db
      .selectFrom('carts as c')
      .select(['c.tenant_id', 'c.id', 'c.email', 'c.updated_at'])
      .where('c.status', '=', 'open')
      .where('c.reminded_at', 'is', null)
      .where('c.email', 'is not', null)
      .where('c.updated_at', '<=', before)
      .where((eb) => eb.exists(eb.selectFrom('cart_lines as l').select('l.id').whereRef('l.tenant_id', '=', 'c.tenant_id').whereRef('l.cart_id', '=', 'c.id')))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('emails as e').select('e.id').whereRef('e.tenant_id', '=', 'c.tenant_id').where('e.key', '=', sql<string>`${sql.lit('abandoned_cart:')} || ${sql.ref('c.id')}`))))
      .limit(limit)
      .execute();
  },
};
