import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, createShop, engines, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';

for (const engine of engines()) {
  describe(`idempotency [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    before(async () => {
      t = await startApp(engine);
      shop = await createShop(t.app);
    });
    after(() => t.close());

    const create = (key: string, email: string, token = shop.token) =>
      call(t.app, { method: 'POST', url: '/api/customers', token, headers: { 'idempotency-key': key }, body: { email, first_name: 'Idem' } });
    const count = async (email: string) =>
      Number((await t.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', shop.tenantId).where('email', '=', email).executeTakeFirstOrThrow()).n);

    test('shoppers without an account: keys must be unguessable, and one shopper never gets another’s answer', async () => {
      const cart = (key: string, ua: string) => call(t.app, { method: 'POST', url: '/api/carts', pk: shop.pk, headers: { 'idempotency-key': key, 'user-agent': ua }, body: {} });
      assert.deepEqual(problemOf(await cart('cart-1', 'Firefox')), { status: 400, code: 'idempotency_key_too_short' });
      const key = 'cart-3b9e1f7a2c4d8e60';
      const ann = await cart(key, 'Firefox/140 (Ann)');
      const bob = await cart(key, 'Safari/19 (Bob)');
      assert.equal(ann.statusCode, 201);
      assert.equal(bob.statusCode, 201);
      assert.notEqual(bob.json.id, ann.json.id, 'Bob, behind the same address with the same key and body, gets a cart of his own');
      const again = await cart(key, 'Firefox/140 (Ann)');
      assert.equal(again.json.id, ann.json.id);
      assert.equal(again.headers['idempotent-replayed'], 'true');
    });

    test('same key and body: the stored response is replayed and nothing is written twice', async () => {
      const first = await create('key-replay-1', 'replay@example.com');
      assert.equal(first.statusCode, 201);
      const second = await create('key-replay-1', 'replay@example.com');
      assert.equal(second.statusCode, 201);
      assert.equal(second.headers['idempotent-replayed'], 'true');
      assert.equal(second.body, first.body);
      assert.equal(second.headers.location, first.headers.location);
      assert.equal(await count('replay@example.com'), 1);
    });

    test('same key, another body: 422 and nothing written', async () => {
      assert.equal((await create('key-mismatch', 'm1@example.com')).statusCode, 201);
      const r = await create('key-mismatch', 'm2@example.com');
      assert.deepEqual(problemOf(r), { status: 422, code: 'idempotency_key_reused' });
      assert.equal(await count('m2@example.com'), 0);
    });

    test('an error response is replayed too (the request is not run again)', async () => {
      assert.equal((await create('key-a', 'dupe@example.com')).statusCode, 201);
      const conflict = await create('key-b', 'dupe@example.com');
      assert.equal(problemOf(conflict).code, 'email_taken');
      const again = await create('key-b', 'dupe@example.com');
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.statusCode, 409);
    });

    test('concurrent duplicates: exactly one runs, the others get 409 in progress or the replay', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, () => create('key-concurrent', 'concurrent@example.com')));
      const statuses = results.map((r) => r.statusCode);
      const fresh = results.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] !== 'true');
      assert.equal(fresh.length, 1, `statuses: ${statuses.join(',')}`);
      for (const r of results) {
        if (r.statusCode === 409) assert.equal(problemOf(r).code, 'idempotency_request_in_progress');
        else assert.equal(r.statusCode, 201);
      }
      assert.equal(await count('concurrent@example.com'), 1);
    });

    test('keys are scoped to the principal: another caller with the same key is not replayed', async () => {
      const other = await createShop(t.app);
      const mine = await create('shared-key', 'scoped@example.com');
      const theirs = await create('shared-key', 'scoped@example.com', other.token);
      assert.equal(mine.statusCode, 201);
      assert.equal(theirs.statusCode, 201);
      assert.notEqual(theirs.headers['idempotent-replayed'], 'true');
      assert.notEqual(theirs.json.id, mine.json.id);
    });

    test('a malformed key is a 400', async () => {
      const r = await create('x'.repeat(300), 'long@example.com');
      assert.deepEqual(problemOf(r), { status: 400, code: 'invalid_idempotency_key' });
      assert.equal(await count('long@example.com'), 0);
    });

    test('keys are stored with a 24 h expiry', async () => {
      await create('key-ttl', 'ttl@example.com');
      const row = await t.db.selectFrom('idempotency_keys').selectAll().where('tenant_id', '=', shop.tenantId).where('key', '=', 'key-ttl').executeTakeFirstOrThrow();
      assert.equal(new Date(row.expires_at).getTime() - new Date(row.created_at).getTime(), 24 * 3600 * 1000);
      assert.equal(row.state, 'done');
    });

    test('routes that return a secret never store it for replay', async () => {
      const r = await call(t.app, { method: 'POST', url: '/api/api-keys', token: shop.token, headers: { 'idempotency-key': 'key-secret' }, body: { type: 'secret', name: 's', permissions: [] } });
      assert.equal(r.statusCode, 201);
      const rows = await t.db.selectFrom('idempotency_keys').selectAll().where('key', '=', 'key-secret').execute();
      assert.equal(rows.length, 0);
    });
  });
}
