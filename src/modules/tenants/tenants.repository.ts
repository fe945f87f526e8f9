import type { Executor } from '../../context.ts';
import type { TenantsTable } from '../../db/schema.ts';

/** The tenants table is the root of isolation: the one table looked up without a tenant_id, by id or slug. */
export const tenantsRepository = {
  async insert(db: Executor, row: TenantsTable): Promise<void> {
    await db.insertInto('tenants').values(row).execute();
  },
  async findById(db: Executor, id: string) {
    return db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  },
  async findBySlug(db: Executor, slug: string) {
    return db.selectFrom('tenants').selectAll().where('slug', '=', slug).executeTakeFirst();
  },
  async slugExists(db: Executor, slug: string): Promise<boolean> {
    return (await db.selectFrom('tenants').select('id').where('slug', '=', slug).executeTakeFirst()) !== undefined;
  },
  async count(db: Executor): Promise<number> {
    const r = await db.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  },
  async list(db: Executor, opts: { limit: number; after?: string | undefined; status?: TenantsTable['status'] | undefined }) {
    let q = db.selectFrom('tenants').selectAll().orderBy('id', 'desc').limit(opts.limit + 1);
    if (opts.after) q = q.where('id', '<', opts.after);
    if (opts.status) q = q.where('status', '=', opts.status);
    return q.execute();
  },
  /** Changes the tenant and bumps its version; with `expectedVersion`, only if it is still that (false otherwise). */
  async update(db: Executor, id: string, patch: Partial<Omit<TenantsTable, 'id' | 'created_at' | 'version'>>, expectedVersion: number | null = null): Promise<boolean> {
    let q = db.updateTable('tenants').set((eb) => ({ ...patch, version: eb('version', '+', 1) })).where('id', '=', id);
    if (expectedVersion !== null) q = q.where('version', '=', expectedVersion);
    return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
  },
};
