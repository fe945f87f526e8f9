import { actorOf, type Ctx, type Executor } from '../../context.ts';
import { assertRoom } from '../../lib/limits.ts';
import type { InventoryLedgerTable, LedgerReason } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { addSeconds } from '../../lib/clock.ts';
import { AppError, conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { emitEvent, bumpVersion } from '../events/index.ts';
import { inventoryRepository as repo } from './inventory.repository.ts';

export interface Location {
  id: string;
  name: string;
  is_default: boolean;
  created_at: string;
}

export interface LedgerEntry {
  id: string;
  variant_id: string;
  location_id: string;
  delta: number;
  balance_after: number;
  reason: LedgerReason;
  actor: string;
  reference: string | null;
  note: string | null;
  created_at: string;
}


const toLocation = (r: { id: string; name: string; is_default: number; created_at: string }): Location => ({ id: r.id, name: r.name, is_default: r.is_default === 1, created_at: r.created_at });

/** Every shop has a default location; made at signup, or on first need for shops older than stock. */
export async function defaultLocationId(db: Executor, clock: Clock, tenantId: string): Promise<string> {
  const existing = await repo.defaultLocation(db, tenantId);
  if (existing) return existing.id;
  const id = newId('location');
  try {
    await repo.insertLocation(db, { tenant_id: tenantId, id, name: 'Default', is_default: 1, created_at: clock.now().toISOString() });
    return id;
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    return (await repo.defaultLocation(db, tenantId))!.id;
  }
}

/** A page of the shop's locations, in creation order (the default one is created on first use). */
export async function listLocations(ctx: Ctx, page: PageRequest): Promise<Page<Location>> {
  await defaultLocationId(ctx.db, ctx.clock, ctx.tenantId);
  const p = toPage(await repo.pageLocations(ctx.db, ctx.tenantId, page.limit, decodeCursor(page.cursor)), page.limit);
  return { ...p, data: p.data.map(toLocation) };
}

export async function createLocation(ctx: Ctx, name: string): Promise<Location> {
  await defaultLocationId(ctx.db, ctx.clock, ctx.tenantId);
  assertRoom((await repo.listLocations(ctx.db, ctx.tenantId)).length, 'locations');
  const row = { tenant_id: ctx.tenantId, id: newId('location'), name, is_default: 0, created_at: ctx.clock.now().toISOString() };
  try {
    await repo.insertLocation(ctx.db, row);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('location_name_taken', `A location named "${name}" exists`);
    throw e;
  }
  return toLocation(row);
}

/** Total available per variant, across locations. */
export async function availableByVariant(db: Executor, tenantId: string, variantIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>(variantIds.map((v) => [v, 0]));
  for (const l of await repo.levels(db, tenantId, variantIds)) out.set(l.variant_id, (out.get(l.variant_id) ?? 0) + Number(l.available));
  return out;
}

/** The levels of one variant per location (404 when the shop has no such variant). */
export async function stockLevelsOf(ctx: Ctx, variantId: string) {
  if (!(await repo.variantExists(ctx.db, ctx.tenantId, variantId))) throw notFound('Variant');
  return levelsOf(ctx.db, ctx.tenantId, [variantId]);
}

export async function levelsOf(db: Executor, tenantId: string, variantIds: readonly string[]) {
  return (await repo.levels(db, tenantId, variantIds)).map((l) => ({ variant_id: l.variant_id, location_id: l.location_id, available: Number(l.available) }));
}

function ledgerRow(ctx: { tenantId: string }, at: string, e: Omit<InventoryLedgerTable, 'tenant_id' | 'id' | 'created_at'>): InventoryLedgerTable {
  return { tenant_id: ctx.tenantId, id: newId('ledger'), created_at: at, ...e };
}

/**
 * A staff change of stock at one location: `delta` (adjustment, return) or `set_to` (a physical count).
 * Refused with 409 insufficient_stock if it would take available below zero.
 */
export async function adjustStock(
  ctx: Ctx,
  input: { variant_id: string; location_id?: string | undefined; reason: 'adjustment' | 'return' | 'count'; delta?: number | undefined; set_to?: number | undefined; note?: string | undefined },
) {
  if (!(await repo.variantExists(ctx.db, ctx.tenantId, input.variant_id))) throw notFound('Variant');
  const locationId = input.location_id ?? (await defaultLocationId(ctx.db, ctx.clock, ctx.tenantId));
  if (!(await repo.findLocation(ctx.db, ctx.tenantId, locationId))) throw notFound('Location');
  if ((input.delta === undefined) === (input.set_to === undefined)) throw invalid('invalid_adjustment', 'Send exactly one of delta or set_to', [{ pointer: '/body', detail: 'delta xor set_to' }]);
  if (input.reason === 'count' && input.set_to === undefined) throw invalid('invalid_adjustment', 'A count sets the level: send set_to');
  const at = ctx.clock.now().toISOString();
  await repo.ensureLevel(ctx.db, ctx.tenantId, input.variant_id, locationId, at);
  let delta = input.delta ?? 0;
  if (input.set_to !== undefined) {
    const [current] = await repo.levels(ctx.db, ctx.tenantId, [input.variant_id]).then((ls) => ls.filter((l) => l.location_id === locationId));
    delta = input.set_to - Number(current?.available ?? 0);
  }
  const balance = await repo.change(ctx.db, ctx.tenantId, input.variant_id, locationId, delta, at);
  if (balance === null) throw conflict('insufficient_stock', 'Stock cannot go below zero');
  const row = ledgerRow(ctx, at, { variant_id: input.variant_id, location_id: locationId, delta, balance_after: balance, reason: input.reason, actor: actorOf(ctx.principal), reference: null, note: input.note ?? null });
  await writeLedger(ctx, [row]);
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
  return { variant_id: input.variant_id, location_id: locationId, available: balance, ledger_entry_id: row.id };
}

/** Stock for a new variant, at the default location (recorded in the ledger as a count). */
export async function setInitialStock(ctx: Ctx, variantId: string, quantity: number): Promise<void> {
  const locationId = await defaultLocationId(ctx.db, ctx.clock, ctx.tenantId);
  const at = ctx.clock.now().toISOString();
  await repo.ensureLevel(ctx.db, ctx.tenantId, variantId, locationId, at);
  if (quantity === 0) return;
  const balance = await repo.change(ctx.db, ctx.tenantId, variantId, locationId, quantity, at);
  await writeLedger(ctx, [ledgerRow(ctx, at, { variant_id: variantId, location_id: locationId, delta: quantity, balance_after: balance ?? quantity, reason: 'count', actor: actorOf(ctx.principal), reference: null, note: 'initial stock' })]);
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
}

export interface LevelTarget {
  variant_id: string;
  location_id: string;
  quantity: number;
}

/**
 * Stock counts in bulk (an import): each target level is set (a `count` in the ledger, with the reference) where it
 * differs. Variants in `fresh` were created in this transaction: their levels are inserted at once, with a level at
 * the default location even when the file gives none. Changes to existing variants are announced in one
 * `inventory.changed` event; a new variant's first stock is in the ledger only (no one can be watching it yet).
 * Returns the variants whose stock changed. Locations must be the shop's (the caller checked them).
 */
export async function setStockLevels(ctx: Ctx, targets: readonly LevelTarget[], fresh: ReadonlySet<string>, opts: { reference: string; note: string }): Promise<Set<string>> {
  const at = ctx.clock.now().toISOString();
  const actor = actorOf(ctx.principal);
  const changed = new Set<string>();
  const defaultLocation = await defaultLocationId(ctx.db, ctx.clock, ctx.tenantId);
  const newLevels = new Map<string, { tenant_id: string; variant_id: string; location_id: string; available: number; updated_at: string }>();
  for (const id of fresh) newLevels.set(`${id}\u0000${defaultLocation}`, { tenant_id: ctx.tenantId, variant_id: id, location_id: defaultLocation, available: 0, updated_at: at });
  const freshLedger: InventoryLedgerTable[] = [];
  const existing = targets.filter((t) => !fresh.has(t.variant_id));
  for (const t of targets) {
    if (!fresh.has(t.variant_id)) continue;
    newLevels.set(`${t.variant_id}\u0000${t.location_id}`, { tenant_id: ctx.tenantId, variant_id: t.variant_id, location_id: t.location_id, available: t.quantity, updated_at: at });
    if (t.quantity !== 0) {
      freshLedger.push(ledgerRow(ctx, at, { variant_id: t.variant_id, location_id: t.location_id, delta: t.quantity, balance_after: t.quantity, reason: 'count', actor, reference: opts.reference, note: opts.note }));
      changed.add(t.variant_id);
    }
  }
  await repo.insertLevels(ctx.db, [...newLevels.values()]);
  await repo.insertLedger(ctx.db, freshLedger);

  const current = new Map((await repo.levels(ctx.db, ctx.tenantId, [...new Set(existing.map((t) => t.variant_id))])).map((l) => [`${l.variant_id}\u0000${l.location_id}`, Number(l.available)]));
  const moves: InventoryLedgerTable[] = [];
  for (const t of existing) {
    const now = current.get(`${t.variant_id}\u0000${t.location_id}`);
    if (now === t.quantity) continue;
    if (now === undefined) await repo.ensureLevel(ctx.db, ctx.tenantId, t.variant_id, t.location_id, at);
    const delta = t.quantity - (now ?? 0);
    const balance = await repo.change(ctx.db, ctx.tenantId, t.variant_id, t.location_id, delta, at);
    if (balance === null) continue; // sold in between, below the count: the next run sets it
    moves.push(ledgerRow(ctx, at, { variant_id: t.variant_id, location_id: t.location_id, delta, balance_after: balance, reason: 'count', actor, reference: opts.reference, note: opts.note }));
    changed.add(t.variant_id);
  }
  await writeLedger(ctx, moves);
  if (changed.size) await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
  return changed;
}

/** The shop's locations by name (an import's `stock:<location>` columns). */
export async function locationsByName(db: Executor, tenantId: string): Promise<Map<string, string>> {
  return new Map((await repo.listLocations(db, tenantId)).map((l) => [l.name.toLowerCase(), l.id]));
}

/**
 * Records stock movements in the ledger and announces them: one `inventory.changed` event per business write
 * (an order's sale, a count, a restock), naming each variant and location with its new level.
 */
async function writeLedger(ctx: Ctx, rows: InventoryLedgerTable[]): Promise<void> {
  if (rows.length === 0) return;
  await repo.insertLedger(ctx.db, rows);
  const first = rows[0] as InventoryLedgerTable;
  await emitEvent(ctx.db, ctx.tenantId, 'inventory.changed', first.reference ?? first.variant_id, {
    reason: first.reason,
    reference: first.reference,
    changes: rows.map((r) => ({ variant_id: r.variant_id, location_id: r.location_id, delta: Number(r.delta), available: Number(r.balance_after) })),
  }, first.created_at);
}

export interface TakeLine {
  variantId: string;
  sku: string;
  quantity: number;
  lowStockThreshold: number;
  /** Where in the request this line came from (a JSON pointer), for the error when there is not enough. */
  pointer: string;
}

/**
 * Takes stock for an order inside its transaction: default location first, then the others with most stock,
 * each step one conditional UPDATE. Not enough anywhere → 409 insufficient_stock (the caller's transaction
 * rolls back, so nothing is taken). Writes ledger entries (reason `sale`, reference the order) and an
 * `inventory.low` event for variants that fall to their threshold.
 */
export async function takeStock(ctx: Ctx, orderId: string, lines: readonly TakeLine[]): Promise<void> {
  const at = ctx.clock.now().toISOString();
  const levels = await repo.levels(ctx.db, ctx.tenantId, lines.map((l) => l.variantId));
  const ledger: InventoryLedgerTable[] = [];
  const short: { sku: string; requested: number; available: number; pointer: string }[] = [];
  for (const line of lines) {
    let left = line.quantity;
    const mine = levels.filter((l) => l.variant_id === line.variantId);
    const total = mine.reduce((a, l) => a + Number(l.available), 0);
    for (const level of mine) {
      if (left === 0) break;
      const take = Math.min(left, Number(level.available));
      if (take <= 0) continue;
      const balance = await repo.change(ctx.db, ctx.tenantId, line.variantId, level.location_id, -take, at);
      if (balance === null) continue; // taken by someone else since we read it
      left -= take;
      ledger.push(ledgerRow(ctx, at, { variant_id: line.variantId, location_id: level.location_id, delta: -take, balance_after: balance, reason: 'sale', actor: actorOf(ctx.principal), reference: orderId, note: null }));
    }
    if (left > 0) short.push({ sku: line.sku, requested: line.quantity, available: total, pointer: line.pointer });
  }
  if (short.length) {
    throw new AppError('conflict', 'insufficient_stock', `Not enough stock for ${short.map((s) => `${s.sku} (requested ${s.requested}, available ${s.available})`).join(', ')}`, {
      errors: short.map((s) => ({ pointer: s.pointer, detail: `${s.sku}: only ${s.available} available` })),
    });
  }
  await writeLedger(ctx, ledger);
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
  const after = await availableByVariant(ctx.db, ctx.tenantId, lines.map((l) => l.variantId));
  for (const line of lines) {
    const left = after.get(line.variantId) ?? 0;
    if (left <= line.lowStockThreshold) await emitEvent(ctx.db, ctx.tenantId, 'inventory.low', line.variantId, { variant_id: line.variantId, sku: line.sku, available: left, threshold: line.lowStockThreshold }, at);
  }
}

/** Puts back what an order took, to the same locations (cancellation: `release`; refund with restock: `return`). */
export async function restockOrder(ctx: Ctx, orderId: string, reason: 'release' | 'return', only?: ReadonlyMap<string, number>): Promise<void> {
  const at = ctx.clock.now().toISOString();
  const entries = await repo.saleEntriesOf(ctx.db, ctx.tenantId, orderId);
  // Net taken per variant and location (sales minus what was already put back).
  const net = new Map<string, { variant: string; location: string; qty: number }>();
  for (const e of entries) {
    const k = `${e.variant_id} ${e.location_id}`;
    const cur = net.get(k) ?? { variant: e.variant_id, location: e.location_id, qty: 0 };
    cur.qty -= Number(e.delta);
    net.set(k, cur);
  }
  const want = only ? new Map(only) : null;
  const ledger: InventoryLedgerTable[] = [];
  for (const { variant, location, qty } of net.values()) {
    let back = qty;
    if (want) {
      back = Math.min(qty, want.get(variant) ?? 0);
      want.set(variant, (want.get(variant) ?? 0) - back);
    }
    if (back <= 0) continue;
    const balance = await repo.change(ctx.db, ctx.tenantId, variant, location, back, at);
    if (balance === null) throw new Error('restock failed'); // adding never fails the ≥ 0 condition
    ledger.push(ledgerRow(ctx, at, { variant_id: variant, location_id: location, delta: back, balance_after: balance, reason, actor: actorOf(ctx.principal), reference: orderId, note: null }));
  }
  await writeLedger(ctx, ledger);
  if (ledger.length) await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
}

export async function listLedger(ctx: Ctx, opts: { variant_id?: string | undefined; reference?: string | undefined; limit: number; cursor?: string | undefined }) {
  const rows = await repo.ledger(ctx.db, ctx.tenantId, { variantId: opts.variant_id, reference: opts.reference, limit: opts.limit, before: decodeCursor(opts.cursor) });
  return toPage(
    rows.map((r): LedgerEntry => ({ id: r.id, variant_id: r.variant_id, location_id: r.location_id, delta: Number(r.delta), balance_after: Number(r.balance_after), reason: r.reason, actor: r.actor, reference: r.reference, note: r.note, created_at: r.created_at })),
    opts.limit,
  );
}

// --- reservations: stock held for an order awaiting payment ------------------------------------

export const RESERVATION_TTL_SECONDS = 30 * 60;

export async function holdReservation(ctx: Ctx, orderId: string): Promise<string> {
  const now = ctx.clock.now();
  const expiresAt = addSeconds(now, RESERVATION_TTL_SECONDS).toISOString();
  await repo.insertReservation(ctx.db, { tenant_id: ctx.tenantId, id: newId('reservation'), order_id: orderId, status: 'held', expires_at: expiresAt, created_at: now.toISOString(), updated_at: now.toISOString() });
  return expiresAt;
}

export async function convertReservation(ctx: Ctx, orderId: string): Promise<boolean> {
  return repo.settleReservation(ctx.db, ctx.tenantId, orderId, 'converted', ctx.clock.now().toISOString());
}

/** Releases the hold: true if this call released it (and so must put the stock back). */
export async function releaseReservation(ctx: Ctx, orderId: string): Promise<boolean> {
  return repo.settleReservation(ctx.db, ctx.tenantId, orderId, 'released', ctx.clock.now().toISOString());
}

export async function reservationOf(db: Executor, tenantId: string, orderId: string) {
  return repo.reservationOf(db, tenantId, orderId);
}

export async function expiredReservations(db: Executor, now: string, limit = 100) {
  return repo.expiredReservations(db, now, limit);
}
