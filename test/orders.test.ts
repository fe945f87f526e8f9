import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OrderStatus } from '../src/db/schema.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { ORDER_STATUSES, TRANSITIONS, canTransition } from '../src/modules/orders/state.ts';
import { expireReservations } from '../src/workflows/order-actions.ts';
import { call, createShop, engines, login, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';
import { ACTION, SUCCESS, seedCatalogue, type Catalogue } from './commerce-helpers.ts';

describe('order state machine (as data)', () => {
  const legal: [OrderStatus, OrderStatus][] = [
    ['pending_payment', 'paid'], ['pending_payment', 'cancelled'],
    ['paid', 'partially_fulfilled'], ['paid', 'fulfilled'], ['paid', 'cancelled'], ['paid', 'partially_refunded'], ['paid', 'refunded'],
    ['partially_fulfilled', 'partially_fulfilled'], ['partially_fulfilled', 'fulfilled'], ['partially_fulfilled', 'partially_refunded'], ['partially_fulfilled', 'refunded'],
    ['fulfilled', 'completed'], ['fulfilled', 'partially_refunded'], ['fulfilled', 'refunded'],
    ['completed', 'partially_refunded'], ['completed', 'refunded'],
    ['partially_refunded', 'partially_refunded'], ['partially_refunded', 'refunded'], ['partially_refunded', 'partially_fulfilled'], ['partially_refunded', 'fulfilled'], ['partially_refunded', 'completed'],
  ];
  test('exactly these transitions are legal; every other pair is refused', () => {
    const key = (a: string, b: string) => `${a}→${b}`;
    const want = new Set(legal.map(([a, b]) => key(a, b)));
    for (const from of ORDER_STATUSES) for (const to of ORDER_STATUSES) assert.equal(canTransition(from, to), want.has(key(from, to)), key(from, to));
    assert.deepEqual(TRANSITIONS.cancelled, []);
    assert.deepEqual(TRANSITIONS.refunded, []);
  });
});

for (const engine of engines()) {
  describe(`order lifecycle [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let cat: Catalogue;
    const clock = new ManualClock(new Date());
    before(async () => {
      t = await startApp(engine, { clock });
      shop = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop);
    });
    after(() => t.close());

    const order = async (payment: object, lines = [{ variant_id: cat.v.MUG, quantity: 2 }, { variant_id: cat.v.NOTE, quantity: 1 }]) => {
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      const r = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines, email: 'buyer@example.com', payment } });
      assert.equal(r.statusCode, 201, r.body);
      return r.json;
    };
    const act = (id: unknown, what: string, body: object = {}) => call(t.app, { method: 'POST', url: `/api/orders/${id}/${what}`, token: shop.token, body });
    const stock = async (sku: string) =>
      Number((await t.db.selectFrom('stock_levels').select((eb) => eb.fn.sum<number>('available').as('s')).where('tenant_id', '=', shop.tenantId).where('variant_id', '=', cat.v[sku]!).executeTakeFirstOrThrow()).s);

    test('manual payment → capture → partial and full fulfilment → complete → partial and full refund', async () => {
      const o = await order({ provider: 'manual' });
      assert.equal(o.status, 'pending_payment');
      assert.equal((o.payments as { next_action: { type: string } }[])[0]?.next_action.type, 'offline_payment');
      const paid = await act(o.id, 'capture');
      assert.equal(paid.json.status, 'paid');
      assert.equal(paid.json.amount_paid, o.total);
      const lines = o.lines as { id: string; quantity: number }[];
      const part = await act(o.id, 'fulfillments', { carrier: 'DHL', tracking_number: 'JD0001', lines: [{ line_id: lines[0]!.id, quantity: 1 }] });
      assert.equal(part.json.status, 'partially_fulfilled');
      assert.deepEqual(problemOf(await act(o.id, 'fulfillments', { carrier: 'DHL', tracking_number: 'X', lines: [{ line_id: lines[0]!.id, quantity: 2 }] })), { status: 422, code: 'fulfillment_exceeds_quantity' });
      assert.deepEqual(problemOf(await act(o.id, 'complete')), { status: 409, code: 'invalid_order_transition' });
      const rest = await act(o.id, 'fulfillments', { carrier: 'DHL', tracking_number: 'JD0002' });
      assert.equal(rest.json.status, 'fulfilled');
      assert.equal((rest.json.fulfillments as unknown[]).length, 2);
      assert.equal((await act(o.id, 'complete')).json.status, 'completed');
      const r1 = await act(o.id, 'refunds', { amount: 100, reason: 'scratch' });
      assert.equal(r1.json.status, 'partially_refunded');
      assert.equal(r1.json.amount_refunded, 100);
      assert.deepEqual(problemOf(await act(o.id, 'refunds', { amount: (o.total as number) })), { status: 422, code: 'refund_exceeds_payment' });
      const r2 = await act(o.id, 'refunds', {});
      assert.equal(r2.json.status, 'refunded');
      assert.equal(r2.json.amount_refunded, o.total);
      assert.deepEqual(problemOf(await act(o.id, 'refunds', { amount: 1 })), { status: 422, code: 'refund_exceeds_payment' });
      const events = await call(t.app, { url: `/api/orders/${o.id}/events`, token: shop.token });
      assert.deepEqual((events.json.data ?? []).map((e) => e.to_status), ['pending_payment', 'paid', 'partially_fulfilled', 'fulfilled', 'completed', 'partially_refunded', 'refunded']);
      // The event log is a cursor list like every other: page by page, the same events in the same order.
      const paged: unknown[] = [];
      let cursor: string | null = null;
      do {
        const page = await call(t.app, { url: `/api/orders/${o.id}/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`, token: shop.token });
        assert.ok((page.json.data ?? []).length <= 2);
        paged.push(...(page.json.data ?? []).map((e) => e.id));
        cursor = page.json.next_cursor as string | null;
      } while (cursor);
      assert.deepEqual(paged, (events.json.data ?? []).map((e) => e.id));
      const outbox = await t.db.selectFrom('outbox_events').select('type').where('tenant_id', '=', shop.tenantId).where('aggregate_id', '=', o.id as string).where('type', 'like', 'order.%').orderBy('id').execute();
      assert.deepEqual(outbox.map((e) => e.type), ['order.created', 'order.paid', 'order.partially_fulfilled', 'order.fulfilled', 'order.completed', 'order.partially_refunded', 'order.refunded']);
      // The database refuses a refund above the payment even if code were wrong.
      await assert.rejects(t.db.updateTable('payments').set({ amount_refunded: 10 ** 9 }).where('tenant_id', '=', shop.tenantId).where('order_id', '=', o.id as string).execute());
    });

    test('illegal transitions answer 409 with a code and change nothing', async () => {
      const pending = await order({ provider: 'manual' });
      assert.deepEqual(problemOf(await act(pending.id, 'fulfillments', { carrier: 'UPS', tracking_number: '1' })), { status: 409, code: 'invalid_order_transition' });
      assert.deepEqual(problemOf(await act(pending.id, 'complete')), { status: 409, code: 'invalid_order_transition' });
      assert.deepEqual(problemOf(await act(pending.id, 'refunds', { amount: 1 })), { status: 422, code: 'refund_exceeds_payment' });
      const paid = await order(SUCCESS);
      assert.deepEqual(problemOf(await act(paid.id, 'capture')), { status: 409, code: 'invalid_order_transition' });
      await act(paid.id, 'fulfillments', { carrier: 'UPS', tracking_number: '1' });
      assert.deepEqual(problemOf(await act(paid.id, 'cancel')), { status: 409, code: 'invalid_order_transition' });
      const cancelled = await order({ provider: 'manual' });
      await act(cancelled.id, 'cancel');
      for (const what of ['capture', 'cancel', 'complete']) assert.equal(problemOf(await act(cancelled.id, what)).status, 409, what);
      assert.equal((await call(t.app, { url: `/api/orders/${cancelled.id}`, token: shop.token })).json.status, 'cancelled');
    });

    test('cancelling puts stock back (or not, if told) and refunds what was paid', async () => {
      const before = await stock('MUG');
      const pending = await order({ provider: 'manual' });
      assert.equal(await stock('MUG'), before - 2);
      const c = await act(pending.id, 'cancel', { reason: 'customer changed mind' });
      assert.equal(c.json.status, 'cancelled');
      assert.equal(await stock('MUG'), before);
      assert.equal((c.json.payments as { status: string }[])[0]?.status, 'cancelled');

      const paid = await order(SUCCESS);
      const c2 = await act(paid.id, 'cancel', { restock: false });
      assert.equal(c2.json.amount_refunded, paid.total);
      assert.equal(await stock('MUG'), before - 2, 'no restock when told not to');
      const ledger = await call(t.app, { url: `/api/inventory/ledger?reference=${pending.id}`, token: shop.token });
      assert.deepEqual((ledger.json.data ?? []).map((e) => e.reason).sort(), ['release', 'release', 'sale', 'sale']);
    });

    test('refunding returned lines with restock puts exactly those back', async () => {
      const o = await order(SUCCESS);
      const mugLine = (o.lines as { id: string; sku: string; total: number }[]).find((l) => l.sku === 'MUG')!;
      const before = await stock('MUG');
      const r = await act(o.id, 'refunds', { lines: [{ line_id: mugLine.id, quantity: 1 }], restock: true });
      assert.equal(r.json.status, 'partially_refunded');
      assert.equal(r.json.amount_refunded, Math.round(mugLine.total / 2));
      assert.equal(await stock('MUG'), before + 1);
    });

    test('a card that needs authentication leaves the order pending with its stock held; capture completes it', async () => {
      const o = await order(ACTION);
      assert.equal(o.status, 'pending_payment');
      assert.equal((o.payments as { status: string }[])[0]?.status, 'requires_action');
      const held = await t.db.selectFrom('reservations').selectAll().where('tenant_id', '=', shop.tenantId).where('order_id', '=', o.id as string).executeTakeFirstOrThrow();
      assert.equal(held.status, 'held');
      assert.equal((await act(o.id, 'capture')).json.status, 'paid');
      const after = await t.db.selectFrom('reservations').selectAll().where('tenant_id', '=', shop.tenantId).where('order_id', '=', o.id as string).executeTakeFirstOrThrow();
      assert.equal(after.status, 'converted');
    });

    test('an unpaid order whose hold expires is cancelled and its stock released', async () => {
      const before = await stock('LAMP');
      const o = await order({ provider: 'manual' }, [{ variant_id: cat.v.LAMP!, quantity: 3 }]);
      assert.equal(await stock('LAMP'), before - 3);
      assert.equal(await expireReservations(t.db, clock, t.app.payments, t.app.log), 0, 'not yet');
      clock.advance(31 * 60 * 1000);
      assert.ok((await expireReservations(t.db, clock, t.app.payments, t.app.log)) >= 1);
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      const after = await call(t.app, { url: `/api/orders/${o.id}`, token: shop.token });
      assert.equal(after.json.status, 'cancelled');
      assert.equal(await stock('LAMP'), before);
      assert.equal(await expireReservations(t.db, clock, t.app.payments, t.app.log), 0, 'a second sweep does nothing');
    });
  });
}
