import type { Ctx, Executor } from '../../context.ts';
import { decodeCursor, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { assertRoom } from '../../lib/limits.ts';
import type { DiscountsTable, ShippingMethodsTable, TaxRatesTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { amountTooLarge, conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { MAX_AMOUNT, inRange } from '../../lib/money.ts';
import { sellableVariants, type SellableVariant } from '../catalog/index.ts';
import { priceBasket, shippingCost, type Breakdown, type DiscountRule, type ShippingRule } from './calculator.ts';
import { pricingRepository as repo } from './pricing.repository.ts';
import { usableDiscount } from './discounts.service.ts';

// --- tax rates -------------------------------------------------------------------------------------

export interface TaxRate {
  id: string;
  country: string;
  region: string | null;
  name: string;
  rate_bp: number;
  created_at: string;
}

const toTaxRate = (r: TaxRatesTable): TaxRate => ({ id: r.id, country: r.country, region: r.region || null, name: r.name, rate_bp: r.rate_bp, created_at: r.created_at });

/** A page of the shop's tax rates, in creation order. */
export async function listTaxRates(ctx: Ctx, page: PageRequest): Promise<Page<TaxRate>> {
  const p = toPage(await repo.pageTaxRates(ctx.db, ctx.tenantId, page.limit, decodeCursor(page.cursor)), page.limit);
  return { ...p, data: p.data.map(toTaxRate) };
}

export async function createTaxRate(ctx: Ctx, input: { country: string; region?: string | null | undefined; name: string; rate_bp: number }): Promise<TaxRate> {
  assertRoom(await repo.countTaxRates(ctx.db, ctx.tenantId), 'tax_rates');
  const row: TaxRatesTable = { tenant_id: ctx.tenantId, id: newId('taxRate'), country: input.country, region: input.region ?? '', name: input.name, rate_bp: input.rate_bp, created_at: ctx.clock.now().toISOString() };
  try {
    await repo.insertTaxRate(ctx.db, row);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('tax_rate_exists', 'A rate for this country and region exists; change it instead');
    throw e;
  }
  return toTaxRate(row);
}

export async function updateTaxRate(ctx: Ctx, id: string, patch: { name?: string | undefined; rate_bp?: number | undefined }): Promise<TaxRate> {
  const r = await repo.findTaxRate(ctx.db, ctx.tenantId, id);
  if (!r) throw notFound('Tax rate');
  const next: Partial<TaxRatesTable> = {};
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.rate_bp !== undefined) next.rate_bp = patch.rate_bp;
  if (Object.keys(next).length) await repo.updateTaxRate(ctx.db, ctx.tenantId, id, next);
  return toTaxRate({ ...r, ...next });
}

export async function deleteTaxRate(ctx: Ctx, id: string): Promise<void> {
  if (!(await repo.findTaxRate(ctx.db, ctx.tenantId, id))) throw notFound('Tax rate');
  await repo.deleteTaxRate(ctx.db, ctx.tenantId, id);
}

// --- shipping methods ------------------------------------------------------------------------------

export interface ShippingMethod {
  id: string;
  name: string;
  rate_type: 'flat' | 'weight';
  amount: number;
  weight_tiers: { up_to_grams: number; amount: number }[];
  free_over: number | null;
  countries: string[];
  status: 'active' | 'inactive';
  created_at: string;
  updated_at: string;
}

const toShipping = (r: ShippingMethodsTable): ShippingMethod => ({
  id: r.id,
  name: r.name,
  rate_type: r.rate_type,
  amount: Number(r.amount),
  weight_tiers: JSON.parse(r.weight_tiers) as ShippingMethod['weight_tiers'],
  free_over: r.free_over === null ? null : Number(r.free_over),
  countries: JSON.parse(r.countries) as string[],
  status: r.status,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

export type ShippingInput = Omit<ShippingMethod, 'id' | 'created_at' | 'updated_at' | 'status' | 'weight_tiers' | 'free_over' | 'countries' | 'amount'> & {
  amount?: number | undefined;
  weight_tiers?: ShippingMethod['weight_tiers'] | undefined;
  free_over?: number | null | undefined;
  countries?: string[] | undefined;
  status?: 'active' | 'inactive' | undefined;
};

function checkTiers(rateType: 'flat' | 'weight', tiers: ShippingMethod['weight_tiers']): void {
  if (rateType === 'weight' && tiers.length === 0) throw invalid('invalid_shipping_method', 'Weight-based rates need at least one weight tier', [{ pointer: '/body/weight_tiers', detail: 'required for rate_type weight' }]);
  const sorted = tiers.map((t) => t.up_to_grams);
  if (new Set(sorted).size !== sorted.length) throw invalid('invalid_shipping_method', 'Two tiers have the same weight limit', [{ pointer: '/body/weight_tiers', detail: 'duplicate up_to_grams' }]);
}

/** A page of the shop's shipping methods (active and inactive), in creation order. */
export async function listShippingMethods(ctx: Ctx, page: PageRequest): Promise<Page<ShippingMethod>> {
  const p = toPage(await repo.pageShippingMethods(ctx.db, ctx.tenantId, page.limit, decodeCursor(page.cursor)), page.limit);
  return { ...p, data: p.data.map(toShipping) };
}

export async function createShippingMethod(ctx: Ctx, input: ShippingInput): Promise<ShippingMethod> {
  const tiers = input.weight_tiers ?? [];
  checkTiers(input.rate_type, tiers);
  assertRoom((await repo.listShippingMethods(ctx.db, ctx.tenantId, false)).length, 'shipping_methods');
  const now = ctx.clock.now().toISOString();
  const row: ShippingMethodsTable = {
    tenant_id: ctx.tenantId,
    id: newId('shippingMethod'),
    name: input.name,
    rate_type: input.rate_type,
    amount: input.amount ?? 0,
    weight_tiers: JSON.stringify([...tiers].sort((a, b) => a.up_to_grams - b.up_to_grams)),
    free_over: input.free_over ?? null,
    countries: JSON.stringify([...new Set(input.countries ?? [])]),
    status: input.status ?? 'active',
    created_at: now,
    updated_at: now,
  };
  await repo.insertShippingMethod(ctx.db, row);
  return toShipping(row);
}

export async function updateShippingMethod(ctx: Ctx, id: string, patch: Partial<ShippingInput>): Promise<ShippingMethod> {
  const r = await repo.findShippingMethod(ctx.db, ctx.tenantId, id);
  if (!r) throw notFound('Shipping method');
  const cur = toShipping(r);
  const merged = { ...cur, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as ShippingMethod;
  checkTiers(merged.rate_type, merged.weight_tiers);
  const next: Partial<ShippingMethodsTable> = {
    name: merged.name,
    rate_type: merged.rate_type,
    amount: merged.amount,
    weight_tiers: JSON.stringify([...merged.weight_tiers].sort((a, b) => a.up_to_grams - b.up_to_grams)),
    free_over: merged.free_over,
    countries: JSON.stringify([...new Set(merged.countries)]),
    status: merged.status,
    updated_at: ctx.clock.now().toISOString(),
  };
  await repo.updateShippingMethod(ctx.db, ctx.tenantId, id, next);
  return toShipping({ ...r, ...next });
}

// --- quotes ----------------------------------------------------------------------------------------

export interface Address {
  name?: string | undefined;
  line1?: string | undefined;
  line2?: string | undefined;
  city?: string | undefined;
  region?: string | undefined;
  postal_code?: string | undefined;
  country: string;
  phone?: string | undefined;
}

export interface QuoteInput {
  lines: { variant_id: string; quantity: number }[];
  discount_code?: string | null | undefined;
  shipping_method_id?: string | null | undefined;
  shipping_address?: Address | null | undefined;
  /** Who would use the discount: a customer id or an email (per-customer limits). */
  customer_key?: string | null | undefined;
}

export interface Quote {
  breakdown: Breakdown;
  currency: string;
  tax_mode: 'exclusive' | 'inclusive';
  tax_rate_bp: number;
  variants: Map<string, SellableVariant>;
  discount: DiscountsTable | null;
  shipping: ShippingMethodsTable | null;
}

export const MAX_LINE_QUANTITY = 10_000;
export const MAX_LINES = 100;

/**
 * Prices lines for this shop from its own catalogue, discount, shipping and tax tables — clients never send
 * prices. Every reason a basket cannot be priced is a coded 422.
 */
export async function quote(ctx: Ctx, shop: { currency: string; tax_mode: 'exclusive' | 'inclusive' }, input: QuoteInput): Promise<Quote> {
  if (input.lines.length === 0) throw invalid('empty_order', 'There are no lines to price', [{ pointer: '/body/lines', detail: 'empty' }]);
  const merged = new Map<string, number>();
  for (const l of input.lines) merged.set(l.variant_id, (merged.get(l.variant_id) ?? 0) + l.quantity);
  const variants = await sellableVariants(ctx.db, ctx.tenantId, [...merged.keys()]);
  const problems = [...merged.entries()].flatMap(([id, qty], i) => {
    const v = variants.get(id);
    if (!v) return [{ pointer: `/body/lines/${i}/variant_id`, detail: 'unknown variant' }];
    if (!v.active) return [{ pointer: `/body/lines/${i}/variant_id`, detail: 'not for sale' }];
    if (qty > MAX_LINE_QUANTITY) return [{ pointer: `/body/lines/${i}/quantity`, detail: `at most ${MAX_LINE_QUANTITY}` }];
    return [];
  });
  if (problems.length) throw invalid(problems.some((p) => p.detail === 'unknown variant') ? 'unknown_variant' : 'variant_unavailable', 'Some lines cannot be sold', problems);
  // Amounts stay exact integers (lib/money.ts): no line and no basket beyond MAX_AMOUNT.
  const tooLarge = [...merged.entries()].flatMap(([id, qty], i) => (inRange((variants.get(id) as SellableVariant).price * qty) ? [] : [{ pointer: `/body/lines/${i}/quantity`, detail: `the line would exceed ${MAX_AMOUNT} minor units` }]));
  if (tooLarge.length) throw amountTooLarge(tooLarge);

  const discount = input.discount_code ? await usableDiscount(ctx, input.discount_code, input.customer_key ?? null) : null;
  let shipping: ShippingMethodsTable | null = null;
  if (input.shipping_method_id) {
    shipping = (await repo.findShippingMethod(ctx.db, ctx.tenantId, input.shipping_method_id)) ?? null;
    if (!shipping || shipping.status !== 'active') throw invalid('unknown_shipping_method', 'No such shipping method', [{ pointer: '/body/shipping_method_id', detail: 'unknown' }]);
    const countries = JSON.parse(shipping.countries) as string[];
    if (countries.length && input.shipping_address && !countries.includes(input.shipping_address.country)) {
      throw invalid('shipping_not_available', `${shipping.name} does not ship to ${input.shipping_address.country}`, [{ pointer: '/body/shipping_address/country', detail: 'not served' }]);
    }
  }
  const addr = input.shipping_address;
  const rate = addr ? await repo.rateFor(ctx.db, ctx.tenantId, addr.country, addr.region ?? '') : undefined;
  const discountRule: DiscountRule | null = discount ? { kind: discount.kind, value: Number(discount.value), minSubtotal: Number(discount.min_subtotal) } : null;
  const breakdown = priceBasket({
    taxMode: shop.tax_mode,
    taxRateBp: rate?.rate_bp ?? 0,
    discount: discountRule,
    shipping: shipping ? shippingRule(shipping) : null,
    lines: [...merged.entries()].map(([id, qty]) => {
      const v = variants.get(id) as SellableVariant;
      return { key: id, unitPrice: v.price, quantity: qty, weightGrams: v.weight_grams };
    }),
  });
  if (breakdown.discount_not_applied === 'min_subtotal_not_met' && discount) {
    throw invalid('discount_min_subtotal_not_met', `This code needs a subtotal of at least ${Number(discount.min_subtotal)}`, [{ pointer: '/body/discount_code', detail: 'minimum subtotal not met' }]);
  }
  const amounts = [breakdown.subtotal, breakdown.total, breakdown.tax_total, breakdown.shipping_total, ...breakdown.lines.map((l) => l.total)];
  if (!amounts.every(inRange)) throw amountTooLarge([{ pointer: '/body/lines', detail: `the order total would exceed ${MAX_AMOUNT} minor units` }]);
  if (breakdown.shipping_unavailable) throw invalid('shipping_not_available', 'The parcel is too heavy for this shipping method', [{ pointer: '/body/shipping_method_id', detail: 'weight beyond the last tier' }]);
  return { breakdown, currency: shop.currency, tax_mode: shop.tax_mode, tax_rate_bp: rate?.rate_bp ?? 0, variants, discount, shipping };
}

export function shippingRule(m: ShippingMethodsTable): ShippingRule {
  return { rateType: m.rate_type, amount: Number(m.amount), tiers: JSON.parse(m.weight_tiers) as ShippingRule['tiers'], freeOver: m.free_over === null ? null : Number(m.free_over) };
}

/** Methods that can ship a basket of this weight and value to the country, with their price. */
export async function shippingOptions(db: Executor, tenantId: string, weightGrams: number, goodsAfterDiscount: number, country: string | null) {
  const methods = await repo.listShippingMethods(db, tenantId, true);
  return methods
    .filter((m) => {
      const countries = JSON.parse(m.countries) as string[];
      return countries.length === 0 || (country !== null && countries.includes(country));
    })
    .map((m) => ({ id: m.id, name: m.name, amount: shippingCost(shippingRule(m), weightGrams, goodsAfterDiscount) }))
    .filter((o): o is { id: string; name: string; amount: number } => o.amount !== null);
}

/** A priced basket as the API shows it (carts, quotes and orders use the same shape). */
export function totalsOf(q: Quote) {
  const b = q.breakdown;
  return {
    currency: q.currency,
    tax_mode: q.tax_mode,
    tax_rate_bp: q.tax_rate_bp,
    lines: b.lines.map((l) => {
      const v = q.variants.get(l.key);
      return { variant_id: l.key, sku: v?.sku ?? '', title: v?.title ?? '', quantity: l.quantity, unit_price: l.unit_price, subtotal: l.subtotal, discount: l.discount, tax: l.tax, total: l.total };
    }),
    subtotal: b.subtotal,
    discount_total: b.discount_total,
    shipping_total: b.shipping_total,
    shipping_tax: b.shipping_tax,
    tax_total: b.tax_total,
    total: b.total,
    total_weight_grams: b.total_weight_grams,
    discount_code: q.discount?.code ?? null,
    shipping_method: q.shipping ? { id: q.shipping.id, name: q.shipping.name } : null,
  };
}
