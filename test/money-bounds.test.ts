import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_AMOUNT, allocate, mulDivRound, percentOf, taxIncluded } from '../src/lib/money.ts';
import { call, createShop, engines, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';
import { ADDRESS_DE, SUCCESS, seedCatalogue, type Catalogue } from './commerce-helpers.ts';

/** The rule of lib/money.ts in BigInt: round half away from zero. */
const ref = (a: bigint, b: bigint, d: bigint) => {
  const n = a * b;
  const q = n / d;
  return 2n * (n % d) >= d ? q + 1n : q;
};

describe('money arithmetic stays exact past 2^53', () => {
  test('products beyond 2^53 are computed exactly, not in doubles', () => {
    for (const [a, b, d] of [
      [MAX_AMOUNT, 10_000, 11_900],
      [999_999_999_999, 1_900, 10_000],
      [987_654_321_987, 10_000, 10_001],
      [MAX_AMOUNT - 1, 9_999, 10_000],
    ] as const) {
      assert.equal(mulDivRound(a, b, d), Number(ref(BigInt(a), BigInt(b), BigInt(d))), `${a}×${b}/${d}`);
    }
    assert.equal(percentOf(MAX_AMOUNT, 1_900), 190_000_000_000);
    const gross = 999_999_999_989;
    assert.equal(taxIncluded(gross, 1_900), gross - Number(ref(BigInt(gross), 10_000n, 11_900n)));
  });

  test('allocate splits large totals exactly and the parts add up', () => {
    const parts = allocate(333_333_333_333, [MAX_AMOUNT, 1, 999_999_999_999, 7]);
    assert.equal(parts.reduce((a, b) => a + b, 0), 333_333_333_333);
    assert.ok(parts.every(Number.isSafeInteger));
  });
});

for (const engine of engines()) {
  describe(`amounts that would overflow are refused with 422, never 5xx [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let cat: Catalogue;
    let huge: string;
    let big: string;
    before(async () => {
      t = await startApp(engine);
      shop = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop);
      const product = async (sku: string, price: number) => {
        const p = await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title: sku, status: 'active', variants: [{ sku, price, stock: 20_000 }] } });
        assert.equal(p.statusCode, 201, p.body);
        return (p.json.variants as { id: string }[])[0]!.id;
      };
      huge = await product('ISLAND', MAX_AMOUNT);
      big = await product('YACHT', 900_000_000_007);
    });
    after(() => t.close());

    test('a price of 10^12 × 10,000 (+1 cent) is refused by the quote, the cart and the checkout, with a pointer', async () => {
      const lines = [{ variant_id: huge, quantity: 10_000 }, { variant_id: cat.v.NOTE, quantity: 1 }];
      const q = await call(t.app, { method: 'POST', url: '/api/quote', token: shop.token, body: { lines } });
      assert.deepEqual(problemOf(q), { status: 422, code: 'amount_too_large' });
      assert.deepEqual((q.json.errors as { pointer: string }[]).map((e) => e.pointer), ['/body/lines/0/quantity']);
      for (const extra of [{}, { discount_code: 'TENOFF' }, { shipping_address: ADDRESS_DE }]) {
        const o = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines, payment: SUCCESS, ...extra } });
        assert.deepEqual(problemOf(o), { status: 422, code: 'amount_too_large' }, JSON.stringify(extra));
      }
      const cart = await call(t.app, { method: 'POST', url: '/api/carts', pk: shop.pk, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }] } });
      const add = await call(t.app, { method: 'POST', url: `/api/carts/${cart.json.id}/lines`, pk: shop.pk, body: { variant_id: huge, quantity: 10_000 } });
      assert.deepEqual(problemOf(add), { status: 422, code: 'amount_too_large' });
      const after = await call(t.app, { url: `/api/carts/${cart.json.id}`, pk: shop.pk });
      assert.equal((after.json.lines as unknown[]).length, 1, 'the cart is as it was');
      assert.equal((await t.db.selectFrom('orders').select('id').where('tenant_id', '=', shop.tenantId).execute()).length, 0, 'no order was written');
    });

    test('one line at the maximum plus tax passes the maximum total: refused, not rounded', async () => {
      const o = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: huge, quantity: 1 }], shipping_address: ADDRESS_DE, payment: SUCCESS } });
      assert.deepEqual(problemOf(o), { status: 422, code: 'amount_too_large' });
    });

    test('large amounts within range are exact: totals equal the sum of their parts, in an inclusive-tax shop too', async () => {
      for (const mode of ['exclusive', 'inclusive'] as const) {
        assert.equal((await call(t.app, { method: 'PATCH', url: '/api/shop', token: shop.token, body: { tax_mode: mode } })).statusCode, 200);
        const o = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: big, quantity: 1 }, { variant_id: cat.v.MUG, quantity: 3 }], discount_code: 'TENOFF', shipping_address: ADDRESS_DE, payment: SUCCESS } });
        assert.equal(o.statusCode, 201, o.body);
        const lines = o.json.lines as { subtotal: number; discount: number; tax: number; total: number }[];
        const sum = (k: 'subtotal' | 'discount' | 'tax' | 'total') => lines.reduce((a, l) => a + l[k], 0);
        assert.equal(o.json.subtotal, 900_000_000_007 + 3600);
        assert.equal(o.json.discount_total, sum('discount'));
        assert.equal(o.json.total, sum('total') + (mode === 'exclusive' ? (o.json.shipping_total as number) + ((o.json.tax_total as number) - sum('tax')) : (o.json.shipping_total as number)));
        for (const l of lines) assert.equal(l.total, mode === 'exclusive' ? l.subtotal - l.discount + l.tax : l.subtotal - l.discount);
        const base = 900_000_000_007 - (lines[0]!.discount);
        const expectedTax = mode === 'exclusive' ? Number(ref(BigInt(base), 1_900n, 10_000n)) : base - Number(ref(BigInt(base), 10_000n, 11_900n));
        assert.equal(lines[0]!.tax, expectedTax, `${mode} tax of the big line`);
        assert.equal(o.json.amount_paid, o.json.total);
      }
      // Inclusive tax divides gross × 10 000: past 2^53 for any gross near the maximum.
      const gross = 999_999_999_989;
      const top = await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title: 'Top', status: 'active', variants: [{ sku: 'TOP', price: gross, stock: 5 }] } });
      const o = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: (top.json.variants as { id: string }[])[0]!.id, quantity: 1 }], shipping_address: ADDRESS_DE, payment: SUCCESS } });
      assert.equal(o.statusCode, 201, o.body);
      assert.equal(o.json.total, gross);
      assert.equal(o.json.tax_total, gross - Number(ref(BigInt(gross), 10_000n, 11_900n)));
    });

    test('refund amounts are bounded by the schema and by what was paid', async () => {
      const o = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], payment: SUCCESS } });
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: `/api/orders/${o.json.id}/refunds`, token: shop.token, body: { amount: MAX_AMOUNT + 1 } })), { status: 400, code: 'validation_failed' });
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: `/api/orders/${o.json.id}/refunds`, token: shop.token, body: { amount: 2 ** 53 } })), { status: 400, code: 'validation_failed' });
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: `/api/orders/${o.json.id}/refunds`, token: shop.token, body: { amount: (o.json.total as number) + 1 } })), { status: 422, code: 'refund_exceeds_payment' });
    });
  });
}
