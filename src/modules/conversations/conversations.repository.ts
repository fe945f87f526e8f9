import { sql } from 'kysely';
import type { Executor } from '../../context.ts';
import type { ConversationsTable, OrderMessagesTable } from '../../db/schema.ts';

/** Order chats: one conversation per order, its messages. Every query is scoped by tenant_id. */
export const conversationsRepository = {
  async find(db: Executor, tenantId: string, orderId: string) {
    return db.selectFrom('conversations').selectAll().where('tenant_id', '=', tenantId).where('order_id', '=', orderId).executeTakeFirst();
  },
  /** Counts a new message in (creating the conversation with it): the other side has one more unread. */
  async addMessage(db: Executor, row: OrderMessagesTable, customerId: string | null): Promise<ConversationsTable> {
    const forStaff = row.author_type === 'customer' ? 1 : 0;
    const forCustomer = row.author_type === 'staff' ? 1 : 0;
    return db
      .insertInto('conversations')
      .values({
        tenant_id: row.tenant_id,
        order_id: row.order_id,
        customer_id: customerId,
        message_count: 1,
        last_message_id: row.id,
        last_message_at: row.created_at,
        last_author: row.author_type,
        staff_read_id: null,
        customer_read_id: null,
        unread_for_staff: forStaff,
        unread_for_customer: forCustomer,
      })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'order_id']).doUpdateSet({
          message_count: sql`conversations.message_count + 1`,
          last_message_id: row.id,
          last_message_at: row.created_at,
          last_author: row.author_type,
          unread_for_staff: sql`conversations.unread_for_staff + ${forStaff}`,
          unread_for_customer: sql`conversations.unread_for_customer + ${forCustomer}`,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
  },
  async insertMessage(db: Executor, row: OrderMessagesTable): Promise<void> {
    await db.insertInto('order_messages').values(row).execute();
  },
  async findMessage(db: Executor, tenantId: string, orderId: string, id: string) {
    return db.selectFrom('order_messages').selectAll().where('tenant_id', '=', tenantId).where('order_id', '=', orderId).where('id', '=', id).executeTakeFirst();
  },
  /** Newest first. */
  async messages(db: Executor, tenantId: string, orderId: string, limit: number, before?: string) {
    let q = db.selectFrom('order_messages').selectAll().where('tenant_id', '=', tenantId).where('order_id', '=', orderId).orderBy('id', 'desc').limit(limit + 1);
    if (before) q = q.where('id', '<', before);
    return q.execute();
  },
  async countAfter(db: Executor, tenantId: string, orderId: string, author: 'customer' | 'staff', after: string): Promise<number> {
    const r = await db
      .selectFrom('order_messages')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('order_id', '=', orderId)
      .where('author_type', '=', author)
      .where('id', '>', after)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  },
  async markRead(db: Executor, tenantId: string, orderId: string, party: 'customer' | 'staff', upTo: string, unread: number) {
    const patch = party === 'staff' ? { staff_read_id: upTo, unread_for_staff: unread } : { customer_read_id: upTo, unread_for_customer: unread };
    return db.updateTable('conversations').set(patch).where('tenant_id', '=', tenantId).where('order_id', '=', orderId).returningAll().executeTakeFirstOrThrow();
  },
  /** The shop's conversations, the most recent message first; only those with unread customer messages on ask. */
  async list(db: Executor, tenantId: string, opts: { unread: boolean; limit: number; before?: string | undefined }) {
    let q = db.selectFrom('conversations').selectAll().where('tenant_id', '=', tenantId).orderBy('last_message_id', 'desc').limit(opts.limit + 1);
    if (opts.unread) q = q.where('unread_for_staff', '>', 0);
    if (opts.before) q = q.where('last_message_id', '<', opts.before);
    return q.execute();
  },
};
