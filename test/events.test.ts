import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Executor } from '../src/context.ts';
import type { EventConsumer, OutboxEvent } from '../src/modules/events/consumers.ts';
import { consumeOne, dispatchEvents, replayEvents } from '../src/workflows/dispatch-events.ts';
import { call, createShop, engines, startApp, type Shop, type TestApp } from './helpers.ts';
import { SUCCESS, seedCatalogue, type Catalogue } from './commerce-helpers.ts';

for (const engine of engines()) {
  describe(`event consumers by registration [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let cat: Catalogue;
    before(async () => {
      t = await startApp(engine);
      shop = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop);
    });
    after(() => t.close());
    const clock = { now: () => new Date() };

    /** A consumer that writes what it saw into a table of its own (through the publisher's transaction). */
    const recorder = (name: string, types: EventConsumer['types'], failFirst = 0): EventConsumer & { seen: string[] } => {
      let failures = failFirst;
      const seen: string[] = [];
      return {
        name,
        types,
        seen,
        async handle(db: Executor, _clock, e: OutboxEvent) {
          // A real write, so a failure must be rolled back without taking the other consumers' work with it.
          await db.insertInto('idempotency_keys').values({ tenant_id: e.tenant_id, principal: `consumer:${name}`, key: e.id, method: 'EVT', route: e.type, body_hash: '', state: 'done', response_status: null, response_headers: null, response_body: null, created_at: e.created_at, expires_at: e.created_at, recovery_point: null, resource_id: null, locked_by: null, locked_until: null }).execute();
          if (failures > 0) {
            failures--;
            throw new Error(`${name} is down`);
          }
          seen.push(`${e.type}:${e.aggregate_id}`);
        },
      };
    };
    const written = async (name: string) => (await t.db.selectFrom('idempotency_keys').select('key').where('principal', '=', `consumer:${name}`).execute()).length;

    test('a failing consumer is rolled back and retried on its own; the others and the publisher go on', async () => {
      const order = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], email: 'e@example.com', payment: SUCCESS } });
      const good = recorder('good', ['order.created', 'order.paid']);
      const flaky = recorder('flaky', '*', 1_000);
      while ((await dispatchEvents(t.db, clock, [good, flaky])) > 0);
      assert.ok(good.seen.includes(`order.created:${order.json.id}`) && good.seen.includes(`order.paid:${order.json.id}`));
      assert.equal(flaky.seen.length, 0);
      assert.equal(await written('flaky'), 0, "the failing consumer's writes were rolled back, the good one's kept");
      assert.ok((await written('good')) >= 2);
      const unpublished = await t.db.selectFrom('outbox_events').select('id').where('published_at', 'is', null).execute();
      assert.deepEqual(unpublished, [], 'every event was published');
      const retries = await t.db.selectFrom('jobs').select(['payload']).where('type', '=', 'event.consume').execute();
      assert.ok(retries.length >= 2, 'one retry job per event the failing consumer missed');
      // The consumer comes back: its retry jobs hand it exactly the events it missed.
      const back = recorder('flaky', '*');
      for (const j of retries) await consumeOne(t.db, clock, [back], shop.tenantId, JSON.parse(j.payload) as { consumer: string; event_id: string });
      assert.ok(back.seen.includes(`order.created:${order.json.id}`));
    });

    test('a consumer added later starts from now, or replays from a position', async () => {
      const first = await t.db.selectFrom('outbox_events').select('id').where('tenant_id', '=', shop.tenantId).orderBy('id').executeTakeFirstOrThrow();
      const late = recorder('late', ['order.created']);
      // Everything is published already: dispatching hands it nothing.
      assert.equal(await dispatchEvents(t.db, clock, [late]), 0);
      assert.equal(late.seen.length, 0);
      const n = await replayEvents(t.db, clock, late, first.id, { tenantId: shop.tenantId, batch: 1 });
      assert.ok(n >= 2);
      const created = await t.db.selectFrom('outbox_events').select('aggregate_id').where('tenant_id', '=', shop.tenantId).where('type', '=', 'order.created').execute();
      assert.deepEqual(late.seen.sort(), created.map((e) => `order.created:${e.aggregate_id}`).sort());
    });
  });
}
