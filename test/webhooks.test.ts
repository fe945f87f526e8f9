import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { networkInterfaces } from 'node:os';
import { Webhook } from 'standardwebhooks';
import { RefusedAddress, outgoingFetch } from '../src/outgoing/url-guard.ts';
import { EVENT_CONSUMERS, jobHandlers } from '../src/background.ts';
import { createMailer } from '../src/modules/email/mailer.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { Worker } from '../src/modules/jobs/worker.ts';
import { dispatchEvents } from '../src/workflows/dispatch-events.ts';
import { call, createShop, engines, login, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';
import { SUCCESS, seedCatalogue, type Catalogue } from './commerce-helpers.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver that answers from a script of status codes (the last one repeats). */
async function receiver(script: Record<string, number[]>): Promise<{ url: string; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const seen: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      const path = req.url ?? '/';
      got.push({ path, headers: req.headers, body });
      const codes = script[path] ?? [200];
      const i = seen[path] ?? 0;
      seen[path] = i + 1;
      res.writeHead(codes[Math.min(i, codes.length - 1)] as number).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, close: () => new Promise((r) => server.close(() => r())) };
}

for (const engine of engines()) {
  describe(`outgoing webhooks [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let cat: Catalogue;
    let rx: Awaited<ReturnType<typeof receiver>>;
    // Starts 36 minutes back, so after the retry schedule (35 min 5 s) the signatures are timestamped about now,
    // which the standardwebhooks verifier insists on.
    const clock = new ManualClock(new Date(Date.now() - 36 * 60_000));
    let worker: Worker;
    before(async () => {
      rx = await receiver({ '/flaky': [500, 503, 500, 200], '/gone': [410] });
      t = await startApp(engine, { clock, env: { WEBHOOKS_ALLOW_PRIVATE: 'true' } });
      shop = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop);
      worker = new Worker({ db: t.db, clock, log: t.app.log, handlers: jobHandlers({ gateway: t.app.payments, webhooksAllowPrivate: true, mailer: createMailer({ smtpUrl: null, from: t.config.mail.from, dataDir: t.config.dataDir, log: t.app.log }) }), queues: { webhooks: 4 } });
    });
    after(async () => {
      await t.close();
      await rx.close();
    });

    const order = async () => {
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      const r = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], email: 'w@example.com', payment: SUCCESS } });
      assert.equal(r.statusCode, 201, r.body);
      return r.json.id as string;
    };
    // Runs the worker until no job is ready now: one tick claims at most the queue's concurrency (4), and a test
    // may have more deliveries ready than that (other endpoints subscribe to the same orders).
    const run = async () => {
      let n = 0;
      for (;;) {
        const k = await worker.tick();
        await worker.idle();
        if (k === 0) return n;
        n += k;
      }
    };

    test('a receiver that fails three times then recovers gets the event, signed so the standardwebhooks package accepts it', async () => {
      const ep = await call(t.app, { method: 'POST', url: '/api/webhook-endpoints', token: shop.token, body: { url: `${rx.url}/flaky`, events: ['order.paid'] } });
      assert.equal(ep.statusCode, 201, ep.body);
      const secret = ep.json.secret as string;
      assert.match(secret, /^whsec_/);
      const orderId = await order();
      assert.ok((await dispatchEvents(t.db, clock, EVENT_CONSUMERS)) >= 2, 'order.created and order.paid were handed on');
      assert.equal(await dispatchEvents(t.db, clock, EVENT_CONSUMERS), 0, 'each event once');
      const schedule = [0, 5_000, 300_000, 1_800_000];
      for (const [i, wait] of schedule.entries()) {
        clock.advance(wait);
        assert.equal(await run(), 1, `attempt ${i + 1} ran`);
      }
      const flaky = rx.got.filter((r) => r.path === '/flaky');
      assert.equal(flaky.length, 4);
      assert.equal(new Set(flaky.map((r) => r.headers['webhook-id'])).size, 1, 'the same webhook-id on every retry');
      const last = flaky.at(-1)!;
      const verified = new Webhook(secret).verify(last.body, { 'webhook-id': String(last.headers['webhook-id']), 'webhook-timestamp': String(last.headers['webhook-timestamp']), 'webhook-signature': String(last.headers['webhook-signature']) }) as { type: string; data: { order_id: string } };
      assert.equal(verified.type, 'order.paid');
      assert.equal(verified.data.order_id, orderId);
      assert.throws(() => new Webhook('whsec_' + Buffer.from('x'.repeat(24)).toString('base64')).verify(last.body, last.headers as Record<string, string>));
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string; // the clock moved 35 minutes
      const log = await call(t.app, { url: `/api/webhook-endpoints/${ep.json.id}/deliveries`, token: shop.token });
      const d = log.json.data?.[0] as { status: string; attempts: { status_code: number }[] };
      assert.equal(d.status, 'succeeded');
      assert.deepEqual(d.attempts.map((a) => a.status_code), [500, 503, 500, 200]);
      assert.equal(await run(), 0, 'nothing left to deliver');

      // Replay sends it once more; rotating the secret signs the next delivery with the new one.
      const rotated = await call(t.app, { method: 'POST', url: `/api/webhook-endpoints/${ep.json.id}/rotate-secret`, token: shop.token });
      assert.notEqual(rotated.json.secret, secret);
      assert.equal((await call(t.app, { method: 'POST', url: `/api/webhook-deliveries/${(log.json.data?.[0] as { id: string }).id}/replay`, token: shop.token })).statusCode, 202);
      assert.equal(await run(), 1);
      const replayed = rx.got.filter((r) => r.path === '/flaky').at(-1)!;
      assert.ok(new Webhook(rotated.json.secret as string).verify(replayed.body, replayed.headers as Record<string, string>));
    });

    test('a 410 Gone disables the endpoint and stops retries', async () => {
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      const ep = await call(t.app, { method: 'POST', url: '/api/webhook-endpoints', token: shop.token, body: { url: `${rx.url}/gone`, events: ['*'] } });
      await order();
      await dispatchEvents(t.db, clock, EVENT_CONSUMERS);
      await run();
      const after = await call(t.app, { url: `/api/webhook-endpoints/${ep.json.id}`, token: shop.token });
      assert.equal(after.json.status, 'disabled');
      assert.match(String(after.json.disabled_reason), /410/);
      const before = rx.got.length;
      clock.advance(3_600_000);
      await run();
      assert.equal(rx.got.filter((r) => r.path === '/gone').length, rx.got.slice(0, before).filter((r) => r.path === '/gone').length, 'no more attempts');
      await order();
      await dispatchEvents(t.db, clock, EVENT_CONSUMERS);
      const deliveries = await call(t.app, { url: `/api/webhook-endpoints/${ep.json.id}/deliveries`, token: shop.token });
      assert.ok((deliveries.json.data ?? []).every((d) => d.status === 'failed'), 'a disabled endpoint gets no new deliveries');
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/webhook-deliveries/${deliveries.json.data?.[0]?.id}/replay`, token: shop.token })).code, 'webhook_endpoint_disabled');
    });

    test('events committed before a crash are delivered by the next dispatcher; concurrent dispatchers hand each on once', async () => {
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      const ep = await call(t.app, { method: 'POST', url: '/api/webhook-endpoints', token: shop.token, body: { url: `${rx.url}/ok`, events: ['order.created'] } });
      const ids = [await order(), await order()];
      // The process "died" here: nothing was dispatched. A fresh run picks the events up.
      const [a, b] = await Promise.all([dispatchEvents(t.db, clock, EVENT_CONSUMERS), dispatchEvents(t.db, clock, EVENT_CONSUMERS)]);
      assert.ok(a + b >= 2);
      const deliveries = await t.db.selectFrom('webhook_deliveries').selectAll().where('tenant_id', '=', shop.tenantId).where('endpoint_id', '=', ep.json.id as string).execute();
      assert.equal(deliveries.length, 2);
      await run();
      const bodies = rx.got.filter((r) => r.path === '/ok').map((r) => (JSON.parse(r.body) as { data: { order_id: string } }).data.order_id);
      assert.deepEqual(bodies.sort(), ids.sort());
    });

    test("another shop cannot see or touch this shop's endpoints and deliveries", async () => {
      const other = await createShop(t.app);
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      const ep = (await call(t.app, { url: '/api/webhook-endpoints', token: shop.token })).json.data![0]!;
      for (const [method, url, body] of [
        ['GET', `/api/webhook-endpoints/${ep.id}`, undefined],
        ['PATCH', `/api/webhook-endpoints/${ep.id}`, { status: 'disabled' }],
        ['DELETE', `/api/webhook-endpoints/${ep.id}`, undefined],
        ['POST', `/api/webhook-endpoints/${ep.id}/rotate-secret`, undefined],
        ['GET', `/api/webhook-endpoints/${ep.id}/deliveries`, undefined],
      ] as const) {
        assert.equal(problemOf(await call(t.app, { method, url, token: other.token, body })).status, 404, `${method} ${url}`);
      }
      assert.deepEqual((await call(t.app, { url: '/api/webhook-endpoints', token: other.token })).json.data, []);
      assert.equal((await call(t.app, { url: `/api/webhook-endpoints/${ep.id}`, token: shop.token })).json.secret, null, 'the secret is not shown again');
    });
  });

  describe(`webhook URL rules in production mode [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    before(async () => {
      t = await startApp(engine);
      shop = await createShop(t.app);
    });
    after(() => t.close());
    test('http, private, loopback, link-local and malformed URLs are refused with a code', async () => {
      // This host's own interface addresses, whatever range they are in.
      const own = Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal).map((i) => i!.address.replace(/%.*$/, ''));
      const cases: [string, string][] = [
        ['http://example.com/hook', 'webhook_url_not_https'],
        ['https://127.0.0.1/hook', 'webhook_url_private'],
        ['https://localhost/hook', 'webhook_url_private'],
        ['https://10.1.2.3/hook', 'webhook_url_private'],
        ['https://192.168.0.10/hook', 'webhook_url_private'],
        ['https://169.254.169.254/latest/meta-data', 'webhook_url_private'],
        ['https://[::1]/hook', 'webhook_url_private'],
        ['https://[::ffff:127.0.0.1]/hook', 'webhook_url_private'],
        // Documentation ranges, and the IPv6 forms that embed 127.0.0.1.
        ['https://192.0.2.2/hook', 'webhook_url_private'],
        ['https://198.51.100.7/hook', 'webhook_url_private'],
        ['https://203.0.113.9/hook', 'webhook_url_private'],
        ['https://[2001:db8::1]/hook', 'webhook_url_private'],
        ['https://[::127.0.0.1]/hook', 'webhook_url_private'],
        ['https://[::ffff:0:7f00:1]/hook', 'webhook_url_private'],
        ['https://[::ffff:7f00:1]/hook', 'webhook_url_private'],
        ['https://[64:ff9b::7f00:1]/hook', 'webhook_url_private'],
        ['https://[2002:7f00:1::]/hook', 'webhook_url_private'],
        ...own.map((a): [string, string] => [`https://${a.includes(':') ? `[${a}]` : a}/hook`, 'webhook_url_private']),
        ['ftp://example.com/hook', 'webhook_url_invalid'],
        ['not a url', 'webhook_url_invalid'],
        ['https://user:pass@8.8.8.8/hook', 'webhook_url_invalid'],
      ];
      for (const [url, code] of cases) {
        assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/webhook-endpoints', token: shop.token, body: { url, events: ['order.paid'] } })), { status: 422, code }, url);
      }
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/webhook-endpoints', token: shop.token, body: { url: 'https://8.8.8.8/hook', events: ['not.an.event'] } })).code, 'validation_failed');
      const ok = await call(t.app, { method: 'POST', url: '/api/webhook-endpoints', token: shop.token, body: { url: 'https://8.8.8.8/hook', events: ['order.paid'] } });
      assert.equal(ok.statusCode, 201, 'a public address is accepted');
    });

    test('a shop has at most 20 endpoints: the next is refused, the list is never cut off', async () => {
      const have = ((await call(t.app, { url: '/api/webhook-endpoints', token: shop.token })).json.data ?? []).length;
      for (let i = have; i < 20; i++) assert.equal((await call(t.app, { method: 'POST', url: '/api/webhook-endpoints', token: shop.token, body: { url: `https://8.8.8.8/hook-${i}`, events: ['order.paid'] } })).statusCode, 201);
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/webhook-endpoints', token: shop.token, body: { url: 'https://8.8.8.8/one-more', events: ['order.paid'] } })), { status: 409, code: 'too_many_webhook_endpoints' });
      assert.equal(((await call(t.app, { url: '/api/webhook-endpoints', token: shop.token })).json.data ?? []).length, 20);
    });

    test('the connection itself resolves through the guard: a name that points inside is refused at connect time', async () => {
      // checkOutgoingUrl is not consulted here: outgoingFetch's own lookup refuses, so a name re-pointed after the
      // check (DNS rebinding) cannot reach an internal address.
      await assert.rejects(outgoingFetch('https://localhost:8443/hook', { method: 'POST', allowPrivate: false }), (e: unknown) => (e as { cause?: unknown }).cause instanceof RefusedAddress || e instanceof RefusedAddress);
      await assert.rejects(outgoingFetch('https://[::ffff:7f00:1]:8443/hook', { method: 'POST', allowPrivate: false }), RefusedAddress);
    });
  });
}
