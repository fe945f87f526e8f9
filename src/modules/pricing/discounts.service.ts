import type { Ctx } from '../../context.ts';
import type { DiscountsTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { AppError, conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page } from '../../lib/pagination.ts';
import { pricingRepository as repo } from './pricing.repository.ts';

/** Discount codes: percentage, fixed amount or free shipping, with limits that hold under concurrency. */

// --- discounts -------------------------------------------------------------------------------------

export interface Discount {
  id: string;
  code: string;
  kind: DiscountsTable['kind'];
  value: number;
  min_subtotal: number;
  starts_at: string | null;
  ends_at: string | null;
  usage_limit: number | null;
  per_customer_limit: number | null;
  times_used: number;
  status: 'active' | 'disabled';
  version: number;
  created_at: string;
  updated_at: string;
}

const toDiscount = (r: DiscountsTable): Discount => ({
  id: r.id,
  code: r.code,
  kind: r.kind,
  value: Number(r.value),
  min_subtotal: Number(r.min_subtotal),
  starts_at: r.starts_at,
  ends_at: r.ends_at,
  usage_limit: r.usage_limit,
  per_customer_limit: r.per_customer_limit,
  times_used: r.times_used,
  status: r.status,
  version: r.version,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

export const normaliseCode = (code: string) => code.trim().toUpperCase();

export interface DiscountInput {
  code: string;
  kind: DiscountsTable['kind'];
  value?: number | undefined;
  min_subtotal?: number | undefined;
  starts_at?: string | null | undefined;
  ends_at?: string | null | undefined;
  usage_limit?: number | null | undefined;
  per_customer_limit?: number | null | undefined;
  status?: 'active' | 'disabled' | undefined;
}

function checkDiscount(d: { kind: DiscountsTable['kind']; value: number; starts_at: string | null; ends_at: string | null }): void {
  if (d.kind === 'percentage' && (d.value < 1 || d.value > 10_000)) throw invalid('invalid_discount', 'A percentage is 1–10000 basis points (0.01 %–100 %)', [{ pointer: '/body/value', detail: 'out of range' }]);
  if (d.kind === 'fixed_amount' && d.value < 1) throw invalid('invalid_discount', 'A fixed amount must be positive', [{ pointer: '/body/value', detail: 'must be > 0' }]);
  if (d.starts_at && d.ends_at && d.ends_at <= d.starts_at) throw invalid('invalid_discount', 'ends_at must be after starts_at', [{ pointer: '/body/ends_at', detail: 'before starts_at' }]);
}

export async function createDiscount(ctx: Ctx, input: DiscountInput): Promise<Discount> {
  const now = ctx.clock.now().toISOString();
  const row: DiscountsTable = {
    tenant_id: ctx.tenantId,
    id: newId('discount'),
    code: normaliseCode(input.code),
    kind: input.kind,
    value: input.kind === 'free_shipping' ? 0 : (input.value ?? 0),
    min_subtotal: input.min_subtotal ?? 0,
    starts_at: input.starts_at ? new Date(input.starts_at).toISOString() : null,
    ends_at: input.ends_at ? new Date(input.ends_at).toISOString() : null,
    usage_limit: input.usage_limit ?? null,
    per_customer_limit: input.per_customer_limit ?? null,
    times_used: 0,
    status: input.status ?? 'active',
    version: 1,
    created_at: now,
    updated_at: now,
  };
  checkDiscount(row);
  try {
    await repo.insertDiscount(ctx.db, row);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('discount_code_taken', `The code ${row.code} exists`);
    throw e;
  }
  return toDiscount(row);
}

export async function getDiscount(ctx: Ctx, id: string): Promise<Discount> {
  const r = await repo.findDiscount(ctx.db, ctx.tenantId, id);
  if (!r) throw notFound('Discount');
  return toDiscount(r);
}

export async function listDiscounts(ctx: Ctx, limit: number, cursor?: string): Promise<Page<Discount>> {
  return toPage((await repo.listDiscounts(ctx.db, ctx.tenantId, limit, decodeCursor(cursor))).map(toDiscount), limit);
}

export async function updateDiscount(ctx: Ctx, id: string, patch: Partial<Omit<DiscountInput, 'code' | 'kind'>>, expectedVersion: number | null): Promise<Discount> {
  const r = await repo.findDiscount(ctx.db, ctx.tenantId, id);
  if (!r) throw notFound('Discount');
  if (expectedVersion !== null && expectedVersion !== r.version) throw new AppError('precondition_failed', 'version_mismatch', 'The discount was changed since you read it');
  const next: Partial<DiscountsTable> = { updated_at: ctx.clock.now().toISOString() };
  if (patch.value !== undefined && r.kind !== 'free_shipping') next.value = patch.value;
  if (patch.min_subtotal !== undefined) next.min_subtotal = patch.min_subtotal;
  if (patch.starts_at !== undefined) next.starts_at = patch.starts_at ? new Date(patch.starts_at).toISOString() : null;
  if (patch.ends_at !== undefined) next.ends_at = patch.ends_at ? new Date(patch.ends_at).toISOString() : null;
  if (patch.usage_limit !== undefined) next.usage_limit = patch.usage_limit;
  if (patch.per_customer_limit !== undefined) next.per_customer_limit = patch.per_customer_limit;
  if (patch.status !== undefined) next.status = patch.status;
  const merged = { ...r, ...next };
  checkDiscount({ kind: merged.kind, value: Number(merged.value), starts_at: merged.starts_at, ends_at: merged.ends_at });
  if (merged.usage_limit !== null && merged.usage_limit < merged.times_used) throw invalid('invalid_discount', `The code was already used ${merged.times_used} times`, [{ pointer: '/body/usage_limit', detail: 'below times used' }]);
  if (!(await repo.updateDiscount(ctx.db, ctx.tenantId, id, r.version, next))) throw new AppError('precondition_failed', 'version_mismatch', 'The discount was changed since you read it');
  return getDiscount(ctx, id);
}

/** A discount code that can be used now by this customer, or a coded 422 saying why not. */
export async function usableDiscount(ctx: Ctx, code: string, customerKey: string | null): Promise<DiscountsTable> {
  const d = await repo.findDiscountByCode(ctx.db, ctx.tenantId, normaliseCode(code));
  const pointer = [{ pointer: '/body/discount_code', detail: 'not usable' }];
  if (!d || d.status !== 'active') throw invalid('unknown_discount_code', 'This discount code does not exist', pointer);
  const now = ctx.clock.now().toISOString();
  if (d.starts_at && now < d.starts_at) throw invalid('discount_not_started', 'This discount code is not valid yet', pointer);
  if (d.ends_at && now >= d.ends_at) throw invalid('discount_expired', 'This discount code has expired', pointer);
  if (d.usage_limit !== null && d.times_used >= d.usage_limit) throw invalid('discount_usage_limit_reached', 'This discount code has been used up', pointer);
  if (d.per_customer_limit !== null && customerKey && (await repo.customerUses(ctx.db, ctx.tenantId, d.id, customerKey)) >= d.per_customer_limit) {
    throw invalid('discount_customer_limit_reached', 'You have already used this discount code', pointer);
  }
  return d;
}

/**
 * Counts a use inside the order's transaction. The conditional statements make the limits hold under any
 * number of concurrent checkouts: the loser gets 409 and its whole order rolls back.
 */
export async function redeemDiscount(ctx: Ctx, d: DiscountsTable, customerKey: string): Promise<void> {
  if (!(await repo.countUse(ctx.db, ctx.tenantId, d.id))) throw conflict('discount_usage_limit_reached', 'This discount code has just been used up');
  if (d.per_customer_limit !== null && !(await repo.countCustomerUse(ctx.db, ctx.tenantId, d.id, customerKey, d.per_customer_limit))) {
    throw conflict('discount_customer_limit_reached', 'You have already used this discount code');
  }
}

/** Gives back the use a checkout counted, when its payment failed and the order was cancelled. */
export async function releaseDiscount(ctx: Ctx, discountId: string, customerKey: string): Promise<void> {
  await repo.uncountUse(ctx.db, ctx.tenantId, discountId, customerKey);
}
