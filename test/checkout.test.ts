import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../src/db/database.ts';
import { CHECKOUT_STEPS, type CheckoutStep } from '../src/workflows/checkout.ts';
import { call, createShop, engines, problemOf, startApp, PASSWORD, type Shop, type TestApp } from './helpers.ts';
import { ADDRESS_DE, DECLINE, SUCCESS, seedCatalogue, type Catalogue } from './commerce-helpers.ts';

/** Events about orders and payments (stock movements are announced on their own, as inventory.changed). */
async function orderEventCount(db: Db, tenantId: string): Promise<number> {
  const r = await db.selectFrom('outbox_events').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).where('type', 'not like', 'inventory.%').executeTakeFirstOrThrow();
  return Number(r.n);
}

async function n(db: Db, table: 'orders' | 'payments' | 'outbox_events' | 'order_lines' | 'inventory_ledger' | 'discount_usages' | 'reservations', tenantId: string): Promise<number> {
  const r = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
  return Number(r.n);
}

async function stockOf(db: Db, tenantId: string, variantId: string): Promise<number> {
  const r = await db.selectFrom('stock_levels').select((eb) => eb.fn.sum<number>('available').as('s')).where('tenant_id', '=', tenantId).where('variant_id', '=', variantId).executeTakeFirstOrThrow();
  return Number(r.s);
}

async function timesUsed(db: Db, tenantId: string, code: string): Promise<number> {
  return Number((await db.selectFrom('discounts').select('times_used').where('tenant_id', '=', tenantId).where('code', '=', code).executeTakeFirstOrThrow()).times_used);
}

