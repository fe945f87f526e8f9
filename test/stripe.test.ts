import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Stripe from 'stripe';
import { call, createShop, engines, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';
import { seedCatalogue, type Catalogue } from './commerce-helpers.ts';
import { startFakeStripe, type FakeStripe } from './fake-stripe.ts';

const WEBHOOK_SECRET = 'whsec_test_secret_for_stockroom';
const stripe = new Stripe('sk_test_fake');

for (const engine of engines()) {
  describe(`Stripe payments through the official SDK [${engine.name}]`, () => {
    let fake: FakeStripe;
    let t: TestApp;
    let shop: Shop;
    let cat: Catalogue;
    before(async () => {
      fake = await startFakeStripe();
      t = await startApp(engine, { env: { PAYMENT_PROVIDERS: 'manual,test,stripe', STRIPE_SECRET_KEY: 'sk_test_fake', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_URL: fake.url } });
      shop = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop);
    });
    after(async () => {
      await t.close();
      await fake.close();
    });

    const checkout = async () => {
      const r = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], email: 'p@example.com', payment: { provider: 'stripe' } } });
      assert.equal(r.statusCode, 201, r.body);
      return r.json as { id: string; total: number; status: string; payments: { id: string; provider_ref: string; client_secret: string; status: string }[] };
    };
    const webhook = async (type: string, object: Record<string, unknown>, id = `evt_${Math.random().toString(36).slice(2)}`, secret = WEBHOOK_SECRET) => {
      const payload = JSON.stringify({ id, object: 'event', type, api_version: '2025-01-01', created: Math.floor(Date.now() / 1000), data: { object } });
      const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
      return call(t.app, { method: 'POST', url: '/api/payments/stripe/webhook', body: payload, headers: { 'content-type': 'application/json', 'stripe-signature': header } });
    };
    const order = (id: string) => call(t.app, { url: `/api/orders/${id}`, token: shop.token });

    test('checkout creates a PaymentIntent (manual capture, metadata, idempotency key) and returns its client_secret', async () => {
      const o = await checkout();
      assert.equal(o.status, 'pending_payment');
      const p = o.payments[0]!;
      assert.match(p.provider_ref, /^pi_fake_/);
      assert.match(p.client_secret, /_secret_/);
      const req = fake.requests.find((r) => r.path === '/v1/payment_intents')!;
      assert.equal(req.form.get('amount'), String(o.total));
      assert.equal(req.form.get('capture_method'), 'manual');
      assert.equal(req.form.get('metadata[order_id]'), o.id);
      assert.equal(req.form.get('metadata[tenant_id]'), shop.tenantId);
      assert.equal(req.idempotencyKey, `pay-${p.id}`);
    });

    test('a signed payment_intent.succeeded marks the order paid; the replayed event has no second effect', async () => {
      const o = await checkout();
      const pi = fake.intents.get(o.payments[0]!.provider_ref)!;
      const object = { ...pi, status: 'succeeded', amount_received: o.total };
      const first = await webhook('payment_intent.succeeded', object, 'evt_paid_1');
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json.outcome, 'applied');
      const paid = await order(o.id);
      assert.equal(paid.json.status, 'paid');
      assert.equal(paid.json.amount_paid, o.total);
      const replay = await webhook('payment_intent.succeeded', object, 'evt_paid_1');
      assert.equal(replay.json.outcome, 'duplicate');
      const again = await order(o.id);
      assert.equal(again.json.amount_paid, o.total);
      assert.equal(again.json.version, paid.json.version);
      const paidEvents = await t.db.selectFrom('outbox_events').select('id').where('tenant_id', '=', shop.tenantId).where('aggregate_id', '=', o.id).where('type', '=', 'order.paid').execute();
      assert.equal(paidEvents.length, 1);
    });

    test('staff capture calls Stripe; a refund goes through Stripe and never exceeds what was paid', async () => {
      const o = await checkout();
      await webhook('payment_intent.amount_capturable_updated', { ...fake.intents.get(o.payments[0]!.provider_ref)!, status: 'requires_capture' });
      assert.equal((await order(o.id)).json.payments && ((await order(o.id)).json.payments as { status: string }[])[0]?.status, 'authorized');
      const cap = await call(t.app, { method: 'POST', url: `/api/orders/${o.id}/capture`, token: shop.token });
      assert.equal(cap.json.status, 'paid');
      assert.ok(fake.requests.some((r) => r.path === `/v1/payment_intents/${o.payments[0]!.provider_ref}/capture`));
      const refund = await call(t.app, { method: 'POST', url: `/api/orders/${o.id}/refunds`, token: shop.token, body: { amount: 300 } });
      assert.equal(refund.json.status, 'partially_refunded');
      const rr = fake.requests.filter((r) => r.path === '/v1/refunds').at(-1)!;
      assert.equal(rr.form.get('amount'), '300');
      assert.equal(rr.form.get('payment_intent'), o.payments[0]!.provider_ref);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/orders/${o.id}/refunds`, token: shop.token, body: { amount: o.total } })).code, 'refund_exceeds_payment');
      // A refund made in the Stripe dashboard arrives as charge.refunded and is applied once.
      const charge = { id: 'ch_fake_1', object: 'charge', payment_intent: o.payments[0]!.provider_ref, amount_refunded: 500, metadata: { tenant_id: shop.tenantId } };
      assert.equal((await webhook('charge.refunded', charge, 'evt_refund_1')).json.outcome, 'applied');
      assert.equal((await webhook('charge.refunded', charge, 'evt_refund_1')).json.outcome, 'duplicate');
      assert.equal((await order(o.id)).json.amount_refunded, 500);
    });

    test('a failed payment is recorded; forged or unsigned webhooks are refused', async () => {
      const o = await checkout();
      const pi = { ...fake.intents.get(o.payments[0]!.provider_ref)!, status: 'requires_payment_method', last_payment_error: { message: 'Your card was declined.' } };
      assert.equal((await webhook('payment_intent.payment_failed', pi)).json.outcome, 'applied');
      const after = await order(o.id);
      assert.equal((after.json.payments as { status: string; failure_reason: string }[])[0]?.status, 'failed');
      assert.equal(after.json.status, 'pending_payment');
      assert.deepEqual(problemOf(await webhook('payment_intent.succeeded', { ...pi, status: 'succeeded', amount_received: o.total }, 'evt_forged', 'whsec_wrong')), { status: 400, code: 'invalid_signature' });
      const unsigned = await call(t.app, { method: 'POST', url: '/api/payments/stripe/webhook', body: '{"id":"evt_x"}', headers: { 'content-type': 'application/json' } });
      assert.deepEqual(problemOf(unsigned), { status: 400, code: 'invalid_signature' });
      assert.equal((await order(o.id)).json.status, 'pending_payment');
    });

    test('cancelling an unpaid Stripe order cancels its PaymentIntent', async () => {
      const o = await checkout();
      const c = await call(t.app, { method: 'POST', url: `/api/orders/${o.id}/cancel`, token: shop.token });
      assert.equal(c.json.status, 'cancelled');
      assert.equal(fake.intents.get(o.payments[0]!.provider_ref)!.status, 'canceled');
    });
  });
}
