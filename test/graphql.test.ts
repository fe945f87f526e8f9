import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { printSchema } from 'graphql';
import { seedCatalogue, type Catalogue } from './commerce-helpers.ts';
import { PASSWORD, call, createShop, engines, login, startApp, statements, type Shop, type TestApp } from './helpers.ts';

type Gql = { status: number; data: Record<string, unknown> | null; errors?: { message: string; extensions: { code: string; kind?: string } }[] };

/** GraphQL from outside: the same services, policy, tenant isolation and error codes as REST. */
for (const engine of engines()) {
  describe(`GraphQL [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let other: Shop;
    let cat: Catalogue;
    const gql = async (query: string, variables: Record<string, unknown> = {}, creds: { token?: string; pk?: string; headers?: Record<string, string> } = {}): Promise<Gql> => {
      const r = await call(t.app, { method: 'POST', url: '/graphql', ...(creds.token ? { token: creds.token } : {}), ...(creds.pk ? { pk: creds.pk } : {}), headers: creds.headers ?? {}, body: { query, variables } });
      return { status: r.statusCode, ...(JSON.parse(r.body) as Omit<Gql, 'status'>) };
    };
    const codes = (r: Gql) => (r.errors ?? []).map((e) => e.extensions.code);

    before(async () => {
      t = await startApp(engine);
      shop = await createShop(t.app);
      other = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop);
    });
    after(() => t.close());

    test('the storefront browses the catalogue with the publishable key, fills a cart and checks out', async () => {
      const page = await gql('query($n: Int) { products(first: $n) { nodes { id title priceMin variants { id sku price inStock available } } pageInfo { hasNextPage endCursor } } }', { n: 2 }, { pk: shop.pk });
      assert.equal(page.status, 200, JSON.stringify(page));
      const products = (page.data?.products as { nodes: { variants: { id: string; available: number | null }[] }[]; pageInfo: { hasNextPage: boolean; endCursor: string } });
      assert.equal(products.nodes.length, 2);
      assert.equal(products.pageInfo.hasNextPage, true);
      assert.equal(products.nodes[0]?.variants[0]?.available, null, 'the storefront never sees counts');
      const next = await gql('query($a: String) { products(first: 2, after: $a) { nodes { id } pageInfo { hasNextPage } } }', { a: products.pageInfo.endCursor }, { pk: shop.pk });
      assert.equal((next.data?.products as { nodes: unknown[] }).nodes.length, 1);

      const cart = await gql('mutation($i: CartCreateInput!) { cartCreate(input: $i) { id lines { id variantId quantity } totals { total currency } } }', { i: { email: 'g@example.com', lines: [{ variantId: cat.v.MUG, quantity: 2 }] } }, { pk: shop.pk });
      assert.equal(cart.status, 200, JSON.stringify(cart));
      const cartId = (cart.data?.cartCreate as { id: string }).id;
      const added = await gql('mutation($c: ID!, $l: CartLineInput!) { cartLinesAdd(cartId: $c, line: $l) { lines { variantId quantity } totals { total } } }', { c: cartId, l: { variantId: cat.v.NOTE, quantity: 1 } }, { pk: shop.pk });
      assert.equal((added.data?.cartLinesAdd as { lines: unknown[] }).lines.length, 2);
      const order = await gql('mutation($i: CheckoutInput!) { checkout(input: $i) { id status total lines { sku quantity } } }', { i: { cartId, payment: { provider: 'test', cardNumber: '4242424242424242' } } }, { pk: shop.pk, headers: { 'idempotency-key': `gql-checkout-${cartId}` } });
      assert.equal((order.data?.checkout as { status: string }).status, 'paid', JSON.stringify(order));
      // The same mutation again with the same key: the same answer, not a second order (and not cart_not_open).
      const again = await gql('mutation($i: CheckoutInput!) { checkout(input: $i) { id status total lines { sku quantity } } }', { i: { cartId, payment: { provider: 'test', cardNumber: '4242424242424242' } } }, { pk: shop.pk, headers: { 'idempotency-key': `gql-checkout-${cartId}` } });
      assert.deepEqual(again.data, order.data);
    });

    test('storefront catalogue answers are cached per shop until the catalogue changes (ETag, 304)', async () => {
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      const body = { query: '{ products(first: 50) { nodes { title variants { inStock } } } }' };
      const first = await call(t.app, { method: 'POST', url: '/graphql', pk: shop.pk, body });
      const etag = first.headers.etag as string;
      assert.ok(etag);
      const again = await call(t.app, { method: 'POST', url: '/graphql', pk: shop.pk, body, headers: { 'if-none-match': etag } });
      assert.equal(again.statusCode, 304);
      await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title: 'Fresh arrival', status: 'active', variants: [{ sku: 'FRESH-1', price: 990, stock: 3 }] } });
      const after = await call(t.app, { method: 'POST', url: '/graphql', pk: shop.pk, body, headers: { 'if-none-match': etag } });
      assert.equal(after.statusCode, 200);
      assert.match(after.body, /Fresh arrival/);
      // Another shop's storefront never gets this shop's cached answer.
      const theirs = await call(t.app, { method: 'POST', url: '/graphql', pk: other.pk, body });
      assert.doesNotMatch(theirs.body, /Fresh arrival|Mug/);
      // Staff are not served from the storefront's cache (they see counts).
      const staff = await call(t.app, { method: 'POST', url: '/graphql', token: shop.token, body: { query: '{ products(first: 50) { nodes { title variants { available } } } }' } });
      assert.match(staff.body, /"available":\d/);
    });

    test('errors carry REST’s codes: not found, permission, validation, bad credentials', async () => {
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      other.token = (await login(t.app, other.slug, other.email)).json.access_token as string;
      const o = await gql('mutation($i: CheckoutInput!) { checkout(input: $i) { id } }', { i: { lines: [{ variantId: cat.v.MUG, quantity: 1 }], email: 'x@example.com', payment: { provider: 'manual' } } }, { token: shop.token });
      const orderId = (o.data?.checkout as { id: string }).id;
      // Another shop's ids are not found, on every resolver that takes one.
      for (const [q, v] of [
        ['query($id: ID!) { order(id: $id) { id } }', { id: orderId }],
        ['query($id: ID!) { product(id: $id) { id } }', { id: Object.values(cat.v)[0] }],
        ['mutation($id: ID!) { orderCapture(id: $id) { id } }', { id: orderId }],
        ['mutation($id: ID!) { orderMessageSend(orderId: $id, body: "hi") { id } }', { id: orderId }],
        ['query($id: ID!) { stockLevels(variantId: $id) { available } }', { id: cat.v.MUG }],
      ] as const) {
        const r = await gql(q, v, { token: other.token });
        assert.deepEqual(codes(r), ['resource_not_found'], q);
        assert.equal(r.status, 200);
      }
      const theirs = await gql('{ orders { nodes { id } } customers { nodes { id } } }', {}, { token: other.token });
      assert.ok(!(theirs.data?.orders as { nodes: { id: string }[] }).nodes.some((n) => n.id === orderId));
      // Permissions per mutation: a clerk may not refund (orders:write is enough to capture, refund needs …).
      assert.deepEqual(codes(await gql('{ orders { nodes { id } } }', {}, { pk: shop.pk })), ['authentication_required'], 'as REST: log in as a customer');
      assert.deepEqual(codes(await gql('{ discounts { nodes { id } } }', {}, { pk: shop.pk })), ['principal_not_allowed']);
      assert.deepEqual(codes(await gql('{ customers { nodes { id } } }', {})), ['authentication_required']);
      assert.deepEqual(codes(await gql('{ me { id } }', {}, { token: 'not-a-jwt' })), ['invalid_token']);
      // Validation: a page too large, a malformed query — coded, never a 5xx.
      assert.deepEqual(codes(await gql('{ products(first: 1000) { nodes { id } } }', {}, { pk: shop.pk })), ['page_size_out_of_range']);
      const bad = await gql('{ products { nope } }', {}, { pk: shop.pk });
      assert.equal(bad.status, 400);
      assert.deepEqual(codes(bad), ['graphql_validation_failed']);
    });

    test('isolation per resolver: every field that takes an id answers not found for another shop’s', async () => {
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      other.token = (await login(t.app, other.slug, other.email)).json.access_token as string;
      const o = await gql('mutation($i: CheckoutInput!) { checkout(input: $i) { id lines { id } } }', { i: { lines: [{ variantId: cat.v.NOTE, quantity: 1 }], email: 'iso@example.com', payment: { provider: 'manual' } } }, { token: shop.token });
      const order = o.data?.checkout as { id: string; lines: { id: string }[] };
      const cart = (await gql('mutation { cartCreate(input: { lines: [] }) { id } }', {}, { pk: shop.pk })).data?.cartCreate as { id: string };
      const cartLine = (await gql('mutation($c: ID!, $v: ID!) { cartLinesAdd(cartId: $c, line: { variantId: $v, quantity: 1 }) { lines { id } } }', { c: cart.id, v: cat.v.MUG }, { pk: shop.pk })).data?.cartLinesAdd as { lines: { id: string }[] };
      const customer = (await call(t.app, { method: 'POST', url: '/api/customers', token: shop.token, body: { email: 'iso-c@example.com' } })).json.id as string;
      const product = (await call(t.app, { url: `/api/products?limit=1`, token: shop.token })).json.data?.[0]?.id as string;
      const collection = (await call(t.app, { method: 'POST', url: '/api/collections', token: shop.token, body: { title: 'Iso', product_ids: [product] } })).json.id as string;
      const asOther: [string, Record<string, unknown>][] = [
        ['query($id: ID!) { order(id: $id) { id } }', { id: order.id }],
        ['query($id: ID!) { product(id: $id) { id } }', { id: product }],
        ['query($id: ID!) { collection(id: $id) { id } }', { id: collection }],
        ['query($id: ID!) { customer(id: $id) { id } }', { id: customer }],
        ['query($id: ID!) { stockLevels(variantId: $id) { available } }', { id: cat.v.MUG }],
        ['mutation($id: ID!) { orderCapture(id: $id) { id } }', { id: order.id }],
        ['mutation($id: ID!) { orderCancel(id: $id) { id } }', { id: order.id }],
        ['mutation($id: ID!) { orderRefund(id: $id, input: { amount: 1 }) { id } }', { id: order.id }],
        ['mutation($id: ID!) { orderFulfil(id: $id, input: { carrier: "X", trackingNumber: "1" }) { id } }', { id: order.id }],
        ['mutation($id: ID!) { orderMessageSend(orderId: $id, body: "hi") { id } }', { id: order.id }],
        ['mutation($id: ID!) { stockAdjust(input: { variantId: $id, reason: "count", setTo: 1 }) { available } }', { id: cat.v.MUG }],
      ];
      for (const [q, v] of asOther) assert.deepEqual(codes(await gql(q, v, { token: other.token })), ['resource_not_found'], q);
      const asOtherShopper: [string, Record<string, unknown>][] = [
        ['query($id: ID!) { cart(id: $id) { id } }', { id: cart.id }],
        ['mutation($id: ID!, $v: ID!) { cartLinesAdd(cartId: $id, line: { variantId: $v, quantity: 1 }) { id } }', { id: cart.id, v: cat.v.MUG }],
        ['mutation($id: ID!, $l: ID!) { cartLineUpdate(cartId: $id, lineId: $l, quantity: 2) { id } }', { id: cart.id, l: cartLine.lines[0]?.id }],
        ['mutation($id: ID!, $l: ID!) { cartLineRemove(cartId: $id, lineId: $l) { id } }', { id: cart.id, l: cartLine.lines[0]?.id }],
        ['mutation($id: ID!) { cartUpdate(cartId: $id, input: { email: "x@example.com" }) { id } }', { id: cart.id }],
        ['mutation($id: ID!) { checkout(input: { cartId: $id, payment: { provider: "manual" } }) { id } }', { id: cart.id }],
      ];
      for (const [q, v] of asOtherShopper) assert.deepEqual(codes(await gql(q, v, { pk: other.pk })), ['resource_not_found'], q);
      // Nothing of this shop in the other's lists either.
      const lists = await gql('{ orders { nodes { id } } customers { nodes { id } } products { nodes { id } } collections { nodes { id } } discounts { nodes { id } } }', {}, { token: other.token });
      assert.equal(lists.errors, undefined);
      assert.equal(JSON.stringify(lists.data).includes(order.id) || JSON.stringify(lists.data).includes(customer) || JSON.stringify(lists.data).includes(product), false);
    });

    test('permissions per mutation: a staff user without the permission is refused each one', async () => {
      const role = await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name: 'Reader', permissions: ['shop:read'] } });
      await call(t.app, { method: 'POST', url: '/api/users', token: shop.token, body: { email: 'reader@example.com', name: 'R', password: PASSWORD, role_id: role.json.id } });
      const reader = (await login(t.app, shop.slug, 'reader@example.com')).json.access_token as string;
      const mutations = [
        'mutation { cartCreate(input: {}) { id } }',
        'mutation { checkout(input: { lines: [{ variantId: "var_x", quantity: 1 }], payment: { provider: "manual" } }) { id } }',
        'mutation { orderCapture(id: "ord_x") { id } }',
        'mutation { orderCancel(id: "ord_x") { id } }',
        'mutation { orderRefund(id: "ord_x", input: { amount: 1 }) { id } }',
        'mutation { orderFulfil(id: "ord_x", input: { carrier: "X", trackingNumber: "1" }) { id } }',
        'mutation { orderMessageSend(orderId: "ord_x", body: "hi") { id } }',
        'mutation { stockAdjust(input: { variantId: "var_x", reason: "count", setTo: 1 }) { available } }',
        'mutation { customerCreate(input: { email: "n@example.com" }) { id } }',
        'mutation { discountCreate(input: { code: "NOPE", kind: "percentage", value: 100 }) { id } }',
        'mutation { webhookEndpointCreate(input: { url: "https://example.com/h", events: ["*"] }) { id } }',
      ];
      for (const m of mutations) assert.deepEqual(codes(await gql(m, {}, { token: reader })), ['permission_denied'], m);
      for (const q of ['{ orders { nodes { id } } }', '{ customers { nodes { id } } }', '{ taxRates { nodes { id } } }', '{ jobs { nodes { id } } }', '{ salesReport(from: "2026-01-01", to: "2026-01-02") { currency } }', '{ webhookEndpoints { nodes { id } } }']) {
        assert.deepEqual(codes(await gql(q, {}, { token: reader })), ['permission_denied'], q);
      }
    });

    test('staff refund by mutation; a clerk without the permission cannot', async () => {
      const o = await gql('mutation($i: CheckoutInput!) { checkout(input: $i) { id total status } }', { i: { lines: [{ variantId: cat.v.LAMP, quantity: 1 }], email: 'r@example.com', payment: { provider: 'test', cardNumber: '4242424242424242' } } }, { token: shop.token });
      const order = o.data?.checkout as { id: string; total: number; status: string };
      assert.equal(order.status, 'paid');
      const role = await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name: 'Viewer', permissions: ['orders:read'] } });
      const email = 'viewer@example.com';
      await call(t.app, { method: 'POST', url: '/api/users', token: shop.token, body: { email, name: 'V', password: PASSWORD, role_id: role.json.id } });
      const viewer = (await login(t.app, shop.slug, email)).json.access_token as string;
      assert.deepEqual(codes(await gql('mutation($id: ID!) { orderRefund(id: $id, input: { amount: 100 }) { id } }', { id: order.id }, { token: viewer })), ['permission_denied']);
      const r = await gql('mutation($id: ID!, $a: Int) { orderRefund(id: $id, input: { amount: $a }) { status amountRefunded } }', { id: order.id, a: order.total }, { token: shop.token });
      assert.deepEqual(r.data?.orderRefund, { status: 'refunded', amountRefunded: order.total });
    });

    test('hostile queries: too deep, too costly, too many aliases — coded errors, never a 5xx', async () => {
      const deep = await gql('{ collections { nodes { products { nodes { category { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } } } }', {}, { pk: shop.pk });
      assert.ok(deep.status < 500);
      assert.deepEqual(codes(deep), ['query_too_deep'], JSON.stringify(deep));
      const costly = await gql('{ collections(first: 100) { nodes { products(first: 100) { nodes { variants { id sku price } } } } } }', {}, { pk: shop.pk });
      assert.ok(costly.status < 500);
      assert.deepEqual(codes(costly), ['query_too_costly']);
      const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: products(first: 1) { nodes { id } }`).join(' ');
      const many = await gql(`{ ${aliases} }`, {}, { pk: shop.pk });
      assert.ok(many.status < 500);
      assert.ok(codes(many).includes('too_many_aliases'));
    });

    test('no N+1: a page of 20 products with variants, stock and categories costs the same number of statements as a page of 2', async () => {
      const cats = [];
      for (let i = 0; i < 3; i++) cats.push((await call(t.app, { method: 'POST', url: '/api/categories', token: shop.token, body: { name: `Cat N${i}` } })).json.id as string);
      for (let i = 0; i < 20; i++) {
        const p = await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title: `Item ${i}`, status: 'active', category_id: cats[i % 3], options: [{ name: 'Size', values: ['S', 'M'] }], variants: [{ sku: `N1-${i}-a`, price: 100 + i, stock: 5, option_values: { Size: 'S' } }, { sku: `N1-${i}-b`, price: 200 + i, stock: 0, option_values: { Size: 'M' } }] } });
        assert.equal(p.statusCode, 201, p.body);
      }
      // Staff credentials: their answers are never cached, so every run really reads.
      const q = 'query($n: Int) { products(first: $n) { nodes { id title variants { sku price inStock available } category { id name parent { id } } } } }';
      // The fewest of three runs: a background heartbeat may land inside one.
      const count = async (n: number) => {
        let fewest = Infinity;
        for (let i = 0; i < 3; i++) {
          const before = statements.count;
          const r = await gql(q, { n }, { token: shop.token });
          fewest = Math.min(fewest, statements.count - before);
          assert.equal(r.errors, undefined, JSON.stringify(r.errors));
          assert.equal((r.data?.products as { nodes: unknown[] }).nodes.length, n);
        }
        return fewest;
      };
      const two = await count(2);
      const twenty = await count(20);
      assert.equal(twenty, two, `20 products: ${twenty} statements, 2 products: ${two}`);
      assert.ok(twenty <= 8, `${twenty} statements`);
    });

    test('the served schema is the committed schema.graphql', async () => {
      const committed = readFileSync(join(import.meta.dirname, '..', 'schema.graphql'), 'utf8');
      assert.equal(printSchema(t.app.graphql.schema).trim(), committed.trim(), 'run `node bin/stockroom.js graphql schema > schema.graphql`');
    });
  });
}

