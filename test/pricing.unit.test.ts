import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allocate, divRound, formatMoney, taxIncluded } from '../src/lib/money.ts';
import { priceBasket, type PricingInput } from '../src/modules/pricing/calculator.ts';

describe('money', () => {
  test('divRound rounds halves away from zero', () => {
    const cases: [number, number, number][] = [[5, 2, 3], [4, 2, 2], [7, 2, 4], [-5, 2, -3], [1, 3, 0], [2, 3, 1], [15, 10, 2], [14, 10, 1], [0, 7, 0]];
    for (const [n, d, want] of cases) assert.equal(divRound(n, d), want, `${n}/${d}`);
  });
  test('allocate splits exactly, largest remainder first', () => {
    assert.deepEqual(allocate(100, [1, 1, 1]), [34, 33, 33]);
    assert.deepEqual(allocate(10, [500, 300, 200]), [5, 3, 2]);
    assert.deepEqual(allocate(1, [1, 1]), [1, 0]);
    assert.deepEqual(allocate(0, [5, 5]), [0, 0]);
    for (const [t, w] of [[999, [3, 7, 11, 13]], [1, [1000, 1]], [12345, [1, 2, 3, 4, 5, 6]]] as [number, number[]][]) {
      assert.equal(allocate(t, w).reduce((a, b) => a + b, 0), t);
    }
  });
  test('tax contained in a gross price', () => {
    assert.equal(taxIncluded(11900, 1900), 1900);
    assert.equal(taxIncluded(1000, 2000), 167); // 1000 − round(833.33)
    assert.equal(taxIncluded(999, 0), 0);
  });
  test('formatting uses the currency exponent', () => {
    assert.equal(formatMoney(123456, 'EUR'), '1234.56 EUR');
    assert.equal(formatMoney(500, 'JPY'), '500 JPY');
    assert.equal(formatMoney(1005, 'KWD'), '1.005 KWD');
  });
});

const base: PricingInput = { taxMode: 'exclusive', lines: [], discount: null, shipping: null, taxRateBp: 0 };
const line = (unitPrice: number, quantity: number, weightGrams = 0, key = `v${unitPrice}`) => ({ key, unitPrice, quantity, weightGrams });

describe('pricing tables', () => {
  const table: { name: string; input: Partial<PricingInput>; want: Partial<ReturnType<typeof priceBasket>> }[] = [
    { name: 'no tax, no shipping', input: { lines: [line(1000, 2), line(550, 1)] }, want: { subtotal: 2550, tax_total: 0, total: 2550 } },
    { name: 'tax exclusive 19 %', input: { taxRateBp: 1900, lines: [line(1000, 1)] }, want: { subtotal: 1000, tax_total: 190, total: 1190 } },
    { name: 'tax exclusive rounds per line (0.5 up)', input: { taxRateBp: 1000, lines: [line(5, 1, 0, 'a'), line(5, 1, 0, 'b')] }, want: { tax_total: 2, total: 12 } },
    { name: 'tax inclusive 19 %: total is the price', input: { taxMode: 'inclusive', taxRateBp: 1900, lines: [line(11900, 1)] }, want: { subtotal: 11900, tax_total: 1900, total: 11900 } },
    { name: 'tax inclusive 20 % rounds the contained tax', input: { taxMode: 'inclusive', taxRateBp: 2000, lines: [line(1000, 1)] }, want: { tax_total: 167, total: 1000 } },
    { name: 'percentage discount 10 %', input: { lines: [line(1999, 1)], discount: { kind: 'percentage', value: 1000, minSubtotal: 0 } }, want: { discount_total: 200, total: 1799 } },
    { name: 'percentage discount spread over lines, tax on the rest', input: { taxRateBp: 1000, lines: [line(1000, 1, 0, 'a'), line(3000, 1, 0, 'b')], discount: { kind: 'percentage', value: 2500, minSubtotal: 0 } }, want: { discount_total: 1000, tax_total: 300, total: 3300 } },
    { name: 'fixed discount never exceeds the goods', input: { lines: [line(500, 1)], discount: { kind: 'fixed_amount', value: 2000, minSubtotal: 0 } }, want: { discount_total: 500, total: 0 } },
    { name: 'fixed discount below minimum subtotal is not applied', input: { lines: [line(500, 1)], discount: { kind: 'fixed_amount', value: 100, minSubtotal: 1000 } }, want: { discount_total: 0, total: 500, discount_not_applied: 'min_subtotal_not_met' } },
    { name: 'flat shipping', input: { lines: [line(1000, 1)], shipping: { rateType: 'flat', amount: 495, tiers: [], freeOver: null } }, want: { shipping_total: 495, total: 1495 } },
    { name: 'flat shipping is taxed in exclusive mode', input: { taxRateBp: 2000, lines: [line(1000, 1)], shipping: { rateType: 'flat', amount: 500, tiers: [], freeOver: null } }, want: { shipping_tax: 100, tax_total: 300, total: 1800 } },
    { name: 'shipping in inclusive mode contains its tax', input: { taxMode: 'inclusive', taxRateBp: 2500, lines: [line(1000, 1)], shipping: { rateType: 'flat', amount: 500, tiers: [], freeOver: null } }, want: { shipping_tax: 100, tax_total: 300, total: 1500 } },
    { name: 'free over amount: reached', input: { lines: [line(5000, 1)], shipping: { rateType: 'flat', amount: 495, tiers: [], freeOver: 5000 } }, want: { shipping_total: 0, total: 5000 } },
    { name: 'free over amount: missed after the discount', input: { lines: [line(5000, 1)], discount: { kind: 'fixed_amount', value: 1, minSubtotal: 0 }, shipping: { rateType: 'flat', amount: 495, tiers: [], freeOver: 5000 } }, want: { shipping_total: 495, total: 5494 } },
    { name: 'weight tiers: 1.5 kg falls in the 2 kg tier', input: { lines: [line(100, 3, 500)], shipping: { rateType: 'weight', amount: 0, tiers: [{ up_to_grams: 1000, amount: 300 }, { up_to_grams: 2000, amount: 600 }], freeOver: null } }, want: { total_weight_grams: 1500, shipping_total: 600 } },
    { name: 'weight beyond the last tier cannot ship', input: { lines: [line(100, 1, 5000)], shipping: { rateType: 'weight', amount: 0, tiers: [{ up_to_grams: 1000, amount: 300 }], freeOver: null } }, want: { shipping_unavailable: true, shipping_total: 0 } },
    { name: 'free shipping code', input: { lines: [line(1000, 1)], discount: { kind: 'free_shipping', value: 0, minSubtotal: 0 }, shipping: { rateType: 'flat', amount: 495, tiers: [], freeOver: null } }, want: { discount_total: 0, shipping_total: 0, total: 1000 } },
  ];
  for (const c of table) {
    test(c.name, () => {
      const got = priceBasket({ ...base, ...c.input });
      for (const [k, v] of Object.entries(c.want)) assert.deepEqual(got[k as keyof typeof got], v, `${c.name}: ${k}`);
      // Invariants of every basket: parts add up.
      assert.equal(got.lines.reduce((a, l) => a + l.discount, 0), got.discount_total);
      assert.equal(got.lines.reduce((a, l) => a + l.tax, 0) + got.shipping_tax, got.tax_total);
      const exclusive = (c.input.taxMode ?? 'exclusive') === 'exclusive';
      assert.equal(got.total, got.subtotal - got.discount_total + got.shipping_total + (exclusive ? got.tax_total : 0));
      for (const l of got.lines) assert.ok(Number.isInteger(l.tax) && Number.isInteger(l.total));
    });
  }
});
