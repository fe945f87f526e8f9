import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PASSWORD, PLATFORM_SECRET, call, createShop, engines, login, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';

for (const engine of engines()) {
  describe(`tenants and the platform API [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    before(async () => {
      t = await startApp(engine);
      shop = await createShop(t.app, 'Suspend Me');
    });
    after(() => t.close());
    const op = { token: PLATFORM_SECRET };

    test('signup creates the shop, its owner with the owner role and a publishable key; the slug is unique', async () => {
      const r = await call(t.app, { method: 'POST', url: '/api/signup', body: { shop_name: 'Café Ünïcode', email: 'o@cafe.example', password: PASSWORD, currency: 'EUR', timezone: 'Europe/Berlin' } });
      assert.equal(r.statusCode, 201);
      const tenant = r.json.tenant as { slug: string; currency: string; timezone: string };
      assert.equal(tenant.slug, 'cafe-unicode');
      assert.equal(tenant.currency, 'EUR');
      assert.equal((r.json.owner as { role: { key: string } }).role.key, 'owner');
      assert.match(r.json.publishable_key as string, /^pk_/);
      const again = await call(t.app, { method: 'POST', url: '/api/signup', body: { shop_name: 'Café Ünïcode', email: 'o2@cafe.example', password: PASSWORD } });
      assert.equal(again.statusCode, 201);
      assert.notEqual((again.json.tenant as { slug: string }).slug, 'cafe-unicode');
      const taken = await call(t.app, { method: 'POST', url: '/api/signup', body: { shop_name: 'X', shop_slug: 'cafe-unicode', email: 'o3@cafe.example', password: PASSWORD } });
      assert.deepEqual(problemOf(taken), { status: 409, code: 'slug_taken' });
    });

    test('a failed signup leaves nothing behind', async () => {
      const before = await t.db.selectFrom('tenants').select('id').execute();
      const r = await call(t.app, { method: 'POST', url: '/api/signup', body: { shop_name: 'Half', email: 'half@example.com', password: 'short' } });
      assert.equal(r.statusCode, 400);
      assert.equal((await t.db.selectFrom('tenants').select('id').execute()).length, before.length);
    });

    test('the platform API needs the platform secret; staff tokens and wrong secrets are refused', async () => {
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/platform/tenants' })), { status: 401, code: 'authentication_required' });
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/platform/tenants', token: 'x'.repeat(40) })), { status: 401, code: 'invalid_platform_secret' });
      assert.equal(problemOf(await call(t.app, { url: '/api/platform/tenants', token: shop.token })).status, 401);
      const list = await call(t.app, { url: '/api/platform/tenants?limit=100', ...op });
      assert.equal(list.statusCode, 200);
      assert.ok(list.json.data?.some((x) => x.id === shop.tenantId));
    });

    test('operators page through tenants with a cursor', async () => {
      const first = await call(t.app, { url: '/api/platform/tenants?limit=1', ...op });
      assert.equal(first.json.data?.length, 1);
      assert.equal(first.json.has_more, true);
      const second = await call(t.app, { url: `/api/platform/tenants?limit=1&cursor=${first.json.next_cursor}`, ...op });
      assert.equal(second.json.data?.length, 1);
      assert.notEqual(second.json.data?.[0]?.id, first.json.data?.[0]?.id);
    });

    test('a suspended tenant’s tokens and keys stop working at once, and work again on resume', async () => {
      const key = (await call(t.app, { method: 'POST', url: '/api/api-keys', token: shop.token, body: { type: 'secret', name: 'k', permissions: ['shop:read'] } })).json.key as string;
      const li = await login(t.app, shop.slug, shop.email);
      assert.equal((await call(t.app, { url: '/api/shop', token: key })).statusCode, 200);

      const s = await call(t.app, { method: 'POST', url: `/api/platform/tenants/${shop.tenantId}/suspend`, body: { reason: 'unpaid' }, ...op });
      assert.equal(s.statusCode, 200);
      assert.equal(s.json.status, 'suspended');
      for (const r of [
        await call(t.app, { url: '/api/shop', token: shop.token }),
        await call(t.app, { url: '/api/shop', token: key }),
        await call(t.app, { url: '/api/auth/me', pk: shop.pk }),
        await call(t.app, { method: 'POST', url: '/api/auth/refresh', body: { refresh_token: li.json.refresh_token } }),
      ]) {
        assert.deepEqual(problemOf(r), { status: 403, code: 'tenant_suspended' });
      }
      assert.deepEqual(problemOf(await login(t.app, shop.slug, shop.email)), { status: 403, code: 'tenant_suspended' });

      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/platform/tenants/${shop.tenantId}/resume`, body: { force: true }, ...op })).code, 'validation_failed', 'a route without a body takes no fields');
      const back = await call(t.app, { method: 'POST', url: `/api/platform/tenants/${shop.tenantId}/resume`, ...op });
      assert.equal(back.json.status, 'active');
      assert.equal((await call(t.app, { url: '/api/shop', token: key })).statusCode, 200);
      assert.equal((await call(t.app, { url: '/api/shop', token: shop.token })).statusCode, 200);
    });

    test('unknown tenant ids are 404', async () => {
      assert.equal(problemOf(await call(t.app, { url: '/api/platform/tenants/ten_01aaaaaaaaaaaaaaaaaaaaaaaa', ...op })).status, 404);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/platform/tenants/ten_01aaaaaaaaaaaaaaaaaaaaaaaa/suspend', ...op })).status, 404, 'the optional body may be left out');
    });

    test('staff edit their own shop', async () => {
      const r = await call(t.app, { method: 'PATCH', url: '/api/shop', token: shop.token, body: { name: 'Renamed', timezone: 'America/New_York' } });
      assert.equal(r.statusCode, 200);
      assert.equal(r.json.name, 'Renamed');
      assert.equal(problemOf(await call(t.app, { method: 'PATCH', url: '/api/shop', token: shop.token, body: { currency: 'euro' } })).code, 'validation_failed');
    });
  });

  describe(`platform API disabled [${engine.name}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(engine, { env: { PLATFORM_SECRET: '', SIGNUP_ENABLED: 'false' } });
    });
    after(() => t.close());
    test('without PLATFORM_SECRET the platform API answers 404; with signup disabled signup is 403', async () => {
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/platform/tenants', token: 'anything-at-all-anything-at-all-anything' })), { status: 404, code: 'route_not_found' });
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/signup', body: { shop_name: 'No', email: 'no@example.com', password: PASSWORD } })), { status: 403, code: 'signup_disabled' });
    });
  });
}
