import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PASSWORD, call, createShop, engines, login, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';

/** A shop's own app: checks Stockroom's signature the way docs/integration.md shows, and says what it saw. */
function appServer(secret: () => string) {
  const seen: { headers: IncomingMessage['headers']; body: string; valid: boolean }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += String(d)));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://app');
      if (url.pathname === '/slow') return void setTimeout(() => res.end('{}'), 1500);
      const h = req.headers;
      const query = new URLSearchParams(url.search);
      query.sort();
      const expected = createHmac('sha256', secret()).update([req.method, url.pathname, query.toString(), h['x-stockroom-timestamp'], h['x-stockroom-shop'], h['x-stockroom-customer']].join('\n')).digest('hex');
      const valid = expected === h['x-stockroom-signature'] && Math.abs(Date.now() / 1000 - Number(h['x-stockroom-timestamp'])) < 300;
      seen.push({ headers: h, body, valid });
      res.writeHead(valid ? 200 : 401, { 'content-type': 'application/json', 'set-cookie': 'app=1' }).end(JSON.stringify({ path: url.pathname, valid, customer: h['x-stockroom-customer'] || null, echo: body ? JSON.parse(body) : null }));
    });
  });
  return { server, seen };
}

for (const engine of engines()) {
  describe(`app proxy (the gateway) [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let other: Shop;
    let secret = '';
    const app = appServer(() => secret);
    let base = '';

    before(async () => {
      await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      t = await startApp(engine, { env: { WEBHOOKS_ALLOW_PRIVATE: 'true', METRICS_TOKEN: 'metrics-token-0123456789abcdef' } });
      shop = await createShop(t.app);
      other = await createShop(t.app);
      const r = await call(t.app, { method: 'POST', url: '/api/apps', token: shop.token, body: { handle: 'loyalty', name: 'Loyalty points', url: base } });
      assert.equal(r.statusCode, 201, r.body);
      secret = r.json.secret as string;
    });
    after(async () => {
      await t.close();
      await new Promise<void>((r) => (app.server as Server).close(() => r()));
    });

    test('a storefront request reaches the app with a context it can verify, and none of the caller’s credentials', async () => {
      const r = await call(t.app, { url: '/apps/loyalty/points?b=2&a=1', pk: shop.pk });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json, { path: '/points', valid: true, customer: null, echo: null });
      assert.equal(r.headers['set-cookie'], undefined, 'the app cannot set cookies on the gateway’s domain');
      const got = app.seen.at(-1)!;
      assert.equal(got.headers['x-stockroom-shop'], shop.tenantId);
      assert.equal(got.headers['x-publishable-key'], undefined);
      assert.equal(got.headers.authorization, undefined);
      assert.ok(got.headers['x-request-id']);
    });

    test('a logged-in customer is named in the context; a POST body is forwarded', async () => {
      await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email: 'proxy@example.com', password: PASSWORD } });
      const login2 = await call(t.app, { method: 'POST', url: '/api/customers/login', pk: shop.pk, body: { email: 'proxy@example.com', password: PASSWORD } });
      const r = await call(t.app, { method: 'POST', url: '/apps/loyalty/redeem', token: login2.json.access_token as string, body: { points: 50 } });
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.json.valid, true);
      assert.match(String(r.json.customer), /^cus_/);
      assert.deepEqual(r.json.echo, { points: 50 });
    });

    test('staff reach apps under /api/apps with apps:read; others are refused as REST refuses', async () => {
      assert.equal((await call(t.app, { url: '/api/apps/loyalty/admin/report', token: shop.token })).json.valid, true);
      const role = await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name: 'No apps', permissions: ['orders:read'] } });
      await call(t.app, { method: 'POST', url: '/api/users', token: shop.token, body: { email: 'noapps@example.com', name: 'N', password: PASSWORD, role_id: role.json.id } });
      const noapps = (await login(t.app, shop.slug, 'noapps@example.com')).json.access_token as string;
      assert.equal(problemOf(await call(t.app, { url: '/api/apps/loyalty/admin/report', token: noapps })).code, 'permission_denied');
      assert.equal(problemOf(await call(t.app, { url: '/apps/loyalty/points' })).status, 401);
      // Another shop has no app of that name.
      assert.equal(problemOf(await call(t.app, { url: '/apps/loyalty/points', pk: other.pk })).status, 404);
      assert.equal((await call(t.app, { url: '/api/apps', token: other.token })).json.data?.length, 0);
    });

    test('a slow app answers 504; a dead app 502, and after five failures its circuit opens: 503 at once', async () => {
      assert.equal((await call(t.app, { method: 'POST', url: '/api/apps', token: shop.token, body: { handle: 'slow', name: 'Slow', url: base, timeout_ms: 200 } })).statusCode, 201);
      assert.deepEqual(problemOf(await call(t.app, { url: '/apps/slow/slow', pk: shop.pk })), { status: 504, code: 'app_timeout' });
      const dead = createServer();
      await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
      const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
      await new Promise<void>((r) => dead.close(() => r()));
      assert.equal((await call(t.app, { method: 'POST', url: '/api/apps', token: shop.token, body: { handle: 'dead', name: 'Dead', url: deadUrl } })).statusCode, 201);
      for (let i = 0; i < 5; i++) assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/apps/dead/x', pk: shop.pk, body: {} })), { status: 502, code: 'app_unreachable' });
      const t0 = performance.now();
      const open = await call(t.app, { url: '/apps/dead/x', pk: shop.pk });
      assert.deepEqual(problemOf(open), { status: 503, code: 'app_unavailable' });
      assert.ok(open.headers['retry-after']);
      assert.ok(performance.now() - t0 < 50, 'fast: the app is not called');
      // The loyalty app is not affected by its neighbour's circuit.
      assert.equal((await call(t.app, { url: '/apps/loyalty/points', pk: shop.pk })).statusCode, 200);
      // Per-app figures on /metrics.
      const m = (await call(t.app, { url: '/metrics', token: 'metrics-token-0123456789abcdef' })).body;
      assert.ok(m.includes(`app_proxy_circuit_refusals{shop="${shop.tenantId}",app="dead"} 1`), 'circuit refusals');
      assert.ok(m.includes(`app_proxy_failures{shop="${shop.tenantId}",app="dead"} 5`), 'failures');
      assert.ok(new RegExp(`app_proxy_requests\\{shop="${shop.tenantId}",app="loyalty"\\} [4-9]`).test(m), 'requests');
      // Every outside call by outcome: the proxy's successes and failures.
      assert.ok(/outside_call_duration_seconds_count\{target="app_proxy",outcome="success"\} [1-9]/.test(m), 'proxy successes timed');
      assert.ok(/outside_call_duration_seconds_count\{target="app_proxy",outcome="failure"\} [1-9]/.test(m), 'proxy failures timed');
    });
  });
}

describe('app URLs are checked like webhooks', () => {
  test('an app inside the deployment is refused in production', async () => {
    const t = await startApp(engines()[0]!);
    try {
      const shop = await createShop(t.app);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/apps', token: shop.token, body: { handle: 'inside', name: 'Inside', url: 'http://127.0.0.1:9/' } })).code.startsWith('app_url_'), true);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/apps', token: shop.token, body: { handle: 'Bad Handle', name: 'X', url: 'https://example.com' } })).code, 'invalid_handle');
    } finally {
      await t.close();
    }
  });
});
