import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PASSWORD, call, createShop, engines, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';

/**
 * Tenant A's credentials against tenant B's objects: every read, change and delete is a 404 (never a 403
 * that would confirm the object exists), B's rows never show in A's lists, and nothing of B changes.
 */
for (const engine of engines()) {
  describe(`tenant isolation [${engine.name}]`, () => {
    let t: TestApp;
    let a: Shop;
    let b: Shop;
    let aKey: string;
    const bIds: Record<string, string> = {};

    before(async () => {
      t = await startApp(engine);
      a = await createShop(t.app, 'Shop A');
      b = await createShop(t.app, 'Shop B');
      const k = await call(t.app, { method: 'POST', url: '/api/api-keys', token: a.token, body: { type: 'secret', name: 'a-all', permissions: ['users:read', 'users:write', 'roles:read', 'roles:write', 'api_keys:read', 'api_keys:write', 'customers:read', 'customers:write', 'shop:read'] } });
      aKey = k.json.key as string;
      // B's objects of every kind.
      const role = await call(t.app, { method: 'POST', url: '/api/roles', token: b.token, body: { name: 'Packer', permissions: ['orders:read'] } });
      bIds.role = role.json.id as string;
      const user = await call(t.app, { method: 'POST', url: '/api/users', token: b.token, body: { email: 'clerk@b.example', name: 'B Clerk', password: PASSWORD, role_id: bIds.role } });
      bIds.user = user.json.id as string;
      const key = await call(t.app, { method: 'POST', url: '/api/api-keys', token: b.token, body: { type: 'secret', name: 'b-key', permissions: ['customers:read'] } });
      bIds.apiKey = key.json.id as string;
      const cust = await call(t.app, { method: 'POST', url: '/api/customers', token: b.token, body: { email: 'cust@b.example', first_name: 'Bea' } });
      bIds.customer = cust.json.id as string;
      for (const [k, v] of Object.entries(bIds)) assert.ok(v, `B's ${k} was created`);
    });
    after(() => t.close());

    const resources = [
      { name: 'role', path: 'roles', patch: { name: 'Hijacked' } },
      { name: 'user', path: 'users', patch: { name: 'Hijacked' } },
      { name: 'apiKey', path: 'api-keys', patch: null },
      { name: 'customer', path: 'customers', patch: { first_name: 'Hijacked' } },
    ];

    for (const cred of ['token', 'key'] as const) {
      for (const r of resources) {
        test(`A's ${cred} cannot read, change or delete B's ${r.name}: 404`, async () => {
          const token = cred === 'token' ? a.token : aKey;
          const url = `/api/${r.path}/${bIds[r.name]}`;
          assert.deepEqual(problemOf(await call(t.app, { url, token })), { status: 404, code: 'resource_not_found' });
          if (r.patch) assert.deepEqual(problemOf(await call(t.app, { method: 'PATCH', url, token, body: r.patch })), { status: 404, code: 'resource_not_found' });
          if (r.path !== 'customers') assert.deepEqual(problemOf(await call(t.app, { method: 'DELETE', url, token })), { status: 404, code: 'resource_not_found' });
          // Still there, unchanged, for B.
          const mine = await call(t.app, { url, token: b.token });
          assert.equal(mine.statusCode, 200);
          assert.notEqual(mine.json.name, 'Hijacked');
          assert.notEqual(mine.json.first_name, 'Hijacked');
          assert.equal(mine.json.revoked_at ?? null, null);
        });

        test(`A's ${cred} lists of ${r.path} never show B's rows`, async () => {
          const token = cred === 'token' ? a.token : aKey;
          const list = await call(t.app, { url: `/api/${r.path}?limit=100`, token });
          assert.equal(list.statusCode, 200);
          const ids = (list.json.data ?? []).map((x) => x.id);
          assert.ok(ids.length > 0 || r.path === 'customers', 'A has rows of its own to list');
          assert.ok(!ids.includes(bIds[r.name]), `B's ${r.name} leaked into A's list`);
          const bList = await call(t.app, { url: `/api/${r.path}?limit=100`, token: b.token });
          assert.ok((bList.json.data ?? []).some((x) => x.id === bIds[r.name]), 'B sees its own row');
        });
      }
    }

    test("A cannot give its user B's role (unknown role in A's shop)", async () => {
      const r = await call(t.app, { method: 'POST', url: '/api/users', token: a.token, body: { email: 'x@a.example', name: 'X', password: PASSWORD, role_id: bIds.role } });
      assert.deepEqual(problemOf(r), { status: 422, code: 'unknown_role' });
    });

    test("the shop route shows each tenant only itself", async () => {
      assert.equal((await call(t.app, { url: '/api/shop', token: a.token })).json.id, a.tenantId);
      assert.equal((await call(t.app, { url: '/api/shop', token: aKey })).json.id, a.tenantId);
      assert.equal((await call(t.app, { url: '/api/shop', token: b.token })).json.id, b.tenantId);
    });

    test("A's publishable key with B's customer token is refused", async () => {
      await call(t.app, { method: 'POST', url: '/api/customers/register', pk: b.pk, body: { email: 'shopper@b.example', password: PASSWORD } });
      const li = await call(t.app, { method: 'POST', url: '/api/customers/login', pk: b.pk, body: { email: 'shopper@b.example', password: PASSWORD } });
      const r = await call(t.app, { url: '/api/customers/me', token: li.json.access_token as string, pk: a.pk });
      assert.deepEqual(problemOf(r), { status: 401, code: 'credential_mismatch' });
    });

    test("a credential whose tenant part was swapped for B's does not work", async () => {
      const bTenantUlid = b.tenantId.slice(4);
      const forged = `sk_${bTenantUlid}${aKey.slice(3 + 26)}`;
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/customers', token: forged })), { status: 401, code: 'invalid_api_key' });
    });
  });
}
