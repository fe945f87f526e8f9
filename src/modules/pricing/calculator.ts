import { allocate, percentOf, taxAdded, taxIncluded } from '../../lib/money.ts';

/**
 * The price of a basket, computed on the server only. Pure: no I/O, so every rule is table-tested.
 *
 * Order of operations (docs/pricing.md):
 *  1. line subtotal = unit price × quantity (catalogue prices: net in `exclusive` shops, gross in `inclusive`);
 *  2. the discount comes off the goods: percentage of the subtotal, or a fixed amount (at most the subtotal),
 *     spread over the lines in proportion (largest remainder, so the parts add up);
 *  3. shipping: flat, or by total weight tier; free when the discounted goods reach the method's `free_over`,
 *     or with a free-shipping code;
 *  4. tax at the destination's rate, per line and on shipping, rounded once each (lib/money.ts): added on top in
 *     `exclusive` shops, contained in the price in `inclusive` shops.
 */
export type TaxMode = 'exclusive' | 'inclusive';

export interface PriceLine {
  key: string;
  unitPrice: number;
  quantity: number;
  weightGrams: number;
}

export interface DiscountRule {
  kind: 'percentage' | 'fixed_amount' | 'free_shipping';
  /** bp for percentage, minor units for fixed_amount. */
  value: number;
  minSubtotal: number;
}

export interface ShippingRule {
  rateType: 'flat' | 'weight';
  amount: number;
  tiers: { up_to_grams: number; amount: number }[];
  freeOver: number | null;
}

export interface PricingInput {
  taxMode: TaxMode;
  lines: PriceLine[];
  discount: DiscountRule | null;
  shipping: ShippingRule | null;
  taxRateBp: number;
}

export interface PricedLine {
  key: string;
  quantity: number;
  unit_price: number;
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
}

export interface Breakdown {
  lines: PricedLine[];
  subtotal: number;
  discount_total: number;
  shipping_total: number;
  shipping_tax: number;
  tax_total: number;
  total: number;
  total_weight_grams: number;
  /** Why the discount was not applied, if it was given but does not apply. */
  discount_not_applied: 'min_subtotal_not_met' | null;
  /** The shipping method cannot ship this weight. */
  shipping_unavailable: boolean;
}

export function shippingCost(rule: ShippingRule, weightGrams: number, goodsAfterDiscount: number): number | null {
  if (rule.freeOver !== null && goodsAfterDiscount >= rule.freeOver) return 0;
  if (rule.rateType === 'flat') return rule.amount;
  const tier = [...rule.tiers].sort((a, b) => a.up_to_grams - b.up_to_grams).find((t) => weightGrams <= t.up_to_grams);
  return tier ? tier.amount : null;
}

export function priceBasket(input: PricingInput): Breakdown {
  const lines = input.lines.map((l) => ({ ...l, subtotal: l.unitPrice * l.quantity }));
  const subtotal = lines.reduce((a, l) => a + l.subtotal, 0);
  const weight = lines.reduce((a, l) => a + l.weightGrams * l.quantity, 0);

  let discountTotal = 0;
  let freeShipping = false;
  let notApplied: Breakdown['discount_not_applied'] = null;
  if (input.discount) {
    if (subtotal < input.discount.minSubtotal) notApplied = 'min_subtotal_not_met';
    else if (input.discount.kind === 'percentage') discountTotal = Math.min(subtotal, percentOf(subtotal, input.discount.value));
    else if (input.discount.kind === 'fixed_amount') discountTotal = Math.min(subtotal, input.discount.value);
    else freeShipping = true;
  }
  const lineDiscounts = allocate(discountTotal, lines.map((l) => l.subtotal));

  const rate = input.taxRateBp;
  const tax = (amount: number) => (input.taxMode === 'exclusive' ? taxAdded(amount, rate) : taxIncluded(amount, rate));
  const priced: PricedLine[] = lines.map((l, i) => {
    const discount = lineDiscounts[i] as number;
    const base = l.subtotal - discount;
    const t = tax(base);
    return { key: l.key, quantity: l.quantity, unit_price: l.unitPrice, subtotal: l.subtotal, discount, tax: t, total: input.taxMode === 'exclusive' ? base + t : base };
  });

  let shipping = 0;
  let unavailable = false;
  if (input.shipping) {
    const cost = shippingCost(input.shipping, weight, subtotal - discountTotal);
    if (cost === null) unavailable = true;
    else shipping = freeShipping ? 0 : cost;
  }
  const shippingTax = tax(shipping);
  const goods = priced.reduce((a, l) => a + l.total, 0);
  const shippingCharged = input.taxMode === 'exclusive' ? shipping + shippingTax : shipping;
  return {
    lines: priced,
    subtotal,
    discount_total: discountTotal,
    shipping_total: shipping,
    shipping_tax: shippingTax,
    tax_total: priced.reduce((a, l) => a + l.tax, 0) + shippingTax,
    total: goods + shippingCharged,
    total_weight_grams: weight,
    discount_not_applied: notApplied,
    shipping_unavailable: unavailable,
  };
}
