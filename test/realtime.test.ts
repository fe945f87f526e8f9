import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SUCCESS, seedCatalogue, type Catalogue } from './commerce-helpers.ts';
import { PASSWORD, PLATFORM_SECRET, call, createShop, engines, login, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';
import { Inbox, client, listen, publish, rawSocket } from './realtime-helpers.ts';
import type { RealtimeClient } from '../client/realtime.ts';

/**
 * Realtime from outside: real WebSockets (and SSE) against a listening server, events committed through the REST
 * API and handed on by the outbox publisher — what a shop's console and storefront would see.
 */
for (const engine of engines()) {
  describe(`realtime [${engine.name}]`, () => {
    let t: TestApp;
    let url: { ws: string; http: string };
    let shop: Shop;
    let other: Shop;
    let cat: Catalogue;
    const clients: RealtimeClient[] = [];
    const open = (creds: { token?: string; publishable_key?: string }, onClose?: (code: number, reason: string) => void) => {
      const c = client(url.ws, creds, onClose);
      clients.push(c);
      return c;
    };
    const fresh = async (s: Shop) => (s.token = (await login(t.app, s.slug, s.email)).json.access_token as string);
    const order = async (payment: object = { provider: 'manual' }, lines = [{ variant_id: cat.v.MUG, quantity: 1 }]) => {
      const r = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines, email: 'buyer@example.com', payment } });
      assert.equal(r.statusCode, 201, r.body);
      return r.json;
    };

    before(async () => {
      t = await startApp(engine, { env: { REALTIME_MAX_CONNECTIONS_PER_IP: '1000' }, realtimeTimings: { pollMs: 200, revalidateMs: 300 } });
      url = await listen(t.app);
      shop = await createShop(t.app);
      other = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop);
    });
    after(async () => {
      for (const c of clients) c.close();
      await t.close();
    });

    test('staff see an order placed through REST on the order feed, with positions 1, 2, 3 … and an epoch', async () => {
      await fresh(shop);
      const inbox = new Inbox();
      const rt = open({ token: shop.token });
      rt.subscribe('orders', inbox.handlers('orders'));
      await rt.whenOpen();
      await new Promise((r) => setTimeout(r, 100));
      const o = await order(SUCCESS);
      await publish(t.db, t.app);
      await inbox.until('order.created and order.paid', () => inbox.of('orders').length >= 2);
      const [created, paid] = inbox.of('orders');
      assert.equal(created?.event, 'order.created');
      assert.equal(created?.data.order_id, o.id);
      assert.equal(paid?.event, 'order.paid');
      assert.equal(paid?.position, (created?.position ?? 0) + 1);
      assert.ok(created?.epoch, 'an epoch names the history');
    });

    test('a client that missed 5 orders resumes and receives exactly those 5, in order', async () => {
      await fresh(shop);
      const first = new Inbox();
      const a = open({ token: shop.token });
      a.subscribe('orders', first.handlers('orders'));
      await a.whenOpen();
      await order();
      await publish(t.db, t.app);
      await first.until('one order', () => first.of('orders').length >= 1);
      const seen = a.positionOf('orders');
      assert.ok(seen && seen.position > 0);
      a.close();
      const missed: string[] = [];
      for (let i = 0; i < 5; i++) missed.push((await order()).id as string);
      await publish(t.db, t.app);
      const second = new Inbox();
      const b = open({ token: shop.token });
      b.subscribe('orders', second.handlers('orders'), seen ?? undefined);
      await second.until('the 5 missed', () => second.of('orders').length >= 5);
      await new Promise((r) => setTimeout(r, 300));
      const got = second.of('orders');
      assert.deepEqual(got.map((m) => m.data.order_id), missed);
      assert.deepEqual(got.map((m) => m.position), [1, 2, 3, 4, 5].map((i) => (seen?.position ?? 0) + i));
      assert.equal(second.resets.length, 0);
    });

    test('a dropped connection reconnects by itself and resumes without gaps or repeats', async () => {
      await fresh(shop);
      const inbox = new Inbox();
      const rt = open({ token: shop.token });
      rt.subscribe('orders', inbox.handlers('orders'));
      await rt.whenOpen();
      await order();
      await publish(t.db, t.app);
      await inbox.until('first', () => inbox.of('orders').length >= 1);
      rt.drop();
      for (let i = 0; i < 3; i++) await order();
      await publish(t.db, t.app);
      await inbox.until('three more after reconnecting', () => inbox.of('orders').length >= 4);
      const positions = inbox.of('orders').map((m) => m.position as number);
      assert.deepEqual(positions, positions.map((_, i) => (positions[0] as number) + i), 'contiguous, each once');
    });

    test('a resume from a position whose history is gone is told to refetch (reset), then goes on', async () => {
      await fresh(shop);
      const inbox = new Inbox();
      const rt = open({ token: shop.token });
      rt.subscribe('orders', inbox.handlers('orders'), { epoch: 'not-this-epoch', position: 3 });
      await inbox.until('a reset', () => inbox.resets.length === 1);
      assert.equal(inbox.resets[0]?.reason, 'epoch_changed');
      await order();
      await publish(t.db, t.app);
      await inbox.until('the next order', () => inbox.of('orders', 'order.created').length === 1);
    });

    test('nothing is announced for an order that rolled back', async () => {
      await fresh(shop);
      await publish(t.db, t.app);
      const inbox = new Inbox();
      const rt = open({ token: shop.token });
      rt.subscribe('orders', inbox.handlers('orders'));
      rt.subscribe('inventory', inbox.handlers('inventory'));
      await rt.whenOpen();
      await new Promise((r) => setTimeout(r, 200));
      const tooMany = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.LAMP, quantity: 900 }], email: 'x@example.com', payment: { provider: 'manual' } } });
      assert.equal(problemOf(tooMany).code, 'insufficient_stock');
      const ok = await order();
      await publish(t.db, t.app);
      await inbox.until('the good order', () => inbox.of('orders').length >= 1 && inbox.of('inventory').length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(inbox.of('orders').map((m) => m.data.order_id), [ok.id]);
      assert.deepEqual(inbox.of('inventory').map((m) => m.event), ['inventory.changed']);
      const change = (inbox.of('inventory')[0]?.data.changes as { variant_id: string; delta: number }[])[0];
      assert.deepEqual([change?.variant_id, change?.delta], [cat.v.MUG, -1]);
    });

    test('the storefront follows a product’s availability with the publishable key (in stock or not, never the count)', async () => {
      const p = await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title: 'Rare vase', status: 'active', variants: [{ sku: 'VASE', price: 9900, stock: 1 }] } });
      const productId = p.json.id as string;
      const variantId = (p.json.variants as { id: string }[])[0]?.id as string;
      const inbox = new Inbox();
      const rt = open({ publishable_key: shop.pk });
      rt.subscribe(`products/${productId}/availability`, inbox.handlers('a'));
      await rt.whenOpen();
      await new Promise((r) => setTimeout(r, 200));
      await order({ provider: 'manual' }, [{ variant_id: variantId, quantity: 1 }]);
      await publish(t.db, t.app);
      await inbox.until('sold out', () => inbox.of(`products/${productId}/availability`).length >= 1);
      const m = inbox.of(`products/${productId}/availability`).at(-1);
      assert.deepEqual(m?.data.variants, [{ variant_id: variantId, in_stock: false }]);
      // Another shop's publishable key does not find the product; a draft is not found for the storefront.
      const theirs = new Inbox();
      const ot = open({ publishable_key: other.pk });
      ot.subscribe(`products/${productId}/availability`, theirs.handlers('x'));
      await theirs.until('refused', () => theirs.errors.length === 1);
      assert.equal(theirs.errors[0]?.code, 'resource_not_found');
    });

    test('subscriptions go through the same policy as REST: wrong credentials are refused with REST’s codes', async () => {
      await fresh(shop);
      await fresh(other);
      const o = await order();
      const role = await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name: `Catalogue ${Date.now()}`, permissions: ['catalog:read'] } });
      const email = `cat-${Date.now()}@example.com`;
      assert.equal((await call(t.app, { method: 'POST', url: '/api/users', token: shop.token, body: { email, name: 'Cat', password: PASSWORD, role_id: role.json.id } })).statusCode, 201);
      const catToken = (await login(t.app, shop.slug, email)).json.access_token as string;
      const cases: [string, { token?: string; publishable_key?: string }, string, string][] = [
        ['a publishable key on the order feed', { publishable_key: shop.pk }, 'orders', 'principal_not_allowed'],
        ['staff without orders:read', { token: catToken }, 'orders', 'permission_denied'],
        ['another shop on this shop’s order chat', { token: other.token }, `orders/${o.id}/messages`, 'resource_not_found'],
        ['a publishable key on an order chat', { publishable_key: shop.pk }, `orders/${o.id}/messages`, 'authentication_required'],
        ['staff on a customer’s own channel', { token: shop.token }, 'me/orders', 'principal_not_allowed'],
        ['anyone on a channel that does not exist', { token: shop.token }, 'tenants/ten_x/orders', 'unknown_channel'],
      ];
      for (const [what, creds, channel, code] of cases) {
        const inbox = new Inbox();
        const rt = open(creds);
        rt.subscribe(channel, inbox.handlers(channel));
        await inbox.until(what, () => inbox.errors.length === 1);
        assert.equal(inbox.errors[0]?.code, code, what);
        rt.close();
      }
    });

    test('another shop’s staff never see this shop’s orders', async () => {
      await fresh(other);
      await fresh(shop);
      const mine = new Inbox();
      const theirs = new Inbox();
      const a = open({ token: shop.token });
      const b = open({ token: other.token });
      a.subscribe('orders', mine.handlers('orders'));
      b.subscribe('orders', theirs.handlers('orders'));
      await Promise.all([a.whenOpen(), b.whenOpen()]);
      await new Promise((r) => setTimeout(r, 200));
      await order();
      await publish(t.db, t.app);
      await mine.until('mine', () => mine.of('orders').length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(theirs.got.length, 0);
    });

    test('a connection closes within seconds when its secret key is revoked', async () => {
      await fresh(shop);
      const key = await call(t.app, { method: 'POST', url: '/api/api-keys', token: shop.token, body: { type: 'secret', name: 'feed', permissions: ['orders:read'] } });
      const sock = await rawSocket(url.ws, { authorization: `Bearer ${key.json.key as string}` });
      await sock.next('welcome');
      sock.send({ type: 'subscribe', id: 1, channel: 'orders' });
      await sock.next('subscribed');
      assert.equal((await call(t.app, { method: 'DELETE', url: `/api/api-keys/${key.json.id}`, token: shop.token })).statusCode, 200);
      const closed = await Promise.race([sock.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      assert.deepEqual(closed, { code: 4001, reason: 'invalid_api_key' });
    });

    test('a connection closes when its session ends (logout) or its shop is suspended', async () => {
      const shop2 = await createShop(t.app);
      const a = await rawSocket(url.ws, { authorization: `Bearer ${shop2.token}` });
      await a.next('welcome');
      assert.equal((await call(t.app, { method: 'POST', url: '/api/auth/logout', token: shop2.token, body: {} })).statusCode, 204);
      assert.equal((await Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]))?.code, 4001);
      const fresh2 = (await login(t.app, shop2.slug, shop2.email)).json.access_token as string;
      const b = await rawSocket(url.ws, { authorization: `Bearer ${fresh2}` });
      await b.next('welcome');
      const s = await call(t.app, { method: 'POST', url: `/api/platform/tenants/${shop2.tenantId}/suspend`, body: { reason: 'unpaid' }, token: PLATFORM_SECRET });
      assert.equal(s.statusCode, 200, s.body);
      assert.deepEqual(await Promise.race([b.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]), { code: 4003, reason: 'tenant_suspended' });
    });

    test('staff see stock adjustments on the inventory channel; a customer sees their own orders change', async () => {
      await fresh(shop);
      await publish(t.db, t.app);
      const inbox = new Inbox();
      const rt = open({ token: shop.token });
      rt.subscribe('inventory', inbox.handlers('inventory'));
      await rt.whenOpen();
      await new Promise((r) => setTimeout(r, 200));
      const adj = await call(t.app, { method: 'POST', url: '/api/inventory/adjustments', token: shop.token, body: { variant_id: cat.v.NOTE, reason: 'count', set_to: 77 } });
      assert.equal(adj.statusCode, 201, adj.body);
      await publish(t.db, t.app);
      await inbox.until('the count', () => inbox.of('inventory', 'inventory.changed').length >= 1);
      const change = (inbox.of('inventory', 'inventory.changed')[0]?.data.changes as { variant_id: string; available: number }[])[0];
      assert.deepEqual([change?.variant_id, change?.available], [cat.v.NOTE, 77]);

      const email = `mine-${Date.now()}@example.com`;
      await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email, password: PASSWORD } });
      const customer = (await call(t.app, { method: 'POST', url: '/api/customers/login', pk: shop.pk, body: { email, password: PASSWORD } })).json.access_token as string;
      const cart = await call(t.app, { method: 'POST', url: '/api/carts', token: customer, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }] } });
      const placed = await call(t.app, { method: 'POST', url: '/api/orders', token: customer, body: { cart_id: cart.json.id, payment: { provider: 'manual' } } });
      assert.equal(placed.statusCode, 201, placed.body);
      await publish(t.db, t.app);
      const mine = new Inbox();
      const c = open({ token: customer });
      c.subscribe('me/orders', mine.handlers('me/orders'), { epoch: null, position: 0 });
      await mine.until('the order from the history', () => mine.of('me/orders').length >= 1);
      assert.equal((await call(t.app, { method: 'POST', url: `/api/orders/${placed.json.id}/capture`, token: shop.token, body: {} })).statusCode, 200);
      await publish(t.db, t.app);
      await mine.until('paid', () => mine.of('me/orders', 'order.paid').length === 1);
      assert.deepEqual(mine.of('me/orders').map((m) => [m.event, m.data.order_id]), [['order.created', placed.json.id], ['order.paid', placed.json.id]]);
    });

    test('the order chat: a customer’s message reaches staff, is listed over REST, and read receipts flow back', async () => {
      await fresh(shop);
      const email = `chat-${Date.now()}@example.com`;
      await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email, password: PASSWORD } });
      const customer = (await call(t.app, { method: 'POST', url: '/api/customers/login', pk: shop.pk, body: { email, password: PASSWORD } })).json.access_token as string;
      const cart = await call(t.app, { method: 'POST', url: '/api/carts', token: customer, body: { lines: [{ variant_id: cat.v.NOTE, quantity: 1 }] } });
      assert.equal(cart.statusCode, 201, cart.body);
      const placed = await call(t.app, { method: 'POST', url: '/api/orders', token: customer, body: { cart_id: cart.json.id, payment: { provider: 'manual' } } });
      assert.equal(placed.statusCode, 201, placed.body);
      const orderId = placed.json.id as string;
      await publish(t.db, t.app);

      const staffIn = new Inbox();
      const staff = open({ token: shop.token });
      staff.subscribe(`orders/${orderId}/messages`, staffIn.handlers('chat'));
      staff.subscribe('messages', staffIn.handlers('messages'));
      const custIn = new Inbox();
      const cust = open({ token: customer });
      cust.subscribe(`orders/${orderId}/messages`, custIn.handlers('chat'));
      cust.subscribe('me/orders', custIn.handlers('me'));
      await Promise.all([staff.whenOpen(), cust.whenOpen()]);
      await new Promise((r) => setTimeout(r, 200));

      const sent = await cust.request<{ id: string; author_type: string }>({ type: 'message.send', order_id: orderId, body: 'Can you gift-wrap it?' });
      assert.equal(sent.author_type, 'customer');
      await publish(t.db, t.app);
      await staffIn.until('the message on the chat and the staff feed', () => staffIn.of(`orders/${orderId}/messages`, 'order.message_created').length === 1 && staffIn.of('messages').length === 1);
      assert.equal(staffIn.of(`orders/${orderId}/messages`)[0]?.data.body, 'Can you gift-wrap it?');
      assert.equal(staffIn.of('messages')[0]?.data.unread_for_staff, 1);

      const listed = await call(t.app, { url: `/api/orders/${orderId}/messages`, token: shop.token });
      assert.deepEqual((listed.json.data ?? []).map((m) => m.body), ['Can you gift-wrap it?']);
      const mineOverRest = await call(t.app, { url: `/api/orders/${orderId}/messages`, token: customer });
      assert.equal(mineOverRest.statusCode, 200);
      assert.equal((await call(t.app, { url: '/api/conversations?unread=true', token: shop.token })).json.data?.[0]?.order_id, orderId);

      // Staff reply over REST, then read: the customer sees the reply and the read receipt.
      const reply = await call(t.app, { method: 'POST', url: `/api/orders/${orderId}/messages`, token: shop.token, body: { body: 'Of course!' } });
      assert.equal(reply.statusCode, 201, reply.body);
      const read = await call(t.app, { method: 'POST', url: `/api/orders/${orderId}/messages/read`, token: shop.token, body: {} });
      assert.equal(read.json.unread_for_staff, 0);
      assert.equal(read.json.staff_read_id, reply.json.id);
      assert.equal(read.json.unread_for_customer, 1);
      await publish(t.db, t.app);
      await custIn.until('reply and receipt', () => custIn.of(`orders/${orderId}/messages`).length >= 3);
      assert.deepEqual(custIn.of(`orders/${orderId}/messages`).map((m) => m.event), ['order.message_created', 'order.message_created', 'order.messages_read']);
      const c = await cust.request<{ unread_for_customer: number }>({ type: 'messages.read', order_id: orderId });
      assert.equal(c.unread_for_customer, 0);
      assert.equal((await call(t.app, { url: '/api/conversations?unread=true', token: shop.token })).json.data?.length, 0);

      // Another customer cannot read or write this chat; an empty message is refused with REST's code.
      await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email: `x${email}`, password: PASSWORD } });
      const stranger = (await call(t.app, { method: 'POST', url: '/api/customers/login', pk: shop.pk, body: { email: `x${email}`, password: PASSWORD } })).json.access_token as string;
      assert.equal(problemOf(await call(t.app, { url: `/api/orders/${orderId}/messages`, token: stranger })).status, 404);
      await fresh(other);
      assert.equal(problemOf(await call(t.app, { url: `/api/orders/${orderId}/messages`, token: other.token })).status, 404, 'another shop: not found');
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/orders/${orderId}/messages`, token: other.token, body: { body: 'hi' } })).status, 404);
      assert.equal((await call(t.app, { url: '/api/conversations', token: other.token })).json.data?.length, 0);
      await assert.rejects(cust.request({ type: 'message.send', order_id: orderId, body: '   ' }), (e: { code?: string }) => e.code === 'invalid_message');
    });

    test('the live dashboard: a snapshot on subscribe, then new figures when an order comes in', async () => {
      await fresh(shop);
      const inbox = new Inbox();
      const rt = open({ token: shop.token });
      rt.subscribe('dashboard', inbox.handlers('dashboard'));
      await inbox.until('a snapshot', () => inbox.of('dashboard').length >= 1);
      const before = inbox.of('dashboard').at(-1)?.data as { orders: number; gross_sales: number; top_products: unknown[] };
      const o = await order({ provider: 'manual' }, [{ variant_id: cat.v.LAMP, quantity: 2 }]);
      await publish(t.db, t.app);
      await inbox.until('the new figures', () => (inbox.of('dashboard').at(-1)?.data as { orders: number }).orders === before.orders + 1, 5000);
      const now = inbox.of('dashboard').at(-1)?.data as { orders: number; gross_sales: number; average_order_value: number; top_products: { product_id: string; quantity: number }[]; orders_last_minute: number };
      assert.equal(now.gross_sales, before.gross_sales + Number(o.total));
      assert.ok(now.orders_last_minute >= 1);
      assert.ok(now.top_products.some((p) => p.quantity >= 2));
      const pushes = inbox.of('dashboard').map((m) => m.at);
      assert.ok(pushes.length <= 3, 'pushed only when the figures changed');
    });

    test('presence: staff online, and who looks at which order', async () => {
      await fresh(shop);
      const o = await order();
      const inbox = new Inbox();
      const watcher = open({ token: shop.token });
      watcher.subscribe('presence', inbox.handlers('presence'));
      await inbox.until('a presence view', () => inbox.of('presence').length >= 1);
      await watcher.request({ type: 'presence.view', order_id: o.id });
      await inbox.until('viewing the order', () => {
        const v = inbox.of('presence').at(-1)?.data as { orders: Record<string, string[]> };
        return (v.orders[o.id as string] ?? []).length === 1;
      });
      const view = inbox.of('presence').at(-1)?.data as { online: { user_id: string }[] };
      assert.ok(view.online.length >= 1);
    });

    test('protocol hygiene: a bad frame closes 4000; no credentials closes 4001; too many frames closes 4029', async () => {
      const a = await rawSocket(url.ws);
      a.send({ type: 'nonsense' });
      assert.equal((await a.closed).code, 4000);
      const b = await rawSocket(url.ws);
      b.send({ type: 'subscribe', channel: 'orders' });
      assert.deepEqual(await b.closed, { code: 4001, reason: 'authentication_required' });
      const c = await rawSocket(url.ws, { authorization: `Bearer ${shop.token}` });
      await c.next('welcome');
      for (let i = 0; i < 100; i++) c.send({ type: 'ping' });
      assert.equal((await c.closed).code, 4029);
      const d = await rawSocket(url.ws);
      d.send({ type: 'auth', token: 'not-a-token' });
      assert.equal((await d.closed).code, 4001);
      const plain = await fetch(`${url.http}/api/realtime`);
      assert.equal(plain.status, 426);
      assert.equal(((await plain.json()) as { code: string }).code, 'upgrade_required');
    });

    test('the same channels over Server-Sent Events, resumable with Last-Event-ID', async () => {
      await fresh(shop);
      const ctl = new AbortController();
      const res = await fetch(`${url.http}/api/realtime/sse?channel=orders`, { headers: { authorization: `Bearer ${shop.token}` }, signal: ctl.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      const until = async (ok: () => boolean) => {
        const end = Date.now() + 5000;
        while (!ok()) {
          if (Date.now() > end) assert.fail(`SSE: ${text}`);
          const { value, done } = await reader.read();
          if (done) break;
          text += Buffer.from(value).toString('utf8');
        }
      };
      await until(() => text.includes('event: subscribed'));
      const o = await order();
      await publish(t.db, t.app);
      await until(() => text.includes(o.id as string));
      const id = new RegExp(`id: (\\S+)\\nevent: message\\ndata: [^\\n]*${o.id as string}`).exec(text)?.[1];
      assert.ok(id, 'a message event carries an id');
      ctl.abort();
      const o2 = await order();
      await publish(t.db, t.app);
      const again = await fetch(`${url.http}/api/realtime/sse?channel=orders`, { headers: { authorization: `Bearer ${shop.token}`, 'last-event-id': id } });
      const r2 = again.body!.getReader();
      let t2 = '';
      const end = Date.now() + 5000;
      while (!t2.includes(o2.id as string) && Date.now() < end) t2 += Buffer.from((await r2.read()).value ?? new Uint8Array()).toString('utf8');
      assert.ok(t2.includes(o2.id as string), 'the missed order came on resume');
      assert.ok(!t2.includes(`"order_id":"${o.id as string}"`), `not what was seen before: ${t2}`);
      await r2.cancel();
      // Without credentials: 401 problem+json, as REST.
      const anon = await fetch(`${url.http}/api/realtime/sse?channel=orders`);
      assert.equal(anon.status, 401);
    });

    test('the AsyncAPI document describes the channels', async () => {
      const r = await call(t.app, { url: '/api/asyncapi.json' });
      assert.equal(r.statusCode, 200);
      assert.equal(r.json.asyncapi, '3.0.0');
      const channels = r.json.channels as Record<string, { address: string | null }>;
      for (const address of ['orders', 'inventory', 'products/{productId}/availability', 'dashboard', 'orders/{orderId}/messages', 'messages', 'presence', 'me/orders']) {
        assert.ok(Object.values(channels).some((c) => c.address === address), address);
      }
    });
  });
}

describe('realtime across nodes, and shutdown', () => {
  const pg = engines().find((e) => e.name === 'postgres' && e.redisUrl);

  test('two API nodes on PostgreSQL + Redis: an order placed through node 1 reaches node 2 within a second; presence is shared', { skip: !pg && 'needs TEST_DATABASE_URL and TEST_REDIS_URL' }, async () => {
    const { buildApp } = await import('../src/app.ts');
    const { createDb } = await import('../src/db/database.ts');
    const { dispatchEvents } = await import('../src/workflows/dispatch-events.ts');
    const { EVENT_CONSUMERS } = await import('../src/background.ts');
    const { systemClock } = await import('../src/lib/clock.ts');
    const prefix = `test:${Date.now()}:`;
    const t = await startApp(pg!, { redisPrefix: prefix, realtimeTimings: { pollMs: 300 } });
    const db2 = createDb(t.config.database);
    const node2 = await buildApp({ config: t.config, db: db2, redisPrefix: prefix, realtimeTimings: { pollMs: 300 } });
    const clients: RealtimeClient[] = [];
    try {
      const u1 = await listen(t.app);
      const u2 = await listen(node2);
      const shop = await createShop(t.app);
      const cat = await seedCatalogue(t.app, shop);
      await publish(t.db, t.app);
      const inbox = new Inbox();
      const c2 = client(u2.ws, { token: shop.token });
      clients.push(c2);
      c2.subscribe('orders', inbox.handlers('orders'));
      c2.subscribe('presence', inbox.handlers('presence'));
      await c2.whenOpen();
      await new Promise((r) => setTimeout(r, 300));

      // Through node 1; node 1's outbox publisher relays over Redis.
      const placed = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], email: 'n@example.com', payment: SUCCESS } });
      assert.equal(placed.statusCode, 201, placed.body);
      const committed = Date.now();
      await publish(t.db, t.app);
      await inbox.until('the order on node 2', () => inbox.of('orders', 'order.created').some((m) => m.data.order_id === placed.json.id), 1000);
      assert.ok(Date.now() - committed < 1000, `took ${Date.now() - committed} ms`);

      // A publisher that died before relaying: node 2 reads it from the history by itself.
      const quiet = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], email: 'n@example.com', payment: { provider: 'manual' } } });
      while ((await dispatchEvents(t.db, systemClock, EVENT_CONSUMERS)) > 0);
      await inbox.until('the unrelayed order on node 2', () => inbox.of('orders').some((m) => m.data.order_id === quiet.json.id), 3000);

      // Presence: a user on node 1 looks at the order; the watcher on node 2 sees it.
      const c1 = client(u1.ws, { token: shop.token });
      clients.push(c1);
      await c1.whenOpen();
      await c1.request({ type: 'presence.view', order_id: placed.json.id });
      await inbox.until('presence from node 1', () => {
        const v = inbox.of('presence').at(-1)?.data as { orders?: Record<string, string[]> } | undefined;
        return (v?.orders?.[placed.json.id as string] ?? []).length === 1;
      });
    } finally {
      for (const c of clients) c.close();
      await node2.close();
      await db2.destroy();
      await t.close();
    }
  });

  test('limits: connections per address and per shop, frame size, chat messages per minute', async () => {
    const t = await startApp(engines()[0]!, { env: { REALTIME_MAX_CONNECTIONS_PER_IP: '2', REALTIME_MAX_CONNECTIONS_PER_SHOP: '1', REALTIME_MAX_MESSAGE_BYTES: '1024', REALTIME_CHAT_PER_MINUTE: '2' } });
    try {
      const u = await listen(t.app);
      const shop = await createShop(t.app);
      const a = await rawSocket(u.ws, { authorization: `Bearer ${shop.token}` });
      await a.next('welcome');
      const b = await rawSocket(u.ws, { authorization: `Bearer ${shop.token}` });
      assert.deepEqual(await b.closed, { code: 4029, reason: 'too_many_connections' }, 'the shop holds one');
      await new Promise((r) => setTimeout(r, 100));
      const c = await rawSocket(u.ws);
      const d = await rawSocket(u.ws);
      assert.deepEqual(await d.closed, { code: 4029, reason: 'too_many_connections' }, 'the address holds two');
      // A frame past REALTIME_MAX_MESSAGE_BYTES closes with 1009.
      a.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(2000) }));
      assert.equal((await a.closed).code, 1009);
      c.ws.close();
      // Chat messages per sender and minute, counted across transports: the third is refused.
      const cat = await seedCatalogue(t.app, shop);
      const o = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], email: 'r@example.com', payment: { provider: 'manual' } } });
      for (const expected of [201, 201, 429]) {
        const r = await call(t.app, { method: 'POST', url: `/api/orders/${o.json.id}/messages`, token: shop.token, body: { body: 'Hello' } });
        assert.equal(r.statusCode, expected, r.body);
        if (expected === 429) assert.equal(problemOf(r).code, 'chat_rate_limited');
      }
    } finally {
      await t.close();
    }
  });

  test('on shutdown clients are told to reconnect (close 1012)', async () => {
    const t = await startApp(engines()[0]!);
    const u = await listen(t.app);
    const shop = await createShop(t.app);
    const sock = await rawSocket(u.ws, { authorization: `Bearer ${shop.token}` });
    await sock.next('welcome');
    const closing = t.close();
    const closed = await sock.closed;
    await closing;
    assert.deepEqual(closed, { code: 1012, reason: 'service_restart' });
    assert.ok(sock.frames.some((f) => f.type === 'reconnect'));
  });
});
