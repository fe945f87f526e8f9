import type { Executor } from '../../context.ts';
import type { EmailsTable } from '../../db/schema.ts';

/** The record of every email sent (once per key). */
export const emailRepository = {
  async insert(db: Executor, row: EmailsTable): Promise<void> {
    await db.insertInto('emails').values(row).execute();
  },
  async statusOf(db: Executor, tenantId: string, key: string): Promise<EmailsTable['status'] | null> {
    const r = await db.selectFrom('emails').select('status').where('tenant_id', '=', tenantId).where('key', '=', key).executeTakeFirst();
    return r?.status ?? null;
  },
  async markSent(db: Executor, tenantId: string, key: string, messageId: string, at: string): Promise<void> {
    await db.updateTable('emails').set({ status: 'sent', message_id: messageId, sent_at: at }).where('tenant_id', '=', tenantId).where('key', '=', key).execute();
  },
};
