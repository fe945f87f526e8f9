import type { Executor } from '../../context.ts';

/**
 * What erasing a person touches beyond the CRM's own tables: every row of other modules that holds their personal
 * data — orders (email, addresses), the customer account, carts, their chat messages, the emails log. One
 * repository on purpose (a deliberate exception, docs/architecture.md): erasure is one transaction over all of
 * them, and a list in one place is what a privacy review reads.
 */
export const privacyRepository = {
  async orderIds(db: Executor, tenantId: string, who: { customerId: string | null; email: string }) {
    let q = db.selectFrom('orders').select('id').where('tenant_id', '=', tenantId);
    q = who.customerId ? q.where((eb) => eb.or([eb('customer_id', '=', who.customerId as string), eb('email', '=', who.email)])) : q.where('email', '=', who.email);
    return (await q.orderBy('id').execute()).map((r) => r.id);
  },
  async anonymiseOrders(db: Executor, tenantId: string, ids: readonly string[], email: string): Promise<number> {
    if (ids.length === 0) return 0;
    const r = await db.updateTable('orders').set({ email, shipping_address: null, billing_address: null }).where('tenant_id', '=', tenantId).where('id', 'in', ids).executeTakeFirst();
    return Number(r.numUpdatedRows);
  },
  async anonymiseCustomer(db: Executor, tenantId: string, customerId: string, email: string, at: string): Promise<void> {
    await db.updateTable('customers').set({ email, first_name: '', last_name: '', password_hash: null, status: 'disabled', updated_at: at }).where('tenant_id', '=', tenantId).where('id', '=', customerId).execute();
    await db.updateTable('sessions').set({ revoked_at: at, revoked_reason: 'erased' }).where('tenant_id', '=', tenantId).where('subject_id', '=', customerId).where('revoked_at', 'is', null).execute();
  },
  async forgetCarts(db: Executor, tenantId: string, who: { customerId: string | null; email: string }): Promise<number> {
    let q = db.updateTable('carts').set({ email: null, shipping_address: null, billing_address: null }).where('tenant_id', '=', tenantId);
    q = who.customerId ? q.where((eb) => eb.or([eb('customer_id', '=', who.customerId as string), eb('email', '=', who.email)])) : q.where('email', '=', who.email);
    return Number((await q.executeTakeFirst()).numUpdatedRows);
  },
  async eraseMessages(db: Executor, tenantId: string, orderIds: readonly string[]): Promise<number> {
    if (orderIds.length === 0) return 0;
    const r = await db.updateTable('order_messages').set({ body: '[erased]' }).where('tenant_id', '=', tenantId).where('order_id', 'in', orderIds).where('author_type', '=', 'customer').executeTakeFirst();
    return Number(r.numUpdatedRows);
  },
  async forgetEmails(db: Executor, tenantId: string, to: string, replacement: string): Promise<number> {
    const r = await db.updateTable('emails').set({ to: replacement, subject: '[erased]' }).where('tenant_id', '=', tenantId).where('to', '=', to).executeTakeFirst();
    return Number(r.numUpdatedRows);
  },
  async deleteScores(db: Executor, tenantId: string, contactId: string): Promise<void> {
    await db.deleteFrom('contact_score_history').where('tenant_id', '=', tenantId).where('contact_id', '=', contactId).execute();
    await db.deleteFrom('contact_scores').where('tenant_id', '=', tenantId).where('contact_id', '=', contactId).execute();
    await db.deleteFrom('segment_members').where('tenant_id', '=', tenantId).where('contact_id', '=', contactId).execute();
  },
};
