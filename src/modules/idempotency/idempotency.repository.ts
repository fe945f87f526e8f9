import type { Executor } from '../../context.ts';
import type { ExpressionBuilder } from 'kysely';
import type { Database, IdempotencyKeysTable } from '../../db/schema.ts';

/** Which request record: a key is scoped to the tenant and the principal that sent it. */
export interface KeyRef {
  tenantId: string;
  principal: string;
  key: string;
}

/** The WHERE that names one request record (tenant, principal, key): every statement below starts from it. */
const isKey = (k: KeyRef) => (eb: ExpressionBuilder<Database, 'idempotency_keys'>) => eb.and([eb('tenant_id', '=', k.tenantId), eb('principal', '=', k.principal), eb('key', '=', k.key)]);

export const idempotencyRepository = {
  async insert(db: Executor, row: IdempotencyKeysTable): Promise<void> {
    await db.insertInto('idempotency_keys').values(row).execute();
  },
  async find(db: Executor, k: KeyRef) {
    return db.selectFrom('idempotency_keys').selectAll().where(isKey(k)).executeTakeFirst();
  },
  async delete(db: Executor, k: KeyRef, createdAt?: string): Promise<void> {
    let q = db.deleteFrom('idempotency_keys').where(isKey(k));
    if (createdAt) q = q.where('created_at', '=', createdAt);
    await q.execute();
  },
  /** Takes an in-flight request over from a dead (or released) holder; false if someone else took it first. */
  async takeOver(db: Executor, k: KeyRef, from: string | null, to: string, until: string): Promise<boolean> {
    const r = await db
      .updateTable('idempotency_keys')
      .set({ locked_by: to, locked_until: until })
      .where(isKey(k))
      .where('state', '=', 'in_flight')
      .where('locked_by', from === null ? 'is' : '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async checkpoint(db: Executor, k: KeyRef, node: string, point: string, resourceId: string | null): Promise<boolean> {
    const r = await db
      .updateTable('idempotency_keys')
      .set({ recovery_point: point, resource_id: resourceId })
      .where(isKey(k))
      .where('locked_by', '=', node)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  /** Stores the answer of the request this node holds; false if it holds none (never claimed, or taken over). */
  async complete(db: Executor, k: KeyRef, node: string, answer: { status: number; headers: string; body: string }): Promise<boolean> {
    const r = await db
      .updateTable('idempotency_keys')
      .set({ state: 'done', response_status: answer.status, response_headers: answer.headers, response_body: answer.body, locked_by: null, locked_until: null })
      .where(isKey(k))
      .where('state', '=', 'in_flight')
      .where('locked_by', '=', node)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  /** A request that failed with 5xx or lost its client: forget it, or — if it reached a recovery point — unlock it for a retry. */
  async release(db: Executor, k: KeyRef, node: string): Promise<void> {
    await db.deleteFrom('idempotency_keys').where(isKey(k)).where('locked_by', '=', node).where('recovery_point', 'is', null).where('state', '=', 'in_flight').execute();
    await db
      .updateTable('idempotency_keys')
      .set({ locked_by: null, locked_until: null })
      .where(isKey(k))
      .where('locked_by', '=', node)
      .where('state', '=', 'in_flight')
      .execute();
  },
  async purgeExpired(db: Executor, now: string): Promise<number> {
    const r = await db.deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  },

  // --- nodes: the processes alive now ---------------------------------------------------------------
  async upsertNode(db: Executor, row: { id: string; kind: string; started_at: string; heartbeat_at: string }): Promise<void> {
    await db
      .insertInto('nodes')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: row.heartbeat_at }))
      .execute();
  },
  async heartbeat(db: Executor, id: string, at: string): Promise<void> {
    await db.updateTable('nodes').set({ heartbeat_at: at }).where('id', '=', id).execute();
  },
  async nodeHeartbeat(db: Executor, id: string): Promise<string | null> {
    const r = await db.selectFrom('nodes').select('heartbeat_at').where('id', '=', id).executeTakeFirst();
    return r?.heartbeat_at ?? null;
  },
  async deleteNode(db: Executor, id: string): Promise<void> {
    await db.deleteFrom('nodes').where('id', '=', id).execute();
  },
  async deleteStaleNodes(db: Executor, before: string): Promise<void> {
    await db.deleteFrom('nodes').where('heartbeat_at', '<', before).execute();
  },
};
