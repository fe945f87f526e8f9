import type { Executor } from '../../context.ts';
import type { ApiKeysTable } from '../../db/schema.ts';

export const apiKeysRepository = {
  async insert(db: Executor, row: ApiKeysTable): Promise<void> {
    await db.insertInto('api_keys').values(row).execute();
  },
  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async list(db: Executor, tenantId: string, opts: { limit: number; after?: string | undefined; type?: ApiKeysTable['type'] | undefined; includeRevoked: boolean }) {
    let q = db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(opts.limit + 1);
    if (opts.after) q = q.where('id', '<', opts.after);
    if (opts.type) q = q.where('type', '=', opts.type);
    if (!opts.includeRevoked) q = q.where('revoked_at', 'is', null);
    return q.execute();
  },
  async firstActivePublishable(db: Executor, tenantId: string) {
    return db
      .selectFrom('api_keys')
      .select(['id', 'token'])
      .where('tenant_id', '=', tenantId)
      .where('type', '=', 'publishable')
      .where('revoked_at', 'is', null)
      .orderBy('id', 'asc')
      .executeTakeFirst();
  },
  async revoke(db: Executor, tenantId: string, id: string, at: string): Promise<void> {
    await db.updateTable('api_keys').set({ revoked_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).where('revoked_at', 'is', null).execute();
  },
};
