import type { Executor } from '../../context.ts';
import type { ShopSchedulesTable } from '../../db/schema.ts';

/** Shops' own schedules. */
export const schedulesRepository = {
  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('shop_schedules').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  /** All of a shop's schedules (a shop has at most MAX_SCHEDULES). */
  async list(db: Executor, tenantId: string, limit: number, after?: string) {
    let q = db.selectFrom('shop_schedules').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(limit + 1);
    if (after) q = q.where('id', '>', after);
    return q.execute();
  },
  async count(db: Executor, tenantId: string): Promise<number> {
    const r = await db.selectFrom('shop_schedules').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    return Number(r.n);
  },
  async insert(db: Executor, row: ShopSchedulesTable): Promise<void> {
    await db.insertInto('shop_schedules').values(row).execute();
  },
  async update(db: Executor, tenantId: string, id: string, patch: Partial<ShopSchedulesTable>): Promise<void> {
    await db.updateTable('shop_schedules').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async delete(db: Executor, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('shop_schedules').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  /** Every active schedule of every active shop. */
  async activeOfActiveShops(db: Executor) {
    return db.selectFrom('shop_schedules as s').innerJoin('tenants as t', 't.id', 's.tenant_id').selectAll('s').where('s.status', '=', 'active').where('t.status', '=', 'active').execute();
  },
  async pause(db: Executor, tenantId: string, id: string, reason: string, at: string): Promise<void> {
    await db.updateTable('shop_schedules').set({ status: 'paused', paused_reason: reason, updated_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'active').execute();
  },
};
