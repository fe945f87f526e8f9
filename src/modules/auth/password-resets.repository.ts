import type { Executor } from '../../context.ts';
import type { PasswordResetsTable } from '../../db/schema.ts';

/** Password reset codes (hashes only), used once within their hour. */
export const passwordResetsRepository = {
  async insert(db: Executor, row: PasswordResetsTable): Promise<void> {
    await db.insertInto('password_resets').values(row).execute();
  },
  async findByHash(db: Executor, tenantId: string, hash: string) {
    return db.selectFrom('password_resets').selectAll().where('tenant_id', '=', tenantId).where('token_hash', '=', hash).executeTakeFirst();
  },
  /** Spends the code; false if it was spent at the same time. */
  async markUsed(db: Executor, tenantId: string, id: string, at: string): Promise<boolean> {
    const r = await db.updateTable('password_resets').set({ used_at: at }).where('tenant_id', '=', tenantId).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
};
