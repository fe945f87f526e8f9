import type { Executor } from '../../context.ts';
import type { CustomersTable } from '../../db/schema.ts';

export const customersRepository = {
  async insert(db: Executor, row: CustomersTable): Promise<void> {
    await db.insertInto('customers').values(row).execute();
  },
  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('customers').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async findByEmail(db: Executor, tenantId: string, email: string) {
    return db.selectFrom('customers').selectAll().where('tenant_id', '=', tenantId).where('email', '=', email).executeTakeFirst();
  },
  async list(db: Executor, tenantId: string, opts: { limit: number; after?: string | undefined; email?: string | undefined }) {
    let q = db.selectFrom('customers').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(opts.limit + 1);
    if (opts.after) q = q.where('id', '<', opts.after);
    if (opts.email) q = q.where('email', '=', opts.email);
    return q.execute();
  },
  /** Changes the customer and bumps its version; with `expectedVersion`, only if it is still that (false otherwise). */
  async update(db: Executor, tenantId: string, id: string, patch: Partial<Omit<CustomersTable, 'tenant_id' | 'id' | 'created_at' | 'version'>>, expectedVersion: number | null = null): Promise<boolean> {
    let q = db.updateTable('customers').set((eb) => ({ ...patch, version: eb('version', '+', 1) })).where('tenant_id', '=', tenantId).where('id', '=', id);
    if (expectedVersion !== null) q = q.where('version', '=', expectedVersion);
    return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
  },
};
