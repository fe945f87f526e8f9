import type { Executor } from '../../context.ts';
import type { PaymentActionsTable, PaymentsTable, RefundsTable } from '../../db/schema.ts';

export const paymentsRepository = {
  async insert(db: Executor, row: PaymentsTable) {
    await db.insertInto('payments').values(row).execute();
  },
  async ofOrders(db: Executor, tenantId: string, orderIds: readonly string[]) {
    if (orderIds.length === 0) return [];
    return db.selectFrom('payments').selectAll().where('tenant_id', '=', tenantId).where('order_id', 'in', orderIds).orderBy('id').execute();
  },
  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('payments').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  /** Payment by the provider's reference (webhooks know only that); the tenant comes from the provider's metadata. */
  async byProviderRef(db: Executor, tenantId: string, provider: PaymentsTable['provider'], ref: string) {
    return db.selectFrom('payments').selectAll().where('tenant_id', '=', tenantId).where('provider', '=', provider).where('provider_ref', '=', ref).executeTakeFirst();
  },
  async update(db: Executor, tenantId: string, id: string, fromStatus: PaymentsTable['status'], patch: Partial<PaymentsTable>): Promise<boolean> {
    const r = await db.updateTable('payments').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', fromStatus).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  /** Adds to the refunded amount only while it stays within what was captured. */
  async addRefunded(db: Executor, tenantId: string, id: string, amount: number, at: string): Promise<boolean> {
    const r = await db
      .updateTable('payments')
      .set((eb) => ({ amount_refunded: eb('amount_refunded', '+', amount), updated_at: at }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where((eb) => eb('amount_refunded', '<=', eb('amount_captured', '-', amount)))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async insertRefund(db: Executor, row: RefundsTable) {
    await db.insertInto('refunds').values(row).execute();
  },
  async refundsOf(db: Executor, tenantId: string, orderId: string) {
    return db.selectFrom('refunds').selectAll().where('tenant_id', '=', tenantId).where('order_id', '=', orderId).orderBy('id').execute();
  },
  async refundByProviderRef(db: Executor, tenantId: string, ref: string) {
    return db.selectFrom('refunds').selectAll().where('tenant_id', '=', tenantId).where('provider_ref', '=', ref).executeTakeFirst();
  },
  /** Records a provider event; false if it was seen before (the webhook is a replay). */
  async markProcessed(db: Executor, provider: string, eventId: string, tenantId: string, at: string): Promise<boolean> {
    const r = await db
      .insertInto('processed_webhooks')
      .values({ provider, event_id: eventId, tenant_id: tenantId, created_at: at })
      .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  },
  /** Gives back a reserved refund amount (the provider refused the refund). */
  async subtractRefunded(db: Executor, tenantId: string, id: string, amount: number, at: string): Promise<void> {
    await db
      .updateTable('payments')
      .set((eb) => ({ amount_refunded: eb('amount_refunded', '-', amount), updated_at: at }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('amount_refunded', '>=', amount)
      .execute();
  },
  async updateRefund(db: Executor, tenantId: string, id: string, patch: Partial<RefundsTable>): Promise<boolean> {
    const r = await db.updateTable('refunds').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  // --- payment actions: the intent of each provider call, settled once ---------------------------
  async insertAction(db: Executor, row: PaymentActionsTable) {
    await db.insertInto('payment_actions').values(row).execute();
  },
  async findAction(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('payment_actions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async pendingActionOf(db: Executor, tenantId: string, orderId: string) {
    return db.selectFrom('payment_actions').selectAll().where('tenant_id', '=', tenantId).where('order_id', '=', orderId).where('status', '=', 'pending').executeTakeFirst();
  },
  async latestActionOf(db: Executor, tenantId: string, orderId: string, kind: PaymentActionsTable['kind']) {
    return db.selectFrom('payment_actions').selectAll().where('tenant_id', '=', tenantId).where('order_id', '=', orderId).where('kind', '=', kind).orderBy('id', 'desc').executeTakeFirst();
  },
  /** Settles a pending action; false if it was settled already (by a retry or the reconciliation job). */
  async finishAction(db: Executor, tenantId: string, id: string, patch: Pick<PaymentActionsTable, 'status' | 'result' | 'error' | 'updated_at'>): Promise<boolean> {
    const r = await db.updateTable('payment_actions').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  /** Pending actions whose lease ran out, across shops (the reconciliation job). */
  async dueActions(db: Executor, now: string, limit: number) {
    return db.selectFrom('payment_actions').selectAll().where('status', '=', 'pending').where('next_attempt_at', '<=', now).orderBy('next_attempt_at').limit(limit).execute();
  },
  /** Takes a due action for one attempt: moves its lease on, only if nobody else did since it was read. */
  async leaseAction(db: Executor, a: Pick<PaymentActionsTable, 'tenant_id' | 'id' | 'next_attempt_at'>, until: string, at: string): Promise<boolean> {
    const r = await db
      .updateTable('payment_actions')
      .set((eb) => ({ next_attempt_at: until, attempts: eb('attempts', '+', 1), updated_at: at }))
      .where('tenant_id', '=', a.tenant_id)
      .where('id', '=', a.id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '=', a.next_attempt_at)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
};
