import type { Executor } from '../../context.ts';
import { dialectOf } from '../../db/database.ts';
import type { RolesTable, UsersTable } from '../../db/schema.ts';

/** Staff users and roles. Every method takes tenant_id first and puts it in every WHERE. */
export const staffRepository = {
  // roles
  async insertRole(db: Executor, row: RolesTable): Promise<void> {
    await db.insertInto('roles').values(row).execute();
  },
  async findRole(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async findSystemRole(db: Executor, tenantId: string, key: string) {
    return db.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).where('system_key', '=', key).executeTakeFirst();
  },
  async pageRoles(db: Executor, tenantId: string, limit: number, after?: string) {
    let q = db.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'asc').limit(limit + 1);
    if (after) q = q.where('id', '>', after);
    return q.execute();
  },
  async listRoles(db: Executor, tenantId: string) {
    return db.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'asc').execute();
  },
  async updateRole(db: Executor, tenantId: string, id: string, patch: Partial<Pick<RolesTable, 'name' | 'description' | 'permissions' | 'updated_at'>>) {
    await db.updateTable('roles').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async deleteRole(db: Executor, tenantId: string, id: string) {
    await db.deleteFrom('roles').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async countUsersWithRole(db: Executor, tenantId: string, roleId: string): Promise<number> {
    const r = await db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('role_id', '=', roleId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  },

  // users
  async insertUser(db: Executor, row: UsersTable): Promise<void> {
    await db.insertInto('users').values(row).execute();
  },
  async findUser(db: Executor, tenantId: string, id: string) {
    return db
      .selectFrom('users as u')
      .innerJoin('roles as r', (j) => j.onRef('r.tenant_id', '=', 'u.tenant_id').onRef('r.id', '=', 'u.role_id'))
      .selectAll('u')
      .select(['r.system_key as role_key', 'r.name as role_name'])
      .where('u.tenant_id', '=', tenantId)
      .where('u.id', '=', id)
      .executeTakeFirst();
  },
  async findUserByEmail(db: Executor, tenantId: string, email: string) {
    return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('email', '=', email).executeTakeFirst();
  },
  async listUsers(db: Executor, tenantId: string, opts: { limit: number; after?: string | undefined }) {
    let q = db
      .selectFrom('users as u')
      .innerJoin('roles as r', (j) => j.onRef('r.tenant_id', '=', 'u.tenant_id').onRef('r.id', '=', 'u.role_id'))
      .selectAll('u')
      .select(['r.system_key as role_key', 'r.name as role_name'])
      .where('u.tenant_id', '=', tenantId)
      .orderBy('u.id', 'desc')
      .limit(opts.limit + 1);
    if (opts.after) q = q.where('u.id', '<', opts.after);
    return q.execute();
  },
  /** Optimistic update: false when the version moved on (someone else edited it). */
  async updateUser(db: Executor, tenantId: string, id: string, version: number, patch: Partial<Omit<UsersTable, 'tenant_id' | 'id' | 'version'>>): Promise<boolean> {
    const r = await db
      .updateTable('users')
      .set({ ...patch, version: version + 1 })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('version', '=', version)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async touchLogin(db: Executor, tenantId: string, id: string, at: string): Promise<void> {
    await db.updateTable('users').set({ last_login_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async deleteUser(db: Executor, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('users').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  /**
   * Serialises changes to a shop's owners: on PostgreSQL the tenant row is locked for the transaction, so two
   * concurrent removals of different owners cannot both see "another owner remains" (SQLite has one writer).
   */
  async lockOwners(db: Executor, tenantId: string): Promise<void> {
    if (dialectOf(db) === 'postgres') await db.selectFrom('tenants').select('id').where('id', '=', tenantId).forUpdate().execute();
  },
  async countActiveOwners(db: Executor, tenantId: string): Promise<number> {
    const r = await db
      .selectFrom('users as u')
      .innerJoin('roles as r', (j) => j.onRef('r.tenant_id', '=', 'u.tenant_id').onRef('r.id', '=', 'u.role_id'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('u.tenant_id', '=', tenantId)
      .where('r.system_key', '=', 'owner')
      .where('u.status', '=', 'active')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  },
};
