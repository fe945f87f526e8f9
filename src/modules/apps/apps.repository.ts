import type { Executor } from '../../context.ts';
import type { AppsTable } from '../../db/schema.ts';

/** The apps behind a shop's gateway. Every query is scoped by tenant_id. */
export const appsRepository = {
  async insert(db: Executor, row: AppsTable): Promise<void> {
    await db.insertInto('apps').values(row).execute();
  },
  async list(db: Executor, tenantId: string) {
    return db.selectFrom('apps').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
  },
  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('apps').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async byHandle(db: Executor, tenantId: string, handle: string) {
    return db.selectFrom('apps').selectAll().where('tenant_id', '=', tenantId).where('handle', '=', handle).executeTakeFirst();
  },
  async update(db: Executor, tenantId: string, id: string, patch: Partial<AppsTable>): Promise<void> {
    await db.updateTable('apps').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async delete(db: Executor, tenantId: string, id: string): Promise<boolean> {
    return Number((await db.deleteFrom('apps').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()).numDeletedRows) === 1;
  },
};
