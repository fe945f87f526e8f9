import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../src/db/database.ts';
import type { Clock } from '../src/lib/clock.ts';
import { OutsideCallInTransaction } from '../src/lib/outside.ts';
import { sendOnce } from '../src/modules/email/email.service.ts';
import { attemptDelivery } from '../src/modules/webhooks/webhooks.service.ts';
import type { CheckoutStep } from '../src/workflows/checkout.ts';
import { reconcilePayments } from '../src/workflows/order-actions.ts';
import { call, createShop, engines, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';
import { SUCCESS, seedCatalogue, type Catalogue } from './commerce-helpers.ts';
import { startFakeStripe, type FakeStripe } from './fake-stripe.ts';

const STRIPE_ENV = { PAYMENT_PROVIDERS: 'manual,test,stripe', STRIPE_SECRET_KEY: 'sk_test_fake', STRIPE_WEBHOOK_SECRET: 'whsec_outside_calls' };
/** The reconciliation job as it runs ten minutes from now, when every lease of a request has run out. */
const later: Clock = { now: () => new Date(Date.now() + 10 * 60_000) };

async function stockOf(db: Db, tenantId: string, variantId: string): Promise<number> {
  const r = await db.selectFrom('stock_levels').select((eb) => eb.fn.sum<number>('available').as('s')).where('tenant_id', '=', tenantId).where('variant_id', '=', variantId).executeTakeFirstOrThrow();
  return Number(r.s);
}

async function ordersOf(db: Db, tenantId: string) {
  return db.selectFrom('orders').select(['id', 'status', 'amount_paid', 'amount_refunded', 'cart_id']).where('tenant_id', '=', tenantId).orderBy('id').execute();
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const engine of engines()) {
  describe(`outside calls never hold the database [${engine.name}]`, () => {
    let fake: FakeStripe;
    let t: TestApp;
    let a: Shop;
    let b: Shop;
    let ca: Catalogue;
    let cb: Catalogue;
    let crashAt: CheckoutStep | null = null;
    before(async () => {
      fake = await startFakeStripe();
      t = await startApp(engine, {
        env: { ...STRIPE_ENV, STRIPE_API_URL: fake.url, PAYMENT_TIMEOUT_MS: '700', PAYMENT_BREAKER_FAILURES: '1000' },
        checkoutProbe: (step) => {
          if (step === crashAt) throw new Error(`simulated crash at ${step}`);
        },
      });
      a = await createShop(t.app);
      b = await createShop(t.app);
      ca = await seedCatalogue(t.app, a);
      cb = await seedCatalogue(t.app, b);
    });
    after(async () => {
      await t.close();
      await fake.close();
    });
    const reconcile = () => reconcilePayments(t.db, later, t.app.payments, t.app.log);
    const stripeOrder = (shop: Shop, cat: Catalogue, headers: Record<string, string> = {}) =>
      call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, headers, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], email: 'p@example.com', payment: { provider: 'stripe' } } });

    test('the provider wrapper, SMTP and webhook delivery refuse to run inside a transaction', async () => {
      await assert.rejects(
        t.db.transaction().execute((trx) => t.app.payments.call(trx, 'test', 'authorize', (p) => p.authorize({ paymentId: 'pay_x', tenantId: a.tenantId, orderId: 'ord_x', amount: 100, currency: 'EUR', cardNumber: SUCCESS.card_number }))),
        OutsideCallInTransaction,
      );
      const mailer = { send: async () => ({ messageId: 'never' }) };
      await assert.rejects(
        t.db.transaction().execute((trx) => sendOnce(trx as unknown as Db, t.app.payments as never, mailer as never, { tenantId: a.tenantId, key: 'k', template: 't', to: 'x@example.com', fromName: 'A', rendered: { subject: 's', text: 't', html: 'h' } })),
        OutsideCallInTransaction,
      );
      await assert.rejects(
        t.db.transaction().execute((trx) => attemptDelivery(trx as unknown as Db, later, a.tenantId, 'whd_x', 1, { allowPrivate: true })),
        OutsideCallInTransaction,
      );
      // Outside a transaction the same call goes through.
      const r = await t.app.payments.call(t.db, 'test', 'authorize', (p) => p.authorize({ paymentId: 'pay_x', tenantId: a.tenantId, orderId: 'ord_x', amount: 100, currency: 'EUR', cardNumber: SUCCESS.card_number }));
      assert.equal(r.status, 'captured');
    });

    test("while shop A's provider hangs, shop B reads and checks out, and so does A's own staff", async () => {
      fake.behaviour.hold = true;
      const pending = Array.from({ length: 4 }, () => stripeOrder(a, ca));
      try {
        await until('four checkouts at the provider', () => fake.held() === 4);
        const list = await call(t.app, { url: '/api/orders?limit=5', token: b.token });
        assert.equal(list.statusCode, 200);
        const bOrder = await call(t.app, { method: 'POST', url: '/api/orders', token: b.token, body: { lines: [{ variant_id: cb.v.NOTE, quantity: 1 }], payment: SUCCESS } });
        assert.equal(bOrder.statusCode, 201, bOrder.body);
        assert.equal(bOrder.json.status, 'paid');
        const aList = await call(t.app, { url: '/api/orders?status=pending_payment&limit=10', token: a.token });
        assert.equal(aList.statusCode, 200);
        assert.equal(fake.held(), 4, "A's provider calls were still open the whole time");
      } finally {
        fake.release();
      }
      for (const r of await Promise.all(pending)) {
        assert.equal(r.statusCode, 201, r.body);
        assert.equal(r.json.status, 'pending_payment');
        assert.match(String((r.json.payments as { client_secret: string }[])[0]?.client_secret), /_secret_/);
      }
    });

    for (const [name, setup] of [
      ['times out', () => Object.assign(fake.behaviour, { delayMs: 1500 })],
      ['keeps failing with 500', () => Object.assign(fake.behaviour, { fail: { status: 500, count: 5, afterEffect: true } })],
    ] as const) {
      test(`a provider that ${name}: 503 with Retry-After, nothing ordered, and what it made is voided by reconciliation`, async () => {
        const stock = await stockOf(t.db, a.tenantId, ca.v.MUG!);
        setup();
        let r;
        try {
          r = await stripeOrder(a, ca);
        } finally {
          Object.assign(fake.behaviour, { delayMs: 0, fail: null });
        }
        assert.deepEqual(problemOf(r), { status: 503, code: 'payment_provider_unavailable' });
        assert.ok(Number(r.headers['retry-after']) >= 1);
        assert.equal(await stockOf(t.db, a.tenantId, ca.v.MUG!), stock, 'stock released');
        const o = (await ordersOf(t.db, a.tenantId)).at(-1)!;
        assert.equal(o.status, 'cancelled');
        // The provider made an intent after all; the void (due at once) cancels it when it answers again.
        await until('the late intent', () => [...fake.intents.values()].some((pi) => (pi.metadata as Record<string, string>).order_id === o.id));
        await reconcilePayments(t.db, { now: () => new Date() }, t.app.payments, t.app.log);
        const pi = [...fake.intents.values()].find((x) => (x.metadata as Record<string, string>).order_id === o.id)!;
        assert.equal(pi.status, 'canceled');
        const left = await t.db.selectFrom('payment_actions').select(['kind', 'status']).where('tenant_id', '=', a.tenantId).where('order_id', '=', o.id).orderBy('id').execute();
        assert.deepEqual(left, [
          { kind: 'checkout', status: 'failed' },
          { kind: 'void', status: 'succeeded' },
        ]);
      });
    }

    test('a crash after the intent: the retry with the same key resumes and gets the one order', async () => {
      const cart = await call(t.app, { method: 'POST', url: '/api/carts', pk: a.pk, body: { email: 'r@example.com', lines: [{ variant_id: ca.v.LAMP, quantity: 1 }] } });
      const body = { cart_id: cart.json.id, payment: SUCCESS };
      const headers = { 'idempotency-key': 'crash-after-intent' };
      crashAt = 'after_intent';
      let first;
      try {
        first = await call(t.app, { method: 'POST', url: '/api/orders', pk: a.pk, body, headers });
      } finally {
        crashAt = null;
      }
      assert.equal(first.statusCode, 500);
      const placed = (await ordersOf(t.db, a.tenantId)).filter((o) => o.cart_id === cart.json.id);
      assert.equal(placed.length, 1);
      assert.equal(placed[0]!.status, 'pending_payment');
      const retry = await call(t.app, { method: 'POST', url: '/api/orders', pk: a.pk, body, headers });
      assert.equal(retry.statusCode, 201, retry.body);
      assert.equal(retry.json.id, placed[0]!.id, 'the retry answers with the order the first attempt made');
      assert.equal(retry.json.status, 'paid');
      const again = await call(t.app, { method: 'POST', url: '/api/orders', pk: a.pk, body, headers });
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.body, retry.body);
      assert.equal((await ordersOf(t.db, a.tenantId)).filter((o) => o.cart_id === cart.json.id).length, 1);
    });

    test('a crash after the provider answered, with nobody retrying: reconciliation settles it (test card: nothing charged; Stripe: the same intent)', async () => {
      const stock = await stockOf(t.db, a.tenantId, ca.v.LAMP!);
      crashAt = 'after_provider';
      try {
        assert.equal((await call(t.app, { method: 'POST', url: '/api/orders', token: a.token, body: { lines: [{ variant_id: ca.v.LAMP, quantity: 2 }], payment: SUCCESS } })).statusCode, 500);
        assert.equal((await stripeOrder(a, ca, { 'idempotency-key': 'stripe-crash' })).statusCode, 500);
      } finally {
        crashAt = null;
      }
      const [testOrder, stripeOrd] = (await ordersOf(t.db, a.tenantId)).slice(-2);
      assert.equal(testOrder!.status, 'pending_payment');
      assert.equal(await stockOf(t.db, a.tenantId, ca.v.LAMP!), stock - 2, 'held until settled');
      const created = fake.requests.filter((r) => r.path === '/v1/payment_intents').length;
      const out = await reconcile();
      assert.ok(out.settled >= 2, JSON.stringify(out));
      const after = new Map((await ordersOf(t.db, a.tenantId)).map((o) => [o.id, o]));
      assert.equal(after.get(testOrder!.id)!.status, 'cancelled');
      assert.equal(await stockOf(t.db, a.tenantId, ca.v.LAMP!), stock, 'stock back');
      // Stripe: asked again with the same idempotency key, it answered with the intent it had made — not a new one.
      assert.equal(fake.requests.filter((r) => r.path === '/v1/payment_intents').length, created + 1);
      assert.equal(fake.intents.size, new Set([...fake.intents.values()].map((pi) => (pi.metadata as Record<string, string>).payment_id)).size);
      const so = await call(t.app, { url: `/api/orders/${stripeOrd!.id}`, token: a.token });
      assert.equal(so.json.status, 'pending_payment');
      const payment = (so.json.payments as { status: string; provider_ref: string }[])[0]!;
      assert.equal(payment.status, 'requires_action');
      assert.ok(fake.intents.has(payment.provider_ref));
      const created_events = await t.db.selectFrom('outbox_events').select('type').where('tenant_id', '=', a.tenantId).where('aggregate_id', '=', stripeOrd!.id).where('type', 'like', 'order.%').execute();
      assert.deepEqual(created_events.map((e) => e.type), ['order.created']);
      // The shopper's retry now gets the order, with the secret to confirm it.
      const retry = await stripeOrder(a, ca, { 'idempotency-key': 'stripe-crash' });
      assert.equal(retry.statusCode, 201, retry.body);
      assert.equal(retry.json.id, stripeOrd!.id);
    });

    test('a refund whose answer is lost stays pending and is settled by reconciliation; a refused refund gives its amount back; one money action per order at a time', async () => {
      const o = (await stripeOrder(a, ca)).json as { id: string; total: number; payments: { provider_ref: string }[] };
      Object.assign(fake.intents.get(o.payments[0]!.provider_ref)!, { status: 'requires_capture' });
      const cap = await call(t.app, { method: 'POST', url: `/api/orders/${o.id}/capture`, token: a.token });
      assert.equal(cap.json.status, 'paid', cap.body);

      fake.behaviour.fail = { status: 500, count: 2, afterEffect: true };
      const lost = await call(t.app, { method: 'POST', url: `/api/orders/${o.id}/refunds`, token: a.token, body: { amount: 300 } });
      fake.behaviour.fail = null;
      assert.deepEqual(problemOf(lost), { status: 503, code: 'payment_provider_unavailable' });
      let now = await call(t.app, { url: `/api/orders/${o.id}`, token: a.token });
      assert.equal(now.json.amount_refunded, 0, 'not refunded until the provider confirms');
      assert.deepEqual((now.json.refunds as { status: string; amount: number }[]).map((r) => [r.status, r.amount]), [['pending', 300]]);
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: `/api/orders/${o.id}/refunds`, token: a.token, body: { amount: 100 } })), { status: 409, code: 'order_action_in_progress' });

      await reconcile();
      now = await call(t.app, { url: `/api/orders/${o.id}`, token: a.token });
      assert.equal(now.json.status, 'partially_refunded');
      assert.equal(now.json.amount_refunded, 300);
      assert.deepEqual((now.json.refunds as { status: string }[]).map((r) => r.status), ['succeeded']);
      const atStripe = [...fake.refunds.values()].filter((r) => r.payment_intent === o.payments[0]!.provider_ref);
      assert.deepEqual(atStripe.map((r) => r.amount), [300], 'made once at the provider, though asked twice');

      fake.behaviour.declineRefunds = true;
      try {
        const refused = await call(t.app, { method: 'POST', url: `/api/orders/${o.id}/refunds`, token: a.token, body: { amount: 200 } });
        assert.deepEqual(problemOf(refused), { status: 502, code: 'payment_provider_error' });
      } finally {
        fake.behaviour.declineRefunds = false;
      }
      now = await call(t.app, { url: `/api/orders/${o.id}`, token: a.token });
      assert.equal(now.json.amount_refunded, 300);
      assert.deepEqual((now.json.refunds as { status: string }[]).map((r) => r.status), ['succeeded', 'failed']);
      const pay = await t.db.selectFrom('payments').select(['amount_refunded', 'amount_captured']).where('tenant_id', '=', a.tenantId).where('order_id', '=', o.id).executeTakeFirstOrThrow();
      assert.equal(Number(pay.amount_refunded), 300, 'the refused amount went back to the payment');
      // Money and state agree: the rest can still be refunded.
      const rest = await call(t.app, { method: 'POST', url: `/api/orders/${o.id}/refunds`, token: a.token, body: { amount: o.total - 300 } });
      assert.equal(rest.json.status, 'refunded', rest.body);
    });
  });

  describe(`a failing provider's circuit opens [${engine.name}]`, () => {
    let fake: FakeStripe;
    let t: TestApp;
    let shop: Shop;
    let cat: Catalogue;
    before(async () => {
      fake = await startFakeStripe();
      t = await startApp(engine, { env: { ...STRIPE_ENV, STRIPE_API_URL: fake.url, PAYMENT_BREAKER_FAILURES: '2', PAYMENT_BREAKER_OPEN_SECONDS: '1' } });
      shop = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop);
    });
    after(async () => {
      await t.close();
      await fake.close();
    });

    test('after consecutive failures calls fail fast without reaching the provider, other providers keep working, and it closes again', async () => {
      const order = (provider: 'stripe' | 'test') => call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }], email: 'c@example.com', payment: provider === 'stripe' ? { provider } : SUCCESS } });
      fake.behaviour.fail = { status: 500, count: 1000, afterEffect: false };
      assert.equal(problemOf(await order('stripe')).status, 503);
      assert.equal(problemOf(await order('stripe')).status, 503);
      const before = fake.requests.length;
      const fast = await order('stripe');
      assert.deepEqual(problemOf(fast), { status: 503, code: 'payment_provider_unavailable' });
      assert.match(String(fast.json.detail), /not called/);
      assert.equal(fake.requests.length, before, 'the open circuit did not call the provider');
      assert.equal((await order('test')).statusCode, 201, 'the test provider has its own circuit');
      fake.behaviour.fail = null;
      await new Promise((r) => setTimeout(r, 1100));
      const ok = await order('stripe');
      assert.equal(ok.statusCode, 201, ok.body);
    });
  });
}
