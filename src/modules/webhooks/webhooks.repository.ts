import type { Executor } from '../../context.ts';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../../db/schema.ts';

export const webhooksRepository = {
  async insertEndpoint(db: Executor, row: WebhookEndpointsTable) {
    await db.insertInto('webhook_endpoints').values(row).execute();
  },
  async findEndpoint(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  /** A page, newest first. */
  async pageEndpoints(db: Executor, tenantId: string, limit: number, after?: string) {
    let q = db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(limit + 1);
    if (after) q = q.where('id', '<', after);
    return q.execute();
  },
  async listEndpoints(db: Executor, tenantId: string) {
    return db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').execute();
  },
  async enabledEndpoints(db: Executor, tenantId: string) {
    return db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).where('status', '=', 'enabled').execute();
  },
  async updateEndpoint(db: Executor, tenantId: string, id: string, patch: Partial<WebhookEndpointsTable>) {
    await db.updateTable('webhook_endpoints').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async deleteEndpoint(db: Executor, tenantId: string, id: string) {
    await db.deleteFrom('webhook_endpoints').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  async insertDelivery(db: Executor, row: WebhookDeliveriesTable): Promise<boolean> {
    const r = await db.insertInto('webhook_deliveries').values(row).onConflict((oc) => oc.columns(['tenant_id', 'endpoint_id', 'event_id']).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  },
  async findDelivery(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async listDeliveries(db: Executor, tenantId: string, endpointId: string, limit: number, before?: string) {
    let q = db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', tenantId).where('endpoint_id', '=', endpointId).orderBy('id', 'desc').limit(limit + 1);
    if (before) q = q.where('id', '<', before);
    return q.execute();
  },
  async updateDelivery(db: Executor, tenantId: string, id: string, patch: Partial<WebhookDeliveriesTable>) {
    await db.updateTable('webhook_deliveries').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async insertAttempt(db: Executor, row: WebhookAttemptsTable) {
    await db.insertInto('webhook_attempts').values(row).execute();
  },
  async attemptsOf(db: Executor, tenantId: string, deliveryIds: readonly string[]) {
    if (deliveryIds.length === 0) return [];
    return db.selectFrom('webhook_attempts').selectAll().where('tenant_id', '=', tenantId).where('delivery_id', 'in', deliveryIds).orderBy('id').execute();
  },
};
