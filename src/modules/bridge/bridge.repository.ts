import type { Executor } from '../../context.ts';

/** Commands taken from the broker, one row each (the sender's id): a command delivered twice is applied once. */
export const bridgeRepository = {
  async claim(db: Executor, row: { tenant_id: string; id: string; type: string; outcome: string; received_at: string }): Promise<boolean> {
    const r = await db.insertInto('broker_commands').values(row).onConflict((oc) => oc.columns(['tenant_id', 'id']).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  },
  async setOutcome(db: Executor, tenantId: string, id: string, outcome: string): Promise<void> {
    await db.updateTable('broker_commands').set({ outcome }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('broker_commands').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async tenantExists(db: Executor, tenantId: string): Promise<boolean> {
    return (await db.selectFrom('tenants').select('id').where('id', '=', tenantId).executeTakeFirst()) !== undefined;
  },
};
