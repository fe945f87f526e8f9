import type { Executor } from '../../context.ts';

/**
 * Change counters per shop and topic. Writers bump the counter in the same transaction as their change; readers
 * that cache derived data (the catalogue pages) compare it with the version they cached. Shared through the
 * database, so every API node sees a change at its next request.
 */
export type Topic = 'catalog';

export async function bumpVersion(db: Executor, tenantId: string, topic: Topic): Promise<void> {
  await db
    .insertInto('change_versions')
    .values({ tenant_id: tenantId, topic, version: 1 })
    .onConflict((oc) => oc.columns(['tenant_id', 'topic']).doUpdateSet((eb) => ({ version: eb('change_versions.version', '+', 1) })))
    .execute();
}

export async function currentVersion(db: Executor, tenantId: string, topic: Topic): Promise<number> {
  const r = await db.selectFrom('change_versions').select('version').where('tenant_id', '=', tenantId).where('topic', '=', topic).executeTakeFirst();
  return r ? Number(r.version) : 0;
}
