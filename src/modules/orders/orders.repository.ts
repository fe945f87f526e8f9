import type { Executor } from '../../context.ts';
import type { FulfillmentsTable, OrderEventsTable, OrderLinesTable, OrdersTable, OrderStatus } from '../../db/schema.ts';

export const ordersRepository = {
  /** The shop's next order number (#1001, #1002 …): one upsert on a per-tenant counter row. */
  async nextNumber(db: Executor, tenantId: string): Promise<number> {
    const r = await db
      .insertInto('order_counters')
      .values({ tenant_id: tenantId, last_number: 1001 })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet((eb) => ({ last_number: eb('order_counters.last_number', '+', 1) })))
      .returning('last_number')
      .executeTakeFirstOrThrow();
    return Number(r.last_number);
  },
  async insert(db: Executor, order: OrdersTable, lines: OrderLinesTable[]) {
    await db.insertInto('orders').values(order).execute();
    await db.insertInto('order_lines').values(lines).execute();
  },
  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('orders').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async lines(db: Executor, tenantId: string, orderIds: readonly string[]) {
    if (orderIds.length === 0) return [];
    return db.selectFrom('order_lines').selectAll().where('tenant_id', '=', tenantId).where('order_id', 'in', orderIds).orderBy('order_id').orderBy('position').execute();
  },
  async list(db: Executor, tenantId: string, opts: { limit: number; before?: string | undefined; customerId?: string | undefined; status?: OrderStatus | undefined }) {
    let q = db.selectFrom('orders').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(opts.limit + 1);
    if (opts.before) q = q.where('id', '<', opts.before);
    if (opts.customerId) q = q.where('customer_id', '=', opts.customerId);
    if (opts.status) q = q.where('status', '=', opts.status);
    return q.execute();
  },
  /** Writes only if the order is still in `from` (and at `version`): the guard against concurrent transitions. */
  async update(db: Executor, tenantId: string, id: string, from: { status: OrderStatus; version: number }, patch: Partial<OrdersTable>): Promise<boolean> {
    const r = await db
      .updateTable('orders')
      .set({ ...patch, version: from.version + 1 })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('status', '=', from.status)
      .where('version', '=', from.version)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async addFulfilled(db: Executor, tenantId: string, lineId: string, quantity: number): Promise<boolean> {
    const r = await db
      .updateTable('order_lines')
      .set((eb) => ({ fulfilled_quantity: eb('fulfilled_quantity', '+', quantity) }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', lineId)
      .where((eb) => eb('fulfilled_quantity', '<=', eb('quantity', '-', quantity)))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async insertEvent(db: Executor, row: OrderEventsTable) {
    await db.insertInto('order_events').values(row).execute();
  },
  /** An order's events, oldest first, a page after `after`. */
  async events(db: Executor, tenantId: string, orderId: string, opts: { limit: number; after?: string | undefined }) {
    let q = db.selectFrom('order_events').selectAll().where('tenant_id', '=', tenantId).where('order_id', '=', orderId).orderBy('id').limit(opts.limit + 1);
    if (opts.after) q = q.where('id', '>', opts.after);
    return q.execute();
  },
  async insertFulfillment(db: Executor, row: FulfillmentsTable) {
    await db.insertInto('fulfillments').values(row).execute();
  },
  async fulfillments(db: Executor, tenantId: string, orderId: string) {
    return db.selectFrom('fulfillments').selectAll().where('tenant_id', '=', tenantId).where('order_id', '=', orderId).orderBy('id').execute();
  },
};
