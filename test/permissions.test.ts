import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PASSWORD, call, createShop, engines, login, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';

for (const engine of engines()) {
  describe(`roles and permissions [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let roles: Record<string, string>;
    before(async () => {
      t = await startApp(engine);
      shop = await createShop(t.app);
      const list = await call(t.app, { url: '/api/roles', token: shop.token });
      roles = Object.fromEntries((list.json.data ?? []).map((r) => [r.key as string, r.id as string]));
    });
    after(() => t.close());

    async function staff(role: string, email: string): Promise<string> {
      const r = await call(t.app, { method: 'POST', url: '/api/users', token: shop.token, body: { email, name: email, password: PASSWORD, role_id: role } });
      assert.equal(r.statusCode, 201, r.body);
      return (await login(t.app, shop.slug, email)).json.access_token as string;
    }

    test('every shop starts with owner, admin and clerk; built-in roles cannot be changed', async () => {
      assert.deepEqual(Object.keys(roles).sort(), ['admin', 'clerk', 'owner']);
      const r = await call(t.app, { method: 'PATCH', url: `/api/roles/${roles.owner}`, token: shop.token, body: { name: 'Boss' } });
      assert.deepEqual(problemOf(r), { status: 409, code: 'system_role_immutable' });
    });

    test('a clerk reads customers but cannot manage staff, roles or keys', async () => {
      const clerk = await staff(roles.clerk as string, 'clerk@example.com');
      assert.equal((await call(t.app, { url: '/api/customers', token: clerk })).statusCode, 200);
      for (const [method, url, body] of [
        ['GET', '/api/users', undefined],
        ['POST', '/api/roles', { name: 'X', permissions: [] }],
        ['POST', '/api/api-keys', { type: 'secret', name: 'x', permissions: [] }],
        ['PATCH', '/api/shop', { name: 'Mine now' }],
      ] as const) {
        assert.deepEqual(problemOf(await call(t.app, { method, url, token: clerk, body })), { status: 403, code: 'permission_denied' }, `${method} ${url}`);
      }
    });

    test('custom roles grant exactly their permissions', async () => {
      const role = await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name: 'Support', permissions: ['customers:read', 'customers:write'] } });
      assert.equal(role.statusCode, 201);
      const support = await staff(role.json.id as string, 'support@example.com');
      assert.equal((await call(t.app, { method: 'POST', url: '/api/customers', token: support, body: { email: 'c@example.com' } })).statusCode, 201);
      assert.equal(problemOf(await call(t.app, { url: '/api/shop', token: support })).code, 'permission_denied');
      // Widening the role applies at once to existing tokens.
      await call(t.app, { method: 'PATCH', url: `/api/roles/${role.json.id}`, token: shop.token, body: { permissions: ['customers:read', 'shop:read'] } });
      assert.equal((await call(t.app, { url: '/api/shop', token: support })).statusCode, 200);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/customers', token: support, body: { email: 'd@example.com' } })).code, 'permission_denied');
      assert.deepEqual(problemOf(await call(t.app, { method: 'DELETE', url: `/api/roles/${role.json.id}`, token: shop.token })), { status: 409, code: 'role_in_use' });
    });

    test('refunds need orders:refund on REST and GraphQL (and so does cancelling a paid order); a clerk lacks it; roles and keys that could refund before keep it', async () => {
      const p = await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title: 'Refundable', status: 'active', variants: [{ sku: 'REF-1', price: 1000, stock: 10 }] } });
      const variant = (p.json.variants as { id: string }[])[0]!.id;
      const paidOrder = async () => {
        const o = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: variant, quantity: 1 }], payment: { provider: 'test', card_number: '4242424242424242' } } });
        assert.equal(o.statusCode, 201, o.body);
        return o.json.id as string;
      };
      const clerk = await staff(roles.clerk as string, 'refund-clerk@example.com');
      const id = await paidOrder();
      const key = () => ({ 'idempotency-key': crypto.randomUUID() });
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: `/api/orders/${id}/refunds`, token: clerk, headers: key(), body: { amount: 100 } })), { status: 403, code: 'permission_denied' });
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: `/api/orders/${id}/cancel`, token: clerk, headers: key(), body: {} })), { status: 403, code: 'permission_denied' });
      const gql = await call(t.app, { method: 'POST', url: '/graphql', token: clerk, body: { query: `mutation { orderRefund(id: "${id}", input: { amount: 100 }) { id } }` } });
      assert.equal((gql.json.errors as { extensions: { code: string } }[] | undefined)?.[0]?.extensions.code, 'permission_denied', gql.body);
      assert.equal((await call(t.app, { url: `/api/orders/${id}`, token: shop.token })).json.amount_refunded, 0);
      // The clerk still fulfils; the owner refunds.
      assert.equal((await call(t.app, { method: 'POST', url: `/api/orders/${id}/refunds`, token: shop.token, headers: key(), body: { amount: 100 } })).statusCode, 200);

      // Migration 0016: a custom role and a secret key holding orders:write get orders:refund; others do not.
      const { up } = await import('../src/db/migrations/0016_refund_permission.ts');
      const writer = await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name: 'Old order desk', permissions: ['orders:read', 'orders:write'] } });
      const reader = await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name: 'Old viewer', permissions: ['orders:read'] } });
      const sk = await call(t.app, { method: 'POST', url: '/api/api-keys', token: shop.token, body: { type: 'secret', name: 'old integration', permissions: ['orders:read', 'orders:write'] } });
      await up(t.db as never);
      await up(t.db as never); // twice changes nothing more
      const permsOf = async (url: string) => (await call(t.app, { url, token: shop.token })).json.permissions as string[];
      assert.deepEqual((await permsOf(`/api/roles/${writer.json.id}`)).filter((x) => x === 'orders:refund'), ['orders:refund']);
      assert.ok(!(await permsOf(`/api/roles/${reader.json.id}`)).includes('orders:refund'));
      const desk = await staff(writer.json.id as string, 'desk@example.com');
      assert.equal((await call(t.app, { method: 'POST', url: `/api/orders/${id}/refunds`, token: desk, headers: key(), body: { amount: 100 } })).statusCode, 200);
      assert.equal((await call(t.app, { method: 'POST', url: `/api/orders/${id}/refunds`, token: sk.json.key as string, headers: key(), body: { amount: 100 } })).statusCode, 200);
    });

    test('nobody grants what they lack: no escalation through roles, users or keys', async () => {
      const mgr = await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name: 'Staff manager', permissions: ['users:read', 'users:write', 'roles:read', 'roles:write', 'api_keys:write'] } });
      const manager = await staff(mgr.json.id as string, 'manager@example.com');
      const wider = await call(t.app, { method: 'POST', url: '/api/roles', token: manager, body: { name: 'Wider', permissions: ['orders:write'] } });
      assert.deepEqual(problemOf(wider), { status: 403, code: 'permission_escalation' });
      const toAdmin = await call(t.app, { method: 'POST', url: '/api/users', token: manager, body: { email: 'sneaky@example.com', name: 'S', password: PASSWORD, role_id: roles.admin } });
      assert.deepEqual(problemOf(toAdmin), { status: 403, code: 'permission_escalation' });
      const key = await call(t.app, { method: 'POST', url: '/api/api-keys', token: manager, body: { type: 'secret', name: 'k', permissions: ['orders:write'] } });
      assert.deepEqual(problemOf(key), { status: 403, code: 'permission_escalation' });
      // An admin cannot make owners or touch an owner.
      const admin = await staff(roles.admin as string, 'admin@example.com');
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/users', token: admin, body: { email: 'o2@example.com', name: 'O', password: PASSWORD, role_id: roles.owner } })).code, 'permission_escalation');
      assert.equal(problemOf(await call(t.app, { method: 'PATCH', url: `/api/users/${shop.ownerId}`, token: admin, body: { status: 'disabled' } })).code, 'permission_escalation');
    });

    test('the last owner cannot be removed, demoted or disabled; nobody deletes themselves', async () => {
      assert.equal(problemOf(await call(t.app, { method: 'DELETE', url: `/api/users/${shop.ownerId}`, token: shop.token })).code, 'cannot_delete_self');
      assert.equal(problemOf(await call(t.app, { method: 'PATCH', url: `/api/users/${shop.ownerId}`, token: shop.token, body: { role_id: roles.admin } })).code, 'last_owner');
    });

    test('three owners demote each other at once: one owner always remains (owner changes are serialised)', async () => {
      const shop2 = await createShop(t.app);
      const ownerRole = (await call(t.app, { url: '/api/roles', token: shop2.token })).json.data?.find((r) => r.key === 'owner')?.id as string;
      const adminRole = (await call(t.app, { url: '/api/roles', token: shop2.token })).json.data?.find((r) => r.key === 'admin')?.id as string;
      const owners: { id: string; token: string }[] = [{ id: shop2.ownerId, token: shop2.token }];
      for (const email of ['o2@example.com', 'o3@example.com']) {
        const u = await call(t.app, { method: 'POST', url: '/api/users', token: shop2.token, body: { email, name: email, password: PASSWORD, role_id: ownerRole } });
        owners.push({ id: u.json.id as string, token: (await login(t.app, shop2.slug, email)).json.access_token as string });
      }
      // Each owner demotes the next one, all at the same moment.
      const results = await Promise.all(owners.map((o, i) => call(t.app, { method: 'PATCH', url: `/api/users/${owners[(i + 1) % owners.length]!.id}`, token: o.token, body: { role_id: adminRole } })));
      const left = (await call(t.app, { url: '/api/users?limit=100', token: shop2.token })).json.data ?? [];
      const remaining = owners.filter((o) => left.some((u) => u.id === o.id && (u.role as { key: string }).key === 'owner'));
      assert.ok(remaining.length >= 1, `an owner remains (${results.map((r) => r.statusCode).join(',')})`);
      for (const r of results.filter((x) => x.statusCode !== 200)) assert.ok(['last_owner', 'permission_escalation', 'principal_not_allowed', 'invalid_token', 'session_revoked'].includes(problemOf(r).code), r.body);
    });

    test('disabling a user ends their sessions at once', async () => {
      const token = await staff(roles.clerk as string, 'leaver@example.com');
      const id = (await call(t.app, { url: '/api/auth/me', token })).json.id as string;
      assert.equal((await call(t.app, { method: 'PATCH', url: `/api/users/${id}`, token: shop.token, body: { status: 'disabled' } })).statusCode, 200);
      assert.equal(problemOf(await call(t.app, { url: '/api/customers', token })).status, 401);
      assert.deepEqual(problemOf(await login(t.app, shop.slug, 'leaver@example.com')), { status: 403, code: 'account_disabled' });
    });
  });
}
