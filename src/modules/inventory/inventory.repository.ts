import type { Executor } from '../../context.ts';
import type { InventoryLedgerTable, LedgerReason, ReservationsTable } from '../../db/schema.ts';
import { inList } from '../../db/database.ts';

/** Locations, stock levels, the ledger and reservations. Every query is scoped by tenant_id. */
export const inventoryRepository = {
  async variantExists(db: Executor, tenantId: string, id: string): Promise<boolean> {
    return (await db.selectFrom('variants').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()) !== undefined;
  },
  async defaultLocation(db: Executor, tenantId: string) {
    return db.selectFrom('locations').selectAll().where('tenant_id', '=', tenantId).where('is_default', '=', 1).executeTakeFirst();
  },
  async insertLocation(db: Executor, row: { tenant_id: string; id: string; name: string; is_default: number; created_at: string }) {
    await db.insertInto('locations').values(row).execute();
  },
  async findLocation(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('locations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async pageLocations(db: Executor, tenantId: string, limit: number, after?: string) {
    let q = db.selectFrom('locations').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(limit + 1);
    if (after) q = q.where('id', '>', after);
    return q.execute();
  },
  async listLocations(db: Executor, tenantId: string) {
    return db.selectFrom('locations').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
  },

  async levels(db: Executor, tenantId: string, variantIds: readonly string[]) {
    if (variantIds.length === 0) return [];
    return db
      .selectFrom('stock_levels as s')
      .innerJoin('locations as l', (j) => j.onRef('l.tenant_id', '=', 's.tenant_id').onRef('l.id', '=', 's.location_id'))
      .select(['s.variant_id', 's.location_id', 's.available', 'l.is_default'])
      .where('s.tenant_id', '=', tenantId)
      .where(inList(db, 's.variant_id', variantIds))
      .orderBy('l.is_default', 'desc')
      .orderBy('s.available', 'desc')
      .execute();
  },

  /** Levels of new variants, written at once (an import). */
  async insertLevels(db: Executor, rows: { tenant_id: string; variant_id: string; location_id: string; available: number; updated_at: string }[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 1000) await db.insertInto('stock_levels').values(rows.slice(i, i + 1000)).execute();
  },

  /** Creates the level if missing (at 0). */
  async ensureLevel(db: Executor, tenantId: string, variantId: string, locationId: string, at: string): Promise<void> {
    await db
      .insertInto('stock_levels')
      .values({ tenant_id: tenantId, variant_id: variantId, location_id: locationId, available: 0, updated_at: at })
      .onConflict((oc) => oc.columns(['tenant_id', 'variant_id', 'location_id']).doNothing())
      .execute();
  },

  /**
   * The one statement that changes stock: `available = available + delta` only where the result stays ≥ 0.
   * Returns the new balance, or null when there was not enough (nothing changed). Safe under concurrency:
   * the condition and the write are one statement (the CHECK constraint is the backstop).
   */
  async change(db: Executor, tenantId: string, variantId: string, locationId: string, delta: number, at: string): Promise<number | null> {
    const r = await db
      .updateTable('stock_levels')
      .set((eb) => ({ available: eb('available', '+', delta), updated_at: at }))
      .where('tenant_id', '=', tenantId)
      .where('variant_id', '=', variantId)
      .where('location_id', '=', locationId)
      .where((eb) => eb('available', '>=', -delta))
      .returning('available')
      .executeTakeFirst();
    return r ? Number(r.available) : null;
  },

  async insertLedger(db: Executor, rows: InventoryLedgerTable[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 1000) await db.insertInto('inventory_ledger').values(rows.slice(i, i + 1000)).execute();
  },
  async ledger(db: Executor, tenantId: string, opts: { variantId?: string | undefined; reference?: string | undefined; reason?: LedgerReason | undefined; limit: number; before?: string | undefined }) {
    let q = db.selectFrom('inventory_ledger').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(opts.limit + 1);
    if (opts.variantId) q = q.where('variant_id', '=', opts.variantId);
    if (opts.reference) q = q.where('reference', '=', opts.reference);
    if (opts.reason) q = q.where('reason', '=', opts.reason);
    if (opts.before) q = q.where('id', '<', opts.before);
    return q.execute();
  },
  async saleEntriesOf(db: Executor, tenantId: string, orderId: string) {
    return db.selectFrom('inventory_ledger').select(['variant_id', 'location_id', 'delta', 'reason']).where('tenant_id', '=', tenantId).where('reference', '=', orderId).execute();
  },

  async insertReservation(db: Executor, row: ReservationsTable): Promise<void> {
    await db.insertInto('reservations').values(row).execute();
  },
  async reservationOf(db: Executor, tenantId: string, orderId: string) {
    return db.selectFrom('reservations').selectAll().where('tenant_id', '=', tenantId).where('order_id', '=', orderId).executeTakeFirst();
  },
  /** Moves a held reservation on; false if it was no longer held (someone else got there first). */
  async settleReservation(db: Executor, tenantId: string, orderId: string, status: 'converted' | 'released', at: string): Promise<boolean> {
    const r = await db
      .updateTable('reservations')
      .set({ status, updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('order_id', '=', orderId)
      .where('status', '=', 'held')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  /** Held reservations past their expiry, across tenants (the expiry sweep runs for the whole deployment). */
  async expiredReservations(db: Executor, now: string, limit: number) {
    return db.selectFrom('reservations').select(['tenant_id', 'order_id']).where('status', '=', 'held').where('expires_at', '<=', now).orderBy('expires_at').limit(limit).execute();
  },
};
