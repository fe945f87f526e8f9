import type { Executor } from '../../context.ts';
import type { MarketingConnectionsTable, MarketingSyncRunsTable } from '../../db/schema.ts';

/** Marketing connections and sync runs. Every query is scoped by tenant_id. */
export const marketingRepository = {
  async insertConnection(db: Executor, row: MarketingConnectionsTable): Promise<void> {
    await db.insertInto('marketing_connections').values(row).execute();
  },
  async findConnection(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('marketing_connections').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async listConnections(db: Executor, tenantId: string) {
    return db.selectFrom('marketing_connections').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
  },
  async deleteConnection(db: Executor, tenantId: string, id: string): Promise<boolean> {
    return Number((await db.deleteFrom('marketing_connections').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()).numDeletedRows) === 1;
  },
  async touchUnsubscribeSync(db: Executor, tenantId: string, id: string, at: string): Promise<void> {
    await db.updateTable('marketing_connections').set({ last_unsubscribe_sync_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async insertRun(db: Executor, row: MarketingSyncRunsTable): Promise<void> {
    await db.insertInto('marketing_sync_runs').values(row).execute();
  },
  async findRun(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('marketing_sync_runs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async updateRun(db: Executor, tenantId: string, id: string, patch: Partial<MarketingSyncRunsTable>): Promise<void> {
    await db.updateTable('marketing_sync_runs').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async runsOf(db: Executor, tenantId: string, connectionId: string, limit: number) {
    return db.selectFrom('marketing_sync_runs').selectAll().where('tenant_id', '=', tenantId).where('connection_id', '=', connectionId).orderBy('id', 'desc').limit(limit).execute();
  },
  async contactsByIds(db: Executor, tenantId: string, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).where('consent', '=', 'subscribed').where('erased_at', 'is', null).execute();
  },
  async unsubscribeEmails(db: Executor, tenantId: string, emails: readonly string[], source: string, at: string): Promise<number> {
    if (emails.length === 0) return 0;
    const r = await db.updateTable('contacts').set({ consent: 'unsubscribed', consent_source: source, consent_at: at, updated_at: at }).where('tenant_id', '=', tenantId).where('email', 'in', emails).where('consent', '!=', 'unsubscribed').executeTakeFirst();
    return Number(r.numUpdatedRows);
  },
};