for (const engine of engines()) {
  describe(`checkout [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let cat: Catalogue;
    let failAt: CheckoutStep | null = null;
    before(async () => {
      t = await startApp(engine, {
        checkoutProbe: (step) => {
          if (step === failAt) throw new Error(`injected failure at ${step}`);
        },
      });
      shop = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop);
    });
    after(() => t.close());

    async function guestCart(lines: { variant_id: string; quantity: number }[], patch: Record<string, unknown> = {}): Promise<string> {
      const c = await call(t.app, { method: 'POST', url: '/api/carts', pk: shop.pk, body: { email: 'guest@example.com', lines } });
      assert.equal(c.statusCode, 201, c.body);
      if (Object.keys(patch).length) {
        const u = await call(t.app, { method: 'PATCH', url: `/api/carts/${c.json.id}`, pk: shop.pk, body: patch });
        assert.equal(u.statusCode, 200, u.body);
      }
      return c.json.id as string;
    }

    test('a guest cart prices on the server, checks out in one go, takes stock and writes its events', async () => {
      const cartId = await guestCart([{ variant_id: cat.v.MUG!, quantity: 2 }, { variant_id: cat.v.NOTE!, quantity: 1 }], { shipping_address: ADDRESS_DE, shipping_method_id: cat.shipFlat, discount_code: 'tenoff' });
      const cart = await call(t.app, { url: `/api/carts/${cartId}`, pk: shop.pk });
      const totals = cart.json.totals as Record<string, number>;
      // 2×1200 + 800 = 3200; 10 % off = 320; shipping 490; VAT 19 % on 2880 goods (547.2 → lines 410+137=547... per line) and on 490 (93.1 → 93)
      assert.equal(totals.subtotal, 3200);
      assert.equal(totals.discount_total, 320);
      assert.equal(totals.shipping_total, 490);
      assert.equal(totals.tax_total, 547 + 93);
      assert.equal(totals.total, 3200 - 320 + 490 + 547 + 93);
      const mugBefore = await stockOf(t.db, shop.tenantId, cat.v.MUG!);

      const r = await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: cartId, payment: SUCCESS } });
      assert.equal(r.statusCode, 201, r.body);
      assert.equal(r.json.status, 'paid');
      assert.equal(r.json.total, totals.total);
      assert.equal(r.json.amount_paid, totals.total);
      assert.match(String(r.json.name), /^#10\d\d$/);
      assert.equal(r.json.email, 'guest@example.com');
      assert.equal(await stockOf(t.db, shop.tenantId, cat.v.MUG!), mugBefore - 2);
      const ledger = await call(t.app, { url: `/api/inventory/ledger?reference=${r.json.id}`, token: shop.token });
      assert.deepEqual((ledger.json.data ?? []).map((e) => e.reason), ['sale', 'sale']);
      const events = await t.db.selectFrom('outbox_events').select('type').where('tenant_id', '=', shop.tenantId).where('aggregate_id', '=', r.json.id as string).where('type', 'like', 'order.%').orderBy('id').execute();
      const moved = await t.db.selectFrom('outbox_events').select('payload').where('tenant_id', '=', shop.tenantId).where('aggregate_id', '=', r.json.id as string).where('type', '=', 'inventory.changed').execute();
      assert.equal(moved.length, 1, 'one inventory.changed for the sale');
      assert.deepEqual(events.map((e) => e.type), ['order.created', 'order.paid']);
      assert.equal((await call(t.app, { url: `/api/carts/${cartId}`, pk: shop.pk })).json.status, 'ordered');
      // A cart orders once.
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: cartId, payment: SUCCESS } })), { status: 409, code: 'cart_not_open' });
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: `/api/carts/${cartId}/lines`, pk: shop.pk, body: { variant_id: cat.v.MUG, quantity: 1 } })), { status: 409, code: 'cart_not_open' });
    });

    test('order numbers count up per shop', async () => {
      const a = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }], payment: SUCCESS } });
      const b = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }], payment: SUCCESS } });
      assert.equal((b.json.number as number) - (a.json.number as number), 1);
      const other = await createShop(t.app);
      const oc = await seedCatalogue(t.app, other);
      const first = await call(t.app, { method: 'POST', url: '/api/orders', token: other.token, body: { lines: [{ variant_id: oc.v.NOTE, quantity: 1 }], payment: SUCCESS } });
      assert.equal(first.json.number, 1001);
    });

    test('the same Idempotency-Key returns the same order and takes stock once', async () => {
      const before = await stockOf(t.db, shop.tenantId, cat.v.LAMP!);
      const body = { lines: [{ variant_id: cat.v.LAMP, quantity: 1 }], payment: SUCCESS };
      const a = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body, headers: { 'idempotency-key': 'order-once' } });
      const b = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body, headers: { 'idempotency-key': 'order-once' } });
      assert.equal(a.statusCode, 201);
      assert.equal(b.json.id, a.json.id);
      assert.equal(b.headers['idempotent-replayed'], 'true');
      assert.equal(await stockOf(t.db, shop.tenantId, cat.v.LAMP!), before - 1);
    });

    test('the same checkout sent five times at once makes one order; the others hear "in progress", then get it replayed', async () => {
      const cartId = await guestCart([{ variant_id: cat.v.NOTE!, quantity: 1 }]);
      const body = { cart_id: cartId, payment: SUCCESS };
      const headers = { 'idempotency-key': 'five-at-once-7c1d9e' };
      const all = await Promise.all(Array.from({ length: 5 }, () => call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body, headers })));
      const made = all.filter((r) => r.statusCode === 201);
      assert.ok(made.length >= 1);
      assert.equal(new Set(made.map((r) => r.json.id)).size, 1, 'one order');
      for (const r of all.filter((x) => x.statusCode !== 201)) assert.deepEqual(problemOf(r), { status: 409, code: 'idempotency_request_in_progress' }, 'a twin still running: in progress; a finished one: its answer');
      const later = await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body, headers });
      assert.equal(later.json.id, made[0]!.json.id);
      assert.equal(later.headers['idempotent-replayed'], 'true');
      const orders = await t.db.selectFrom('orders').select('id').where('tenant_id', '=', shop.tenantId).where('cart_id', '=', cartId).execute();
      assert.equal(orders.length, 1);
    });

    test('one cart checked out by five different requests at once: one order, four cart_not_open', async () => {
      const cartId = await guestCart([{ variant_id: cat.v.NOTE!, quantity: 1 }]);
      const all = await Promise.all(Array.from({ length: 5 }, (_, i) => call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: cartId, payment: SUCCESS }, headers: { 'idempotency-key': `race-4f8a2b6c9d-${i}` } })));
      assert.equal(all.filter((r) => r.statusCode === 201).length, 1);
      for (const r of all.filter((x) => x.statusCode !== 201)) assert.deepEqual(problemOf(r), { status: 409, code: 'cart_not_open' });
    });

    test('a cart warns at once, with a pointer into the request, when it asks for more than is in stock; checkout still decides', async () => {
      const few = await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title: 'Few', status: 'active', variants: [{ sku: 'FEW-1', price: 900, stock: 2 }] } });
      const v = (few.json.variants as { id: string }[])[0]!.id;
      const created = await call(t.app, { method: 'POST', url: '/api/carts', pk: shop.pk, body: { email: 'w@example.com', lines: [{ variant_id: cat.v.NOTE, quantity: 1 }, { variant_id: v, quantity: 3 }] } });
      assert.equal(created.statusCode, 201, 'accepted: stock may come back before checkout');
      const w = created.json.warnings as { code: string; pointer: string | null; line_id: string }[];
      assert.deepEqual(w.map((x) => [x.code, x.pointer]), [['insufficient_stock', '/body/lines/1/quantity']]);
      const cartId = created.json.id as string;
      const line = (created.json.lines as { id: string; variant_id: string }[]).find((l) => l.variant_id === v)!;
      const fixed = await call(t.app, { method: 'PATCH', url: `/api/carts/${cartId}/lines/${line.id}`, pk: shop.pk, body: { quantity: 2 } });
      assert.deepEqual(fixed.json.warnings, []);
      const more = await call(t.app, { method: 'POST', url: `/api/carts/${cartId}/lines`, pk: shop.pk, body: { variant_id: v, quantity: 1 } });
      assert.deepEqual((more.json.warnings as { code: string; pointer: string }[]).map((x) => [x.code, x.pointer]), [['insufficient_stock', '/body/quantity']]);
      // Checkout decides, and points into its own request.
      const byCart = await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: cartId, payment: SUCCESS } });
      assert.deepEqual(problemOf(byCart), { status: 409, code: 'insufficient_stock' });
      assert.deepEqual((byCart.json.errors as { pointer: string }[]).map((e) => e.pointer), ['/body/cart_id']);
      const byLines = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }, { variant_id: v, quantity: 5 }], payment: SUCCESS } });
      assert.deepEqual((byLines.json.errors as { pointer: string }[]).map((e) => e.pointer), ['/body/lines/1/quantity']);
    });

    test('bad orders get a clear code and change nothing', async () => {
      const other = await createShop(t.app);
      const foreign = await seedCatalogue(t.app, other);
      const cartId = await guestCart([{ variant_id: cat.v.MUG!, quantity: 1 }]);
      const snapshot = async () => [await n(t.db, 'orders', shop.tenantId), await n(t.db, 'payments', shop.tenantId), await stockOf(t.db, shop.tenantId, cat.v.MUG!), await timesUsed(t.db, shop.tenantId, 'TENOFF')];
      const before = await snapshot();
      const cases: [string, Parameters<typeof call>[1], number, string][] = [
        ['negative quantity', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: -1 }], payment: SUCCESS } }, 400, 'validation_failed'],
        ['absurd quantity', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1e9 }], payment: SUCCESS } }, 400, 'validation_failed'],
        ['unknown variant', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: 'var_01aaaaaaaaaaaaaaaaaaaaaaaa', quantity: 1 }], payment: SUCCESS } }, 422, 'unknown_variant'],
        ["another shop's variant", { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: foreign.v.MUG, quantity: 1 }], payment: SUCCESS } }, 422, 'unknown_variant'],
        ['a price from the client', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1, unit_price: 1 }], payment: SUCCESS } }, 400, 'validation_failed'],
        ['a total from the client', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], total: 1, payment: SUCCESS } }, 400, 'validation_failed'],
        ['an expired code', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], discount_code: 'OLD', payment: SUCCESS } }, 422, 'discount_expired'],
        ['an unknown code', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], discount_code: 'NOPE', payment: SUCCESS } }, 422, 'unknown_discount_code'],
        ['below the minimum', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }], discount_code: 'FIVER', payment: SUCCESS } }, 422, 'discount_min_subtotal_not_met'],
        ['more than in stock', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 10_000 }], payment: SUCCESS } }, 409, 'insufficient_stock'],
        ['a shopper ordering lines', { method: 'POST', url: '/api/orders', pk: shop.pk, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], payment: SUCCESS } }, 403, 'lines_need_secret_key'],
        ["another shop's cart", { method: 'POST', url: '/api/orders', pk: other.pk, body: { cart_id: cartId, payment: SUCCESS } }, 404, 'resource_not_found'],
        ['a provider not enabled', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], payment: { provider: 'stripe' } } }, 422, 'payment_provider_unavailable'],
        ['neither cart nor lines', { method: 'POST', url: '/api/orders', token: shop.token, body: { payment: SUCCESS } }, 422, 'invalid_checkout'],
        ['shipping without an address', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], shipping_method_id: cat.shipFlat, payment: SUCCESS } }, 422, 'shipping_address_required'],
        ['shipping where it does not go', { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], shipping_method_id: cat.shipWeight, shipping_address: { ...ADDRESS_DE, country: 'FR' }, payment: SUCCESS } }, 422, 'shipping_not_available'],
      ];
      for (const [name, c, status, code] of cases) assert.deepEqual(problemOf(await call(t.app, c)), { status, code }, name);
      assert.deepEqual(await snapshot(), before, 'nothing was written');
      assert.equal((await call(t.app, { url: `/api/carts/${cartId}`, pk: shop.pk })).json.status, 'open', 'the cart can still be ordered');
    });

    test('a declined card cancels the attempt and gives back everything it took: stock, discount use, cart; nothing is announced', async () => {
      const cartId = await guestCart([{ variant_id: cat.v.MUG!, quantity: 2 }], { discount_code: 'TENOFF' });
      const stock = await stockOf(t.db, shop.tenantId, cat.v.MUG!);
      const used = await timesUsed(t.db, shop.tenantId, 'TENOFF');
      const events = await orderEventCount(t.db, shop.tenantId);
      const orders = await n(t.db, 'orders', shop.tenantId);
      for (const [payment, status, code] of [
        [DECLINE, 402, 'payment_declined'],
        [{ provider: 'test', card_number: '4111111111111111' }, 422, 'invalid_test_card'],
      ] as const) {
        assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: cartId, payment } })), { status, code });
        assert.equal(await stockOf(t.db, shop.tenantId, cat.v.MUG!), stock, 'stock is back');
        assert.equal(await timesUsed(t.db, shop.tenantId, 'TENOFF'), used, 'the discount use is back');
        assert.equal((await call(t.app, { url: `/api/carts/${cartId}`, pk: shop.pk })).json.status, 'open', 'the cart can be paid another way');
        assert.equal(await orderEventCount(t.db, shop.tenantId), events, 'no order.created, no order.cancelled');
      }
      // The attempts are kept for staff, cancelled, with why.
      const attempts = await call(t.app, { url: '/api/orders?status=cancelled&limit=2', token: shop.token });
      assert.equal(await n(t.db, 'orders', shop.tenantId), orders + 2);
      const last = (attempts.json.data ?? [])[0]!;
      assert.equal((last.payments as { status: string }[])[0]?.status, 'failed');
      const log = await call(t.app, { url: `/api/orders/${last.id}/events`, token: shop.token });
      assert.ok((log.json.data ?? []).some((e) => e.type === 'payment.failed' && (e.data as { code: string }).code === 'invalid_test_card'));
      const ok = await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: cartId, payment: SUCCESS } });
      assert.equal(ok.statusCode, 201, ok.body);
      assert.equal(ok.json.discount_total, 240);
      assert.equal(await stockOf(t.db, shop.tenantId, cat.v.MUG!), stock - 2);
    });

    for (const step of CHECKOUT_STEPS) {
      test(`a failure at step "${step}" leaves nothing behind: no stock taken, no discount used, no payment, no order`, async () => {
        const cartId = await guestCart([{ variant_id: cat.v.MUG!, quantity: 1 }, { variant_id: cat.v.LAMP!, quantity: 1 }], { discount_code: 'TENOFF' });
        const tables = ['orders', 'order_lines', 'payments', 'outbox_events', 'inventory_ledger', 'reservations'] as const;
        const before = await Promise.all(tables.map((x) => n(t.db, x, shop.tenantId)));
        const stock = [await stockOf(t.db, shop.tenantId, cat.v.MUG!), await stockOf(t.db, shop.tenantId, cat.v.LAMP!)];
        const used = await timesUsed(t.db, shop.tenantId, 'TENOFF');
        failAt = step;
        try {
          const r = await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: cartId, payment: SUCCESS } });
          assert.deepEqual(problemOf(r), { status: 500, code: 'internal_error' });
          assert.doesNotMatch(r.body, /injected/, 'no internals in the answer');
        } finally {
          failAt = null;
        }
        assert.deepEqual(await Promise.all(tables.map((x) => n(t.db, x, shop.tenantId))), before);
        assert.deepEqual([await stockOf(t.db, shop.tenantId, cat.v.MUG!), await stockOf(t.db, shop.tenantId, cat.v.LAMP!)], stock);
        assert.equal(await timesUsed(t.db, shop.tenantId, 'TENOFF'), used);
        assert.equal((await call(t.app, { url: `/api/carts/${cartId}`, pk: shop.pk })).json.status, 'open');
        // And the same cart then checks out fine.
        assert.equal((await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: cartId, payment: SUCCESS } })).statusCode, 201);
      });
    }

    test('no oversell: stock 5, 50 concurrent checkouts → exactly 5 orders and stock 0', async () => {
      const p = await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title: 'Limited Print', status: 'active', variants: [{ sku: 'PRINT-1', price: 2500, stock: 5 }] } });
      const variant = (p.json.variants as { id: string }[])[0]!.id;
      const results = await Promise.all(
        Array.from({ length: 50 }, () => call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: variant, quantity: 1 }], payment: SUCCESS } })),
      );
      const ok = results.filter((r) => r.statusCode === 201);
      assert.equal(ok.length, 5, results.map((r) => r.statusCode).join(','));
      for (const r of results.filter((r) => r.statusCode !== 201)) assert.deepEqual(problemOf(r), { status: 409, code: 'insufficient_stock' });
      assert.equal(await stockOf(t.db, shop.tenantId, variant), 0);
      const sold = await t.db.selectFrom('order_lines').select((eb) => eb.fn.sum<number>('quantity').as('q')).where('tenant_id', '=', shop.tenantId).where('variant_id', '=', variant).executeTakeFirstOrThrow();
      assert.equal(Number(sold.q), 5);
      const low = await t.db.selectFrom('outbox_events').select('id').where('tenant_id', '=', shop.tenantId).where('type', '=', 'inventory.low').where('aggregate_id', '=', variant).execute();
      assert.ok(low.length >= 1, 'inventory.low was emitted');
    });

    test('a single-use code redeemed by 20 parallel checkouts: exactly one succeeds', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }], discount_code: 'ONCE', payment: SUCCESS } })),
      );
      const ok = results.filter((r) => r.statusCode === 201);
      assert.equal(ok.length, 1, results.map((r) => `${r.statusCode}:${r.json.code ?? ''}`).join(','));
      for (const r of results.filter((r) => r.statusCode !== 201)) assert.ok(['discount_usage_limit_reached'].includes(problemOf(r).code));
      assert.equal(await timesUsed(t.db, shop.tenantId, 'ONCE'), 1);
    });

    test('a per-customer limit holds for that customer only', async () => {
      const first = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }], email: 'a@example.com', discount_code: 'ONEEACH', payment: SUCCESS } });
      assert.equal(first.statusCode, 201, first.body);
      const again = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }], email: 'A@example.com', discount_code: 'ONEEACH', payment: SUCCESS } });
      assert.equal(problemOf(again).code, 'discount_customer_limit_reached');
      const someoneElse = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }], email: 'b@example.com', discount_code: 'ONEEACH', payment: SUCCESS } });
      assert.equal(someoneElse.statusCode, 201);
    });

    test('a guest cart merges into the customer’s cart on login; customers see only their own orders', async () => {
      await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email: 'cara@example.com', password: PASSWORD } });
      let li = await call(t.app, { method: 'POST', url: '/api/customers/login', pk: shop.pk, body: { email: 'cara@example.com', password: PASSWORD } });
      const token = li.json.access_token as string;
      const mine = await call(t.app, { method: 'POST', url: '/api/carts', token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }] } });
      assert.equal(mine.json.customer_id !== null, true);
      const guest = await guestCart([{ variant_id: cat.v.MUG!, quantity: 2 }, { variant_id: cat.v.NOTE!, quantity: 1 }]);
      li = await call(t.app, { method: 'POST', url: '/api/customers/login', pk: shop.pk, body: { email: 'cara@example.com', password: PASSWORD, cart_id: guest } });
      assert.equal(li.json.cart_id, mine.json.id);
      const merged = await call(t.app, { url: `/api/carts/${mine.json.id}`, token: li.json.access_token as string });
      assert.deepEqual((merged.json.lines as { variant_id: string; quantity: number }[]).map((l) => [l.variant_id, l.quantity]).sort(), [[cat.v.MUG, 3], [cat.v.NOTE, 1]].sort());
      assert.equal((await call(t.app, { url: `/api/carts/${guest}`, pk: shop.pk })).json.status, 'merged');
      // The guest cart is not the shopper's to read once it belongs to nobody-anonymous; another customer cannot see Cara's cart.
      await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email: 'dan@example.com', password: PASSWORD } });
      const dan = (await call(t.app, { method: 'POST', url: '/api/customers/login', pk: shop.pk, body: { email: 'dan@example.com', password: PASSWORD } })).json.access_token as string;
      assert.equal(problemOf(await call(t.app, { url: `/api/carts/${mine.json.id}`, token: dan })).status, 404);
      assert.equal(problemOf(await call(t.app, { url: `/api/carts/${mine.json.id}`, pk: shop.pk })).status, 404);

      const order = await call(t.app, { method: 'POST', url: '/api/orders', token: li.json.access_token as string, body: { cart_id: mine.json.id, payment: SUCCESS } });
      assert.equal(order.statusCode, 201, order.body);
      assert.equal(order.json.email, 'cara@example.com');
      const caraOrders = await call(t.app, { url: '/api/orders', token: li.json.access_token as string });
      assert.deepEqual((caraOrders.json.data ?? []).map((o) => o.id), [order.json.id]);
      assert.equal(problemOf(await call(t.app, { url: `/api/orders/${order.json.id}`, token: dan })).status, 404);
      assert.deepEqual((await call(t.app, { url: '/api/orders', token: dan })).json.data, []);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/orders/${order.json.id}/cancel`, token: li.json.access_token as string })).code, 'principal_not_allowed');
    });

    test("another shop's staff cannot see or act on this shop's orders, carts, discounts or rates", async () => {
      const other = await createShop(t.app);
      const o = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }], payment: { provider: 'manual' } } });
      const cartId = await guestCart([{ variant_id: cat.v.NOTE!, quantity: 1 }]);
      const disc = (await call(t.app, { url: '/api/discounts', token: shop.token })).json.data?.[0]?.id;
      const rate = (await call(t.app, { url: '/api/tax-rates', token: shop.token })).json.data?.[0]?.id;
      for (const [method, url, body] of [
        ['GET', `/api/orders/${o.json.id}`, undefined],
        ['GET', `/api/orders/${o.json.id}/events`, undefined],
        ['POST', `/api/orders/${o.json.id}/capture`, undefined],
        ['POST', `/api/orders/${o.json.id}/cancel`, {}],
        ['POST', `/api/orders/${o.json.id}/refunds`, { amount: 1 }],
        ['POST', `/api/orders/${o.json.id}/fulfillments`, { carrier: 'X', tracking_number: '1' }],
        ['GET', `/api/carts/${cartId}`, undefined],
        ['PATCH', `/api/carts/${cartId}`, { email: 'x@example.com' }],
        ['GET', `/api/discounts/${disc}`, undefined],
        ['PATCH', `/api/discounts/${disc}`, { status: 'disabled' }],
        ['PATCH', `/api/tax-rates/${rate}`, { rate_bp: 0 }],
        ['PATCH', `/api/shipping-methods/${cat.shipFlat}`, { amount: 0 }],
      ] as const) {
        assert.equal(problemOf(await call(t.app, { method, url, token: other.token, body })).status, 404, `${method} ${url}`);
      }
      assert.ok(!((await call(t.app, { url: '/api/orders?limit=100', token: other.token })).json.data ?? []).some((x) => x.id === o.json.id));
      assert.equal((await call(t.app, { url: `/api/orders/${o.json.id}`, token: shop.token })).json.status, 'pending_payment');
    });
  });
}