describe('GraphQL subscriptions (graphql-transport-ws), across nodes', () => {
  const pick = engines().find((e) => e.name === 'postgres' && e.redisUrl) ?? engines()[0]!;

  test(`a customer watches their order change while staff capture and refund it by mutation [${pick.name}${pick.redisUrl ? ', two nodes' : ''}]`, async () => {
    const { createClient } = await import('graphql-ws');
    const { buildApp } = await import('../src/app.ts');
    const { createDb } = await import('../src/db/database.ts');
    const { listen, publish } = await import('./realtime-helpers.ts');
    const prefix = `test:${Date.now()}:gql:`;
    const t = await startApp(pick, { redisPrefix: prefix, realtimeTimings: { pollMs: 300 } });
    const two = pick.redisUrl ? { db: createDb(t.config.database) } : null;
    const node2 = two ? await buildApp({ config: t.config, db: two.db, redisPrefix: prefix, realtimeTimings: { pollMs: 300 } }) : t.app;
    const clients: { dispose(): unknown }[] = [];
    try {
      await listen(t.app);
      const u2 = node2 === t.app ? await (async () => ({ ws: `ws://127.0.0.1:${(t.app.server.address() as { port: number }).port}/graphql` }))() : { ws: (await listen(node2)).ws.replace('/api/realtime', '/graphql') };
      const shop = await createShop(t.app);
      const other = await createShop(t.app);
      const cat = await seedCatalogue(t.app, shop);
      const gql = async (query: string, variables: Record<string, unknown>, creds: { token?: string; pk?: string }) => {
        const r = await call(t.app, { method: 'POST', url: '/graphql', ...creds, body: { query, variables } });
        return JSON.parse(r.body) as Gql;
      };
      await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email: 'sub@example.com', password: PASSWORD } });
      const customer = (await call(t.app, { method: 'POST', url: '/api/customers/login', pk: shop.pk, body: { email: 'sub@example.com', password: PASSWORD } })).json.access_token as string;
      const cart = await gql('mutation($i: CartCreateInput!) { cartCreate(input: $i) { id } }', { i: { lines: [{ variantId: cat.v.MUG, quantity: 1 }] } }, { token: customer });
      const placed = await gql('mutation($c: ID!) { checkout(input: { cartId: $c, payment: { provider: "manual" } }) { id status total } }', { c: (cart.data?.cartCreate as { id: string }).id }, { token: customer });
      const order = placed.data?.checkout as { id: string; status: string; total: number };
      assert.equal(order.status, 'pending_payment', JSON.stringify(placed));
      await publish(t.db, t.app);

      const seen: { status: string; event: string }[] = [];
      const errors: unknown[] = [];
      const sub = (token: string, query: string, onData: (d: Record<string, unknown>) => void, onError: (e: unknown) => void) => {
        const client = createClient({ url: u2.ws, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
        clients.push(client);
        client.subscribe({ query }, { next: (v) => onData(v.data as Record<string, unknown>), error: onError, complete: () => {} });
      };
      sub(customer, `subscription { orderUpdated(orderId: "${order.id}") { event status orderId } }`, (d) => seen.push(d.orderUpdated as { status: string; event: string }), (e) => errors.push(e));
      // Another shop's staff cannot follow this order's chat: refused with REST's code.
      const refused: unknown[] = [];
      sub(other.token, `subscription { orderMessages(orderId: "${order.id}") { event } }`, () => refused.push('data'), (e) => refused.push(e));
      await new Promise((r) => setTimeout(r, 500));

      const staff = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      const captured = await gql('mutation($id: ID!) { orderCapture(id: $id) { status } }', { id: order.id }, { token: staff });
      assert.deepEqual(captured.data, { orderCapture: { status: 'paid' } });
      const start = Date.now();
      await publish(t.db, t.app);
      for (let i = 0; i < 100 && !seen.some((s) => s.status === 'paid'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(seen.some((s) => s.event === 'order.paid' && s.status === 'paid'), JSON.stringify({ seen, errors }));
      assert.ok(Date.now() - start < 1000);
      const refunded = await gql('mutation($id: ID!, $a: Int) { orderRefund(id: $id, input: { amount: $a }) { status } }', { id: order.id, a: order.total }, { token: staff });
      assert.deepEqual(refunded.data, { orderRefund: { status: 'refunded' } });
      await publish(t.db, t.app);
      for (let i = 0; i < 100 && !seen.some((s) => s.status === 'refunded'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen.map((s) => s.event), ['order.paid', 'order.refunded']);
      // Another shop sees nothing of it.
      const theirs = await gql('query($id: ID!) { order(id: $id) { id } }', { id: order.id }, { token: other.token });
      assert.equal(theirs.errors?.[0]?.extensions.code, 'resource_not_found');
      assert.equal(refused.length, 1);
      assert.match(JSON.stringify(refused[0]), /resource_not_found|not found/);
    } finally {
      for (const c of clients) await c.dispose();
      if (node2 !== t.app) await node2.close();
      if (two) await two.db.destroy();
      await t.close();
    }
  });
});

describe('GraphQL: configuration, persisted queries, the typed client', () => {
  test('introspection can be turned off (production default); APQ: a hash alone once the query is known', async () => {
    const t = await startApp(engines()[0]!, { env: { GRAPHQL_INTROSPECTION: 'false' } });
    try {
      const shop = await createShop(t.app);
      const ask = async (body: object) => JSON.parse((await call(t.app, { method: 'POST', url: '/graphql', pk: shop.pk, body })).body) as Gql;
      const intro = await ask({ query: '{ __schema { types { name } } }' });
      assert.equal(intro.errors?.[0]?.extensions.code, 'introspection_disabled');
      const query = '{ products(first: 1) { nodes { id } } }';
      const { createHash } = await import('node:crypto');
      const sha256Hash = createHash('sha256').update(query).digest('hex');
      const unknown = await ask({ extensions: { persistedQuery: { version: 1, sha256Hash } } });
      assert.equal(unknown.errors?.[0]?.message, 'PersistedQueryNotFound');
      const registered = await ask({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } });
      assert.ok(registered.data?.products);
      const byHash = await ask({ extensions: { persistedQuery: { version: 1, sha256Hash } } });
      assert.deepEqual(byHash.data, registered.data);
      // GraphiQL is off outside development.
      assert.equal((await call(t.app, { url: '/graphiql' })).statusCode, 404);
    } finally {
      await t.close();
    }
  });

  test('the typed gql.tada client browses, fills a cart and checks out; its introspection types match schema.graphql', async () => {
    const t = await startApp(engines()[0]!);
    try {
      const { listen } = await import('./realtime-helpers.ts');
      const u = await listen(t.app);
      const shop = await createShop(t.app);
      await seedCatalogue(t.app, shop);
      const { shop: buy } = await import('../examples/graphql-client.ts');
      const r = await buy(`${u.http}/graphql`, shop.pk);
      assert.equal(r.order.status, 'paid');
      assert.ok(r.products >= 3 && r.total > 0);
    } finally {
      await t.close();
    }
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tada-'));
    try {
      const root = join(import.meta.dirname, '..');
      execFileSync(process.execPath, [join(root, 'node_modules/gql.tada/bin/cli.js'), 'generate-output', '--output', join(dir, 'env.d.ts')], { cwd: root, stdio: 'pipe' });
      assert.equal(readFileSync(join(dir, 'env.d.ts'), 'utf8'), readFileSync(join(root, 'examples/graphql-env.d.ts'), 'utf8'), 'run `npx gql.tada generate-output` after changing the schema');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
