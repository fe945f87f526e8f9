// The admin console (admin/, served at /admin) in a real headless Chromium (playwright-core driving the system
// browser at /usr/bin/chromium; .ci/run installs it), against a listening server on each engine. The console is
// the one `npm install` built (npm run build:admin).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { RealtimeClient, type ChannelMessage } from '../client/realtime.ts';
import { startBackground, type Background } from '../src/background.ts';
import { ADMIN_DIST } from '../src/http/admin.ts';
import { systemClock } from '../src/lib/clock.ts';
import { createMailer } from '../src/modules/email/index.ts';
import { relayCommitted } from '../src/realtime/relay.ts';
import { PASSWORD, call, createShop, engines, login, startApp, type Shop, type TestApp } from './helpers.ts';

// What the functions run in the page (page.evaluate) see: the browser's globals, typed just enough here.
declare const window: Record<string, unknown>;
interface PageElement {
  textContent: string | null;
  tagName: string;
  className: string;
  getBoundingClientRect(): { right: number };
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): PageElement[]; documentElement: { scrollWidth: number } };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

for (const engine of engines()) {
  describe(`admin console in Chromium [${engine.name}]`, () => {
    let t: TestApp;
    let base: string;
    let shop: Shop;
    let browser: Browser;
    let variant: string;
    let customer: { token: string; email: string };
    let clerkEmail: string;
    let bg: Background;

    before(async () => {
      assert.ok(existsSync(`${ADMIN_DIST}/index.html`), 'the console is built (npm install runs npm run build:admin)');
      assert.ok(existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run does it)`);
      // Webhook endpoints on loopback (there is no outside network here), as in development.
      t = await startApp(engine, { env: { WEBHOOKS_ALLOW_PRIVATE: 'true' } });
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      // The background as `npm start` runs it: the outbox publisher feeds the realtime channels.
      bg = startBackground({ db: t.db, clock: systemClock, log: t.app.log, gateway: t.app.payments, webhooksAllowPrivate: false, mailer: createMailer({ smtpUrl: null, from: 'shop@example.com', dataDir: t.config.dataDir, log: t.app.log }), onEventsCommitted: relayCommitted(t.db, t.app.realtime.bus) });
      t.app.realtime.wake.subscribe(() => bg.pump.wake());
      shop = await createShop(t.app);
      const p = await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title: 'Console mug', status: 'active', variants: [{ sku: 'MUG-1', price: 2500, stock: 50, low_stock_threshold: 5 }] } });
      variant = (p.json.variants as { id: string }[])[0]!.id;
      const email = 'ann@example.com';
      await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email, password: PASSWORD, first_name: 'Ann' } });
      const c = await call(t.app, { method: 'POST', url: '/api/customers/login', pk: shop.pk, body: { email, password: PASSWORD } });
      customer = { token: c.json.access_token as string, email };
      const roles = await call(t.app, { url: '/api/roles', token: shop.token });
      const clerkRole = (roles.json.data ?? []).find((r) => r.key === 'clerk')!.id as string;
      clerkEmail = 'clerk@example.com';
      assert.equal((await call(t.app, { method: 'POST', url: '/api/users', token: shop.token, body: { email: clerkEmail, name: 'Clerk', password: PASSWORD, role_id: clerkRole } })).statusCode, 201);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    });
    after(async () => {
      await browser?.close();
      await bg?.stop();
      await t?.close();
    });

    /** A customer's order through the API (as a shop's storefront places it). */
    async function placeOrder(quantity = 1): Promise<{ id: string; name: string }> {
      const cart = await call(t.app, { method: 'POST', url: '/api/carts', token: customer.token, pk: shop.pk, body: { lines: [{ variant_id: variant, quantity }] } });
      assert.equal(cart.statusCode, 201, cart.body);
      const r = await call(t.app, { method: 'POST', url: '/api/orders', token: customer.token, pk: shop.pk, headers: { 'idempotency-key': crypto.randomUUID() }, body: { cart_id: cart.json.id, payment: { provider: 'test', card_number: '4242424242424242' } } });
      assert.equal(r.statusCode, 201, r.body);
      return { id: r.json.id as string, name: r.json.name as string };
    }

    async function signIn(email: string, options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
      const page = await context.newPage();
      await page.goto(`${base}/admin/`);
      await page.getByLabel('Shop').fill(shop.slug);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('button', { name: 'Log out' }).waitFor();
      return { context, page };
    }

    test('/admin is the console: its page and assets, with a CSP of its own; /admin/anything routes in the browser', async () => {
      const page = await t.app.inject({ url: '/admin/orders/ord_x' });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /text\/html/);
      assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
      assert.match((await t.app.inject({ url: '/admin' })).body, /<div id="app">/);
      const asset = /src="\/admin\/(assets\/[^"]+\.js)"/.exec(page.body)![1]!;
      const js = await t.app.inject({ url: `/admin/${asset}` });
      assert.equal(js.statusCode, 200);
      assert.match(String(js.headers['cache-control']), /immutable/);
      assert.equal((await t.app.inject({ url: '/admin/assets/missing.js' })).statusCode, 404);
      // The API's own answers keep the API's CSP.
      assert.match(String((await t.app.inject({ url: '/api/health' })).headers['content-security-policy']), /default-src 'none'/);
    });

    test('a wrong password is shown on the form; the owner logs in and sees the live dashboard', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${base}/admin/`);
      await page.getByLabel('Shop').fill(shop.slug);
      await page.getByLabel('Email').fill(shop.email);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /invalid_credentials/);
      await context.close();

      const { context: c2, page: p2 } = await signIn(shop.email);
      await p2.getByRole('region', { name: 'Today' }).waitFor();
      await p2.getByText('live', { exact: true }).waitFor();
      await c2.close();
    });

    test('the session refreshes itself: an expired access token is replaced with the refresh token, which rotates', async () => {
      const { context, page } = await signIn(shop.email);
      const before = await page.evaluate(() => JSON.parse((globalThis as unknown as { sessionStorage: { getItem(k: string): string } }).sessionStorage.getItem('stockroom.session')) as { refresh_token: string });
      // As if the access token had run out: the console must refresh before it calls the API.
      await page.evaluate(() => {
        const store = (globalThis as unknown as { sessionStorage: { getItem(k: string): string; setItem(k: string, v: string): void } }).sessionStorage;
        const s = JSON.parse(store.getItem('stockroom.session')) as Record<string, unknown>;
        store.setItem('stockroom.session', JSON.stringify({ ...s, access_token: 'expired.token.value', expires_at: 0 }));
      });
      await page.reload();
      await page.getByRole('region', { name: 'Today' }).waitFor();
      const after = await page.evaluate(() => JSON.parse((globalThis as unknown as { sessionStorage: { getItem(k: string): string } }).sessionStorage.getItem('stockroom.session')) as { refresh_token: string; access_token: string });
      assert.notEqual(after.refresh_token, before.refresh_token, 'the refresh token rotated');
      assert.notEqual(after.access_token, 'expired.token.value');
      // The old refresh token is spent.
      assert.equal((await call(t.app, { method: 'POST', url: '/api/auth/refresh', body: { refresh_token: before.refresh_token } })).statusCode, 401);
      await context.close();
    });

    test('an order placed through the API appears on the dashboard without a reload; staff refund part of it', async (tc) => {
      const { context, page } = await signIn(shop.email);
      await page.getByText('live', { exact: true }).waitFor();
      const before = Number(await page.getByTestId('today-orders').innerText());
      await page.evaluate(() => (window.marker = 42));
      const order = await placeOrder(2);
      const answered = performance.now();
      await page.getByTestId('order-feed').getByRole('link', { name: order.name, exact: true }).waitFor({ timeout: 5000 });
      tc.diagnostic(`the order was on the dashboard ${Math.round(performance.now() - answered)} ms after the API answered`);
      await page.waitForFunction((n) => Number(document.querySelector('[data-testid="today-orders"]')?.textContent) === n, before + 1, { timeout: 5000 });
      assert.equal(await page.evaluate(() => window.marker), 42, 'the page was not reloaded');

      await page.getByTestId('order-feed').getByRole('link', { name: order.name, exact: true }).click();
      await page.getByRole('form', { name: 'Refund' }).waitFor();
      await page.getByLabel(/^Amount/).fill('7.50');
      await page.getByRole('button', { name: 'Refund' }).click();
      await page.waitForFunction(() => /7\.50/.test(document.querySelector('[data-testid="amount-refunded"]')?.textContent ?? ''), null, { timeout: 5000 });
      const after = await call(t.app, { url: `/api/orders/${order.id}`, token: shop.token });
      assert.equal(after.json.amount_refunded, 750);
      assert.equal(after.json.status, 'partially_refunded');
      // More than was paid: the API's problem is shown next to the form.
      await page.getByLabel(/^Amount/).fill('1000');
      await page.getByRole('button', { name: 'Refund' }).click();
      await page.getByRole('form', { name: 'Refund' }).getByRole('alert').waitFor();
      assert.equal((await call(t.app, { url: `/api/orders/${order.id}`, token: shop.token })).json.amount_refunded, 750);
      await context.close();
    });

    test("a customer's chat message appears for staff, and the reply reaches the customer live", async () => {
      const order = await placeOrder();
      const heard: ChannelMessage[] = [];
      const rt = new RealtimeClient({ url: `${base.replace('http', 'ws')}/api/realtime`, auth: () => ({ token: customer.token }) });
      rt.subscribe(`orders/${order.id}/messages`, { onMessage: (m) => heard.push(m) });
      try {
        const { context, page } = await signIn(shop.email);
        await page.goto(`${base}/admin/orders/${order.id}`);
        await page.getByRole('region', { name: 'Chat with the customer' }).waitFor();
        const sent = await call(t.app, { method: 'POST', url: `/api/orders/${order.id}/messages`, token: customer.token, body: { body: 'Can it ship by Friday?' } });
        assert.equal(sent.statusCode, 201, sent.body);
        await page.getByTestId('chat').getByText('Can it ship by Friday?').waitFor({ timeout: 5000 });
        await page.getByLabel('Message').fill('Yes, it leaves tomorrow.');
        await page.getByRole('button', { name: 'Send' }).click();
        await page.getByTestId('chat').getByText('Yes, it leaves tomorrow.').waitFor();
        for (let i = 0; i < 100 && !heard.some((m) => (m.data as { body?: string }).body === 'Yes, it leaves tomorrow.'); i++) await new Promise((r) => setTimeout(r, 50));
        const reply = heard.find((m) => (m.data as { body?: string }).body === 'Yes, it leaves tomorrow.');
        assert.ok(reply, 'the customer heard the reply over the realtime channel');
        assert.equal((reply.data as { author_type?: string }).author_type, 'staff');
        await context.close();
      } finally {
        rt.close();
      }
    });

    test('staff create a product with options and variants (a missing SKU shown at its cell), then count its stock', async () => {
      const { context, page } = await signIn(shop.email);
      await page.getByRole('link', { name: 'Products' }).click();
      await page.getByRole('link', { name: 'New product' }).click();
      await page.getByLabel('Title').fill('Console tee');
      await page.getByRole('button', { name: 'Add option' }).click();
      await page.getByLabel('Option 1 name').fill('Size');
      await page.getByLabel('Option 1 values (comma-separated)').fill('S, M');
      await page.getByLabel('SKU of S', { exact: true }).fill('TEE-S');
      await page.getByLabel('Price of S', { exact: true }).fill('19.90');
      await page.getByLabel('Stock of S', { exact: true }).fill('4');
      await page.getByLabel('Price of M', { exact: true }).fill('21');
      await page.getByRole('button', { name: 'Create product' }).click();
      // The API names /body/variants/1/sku: the console shows it at that cell, and nothing is created.
      await page.getByLabel('SKU of M', { exact: true }).and(page.locator('[aria-invalid="true"]')).waitFor();
      assert.equal((await call(t.app, { url: '/api/products?q=Console%20tee', token: shop.token })).json.data?.length, 0);
      await page.getByLabel('SKU of M', { exact: true }).fill('TEE-M');
      await page.getByLabel('Stock of M', { exact: true }).fill('2');
      await page.getByRole('button', { name: 'Create product' }).click();
      await page.getByRole('region', { name: 'Stock per location' }).waitFor();
      const list = await call(t.app, { url: '/api/products?q=Console%20tee', token: shop.token });
      const product = list.json.data![0]! as { id: string; variants: { sku: string; price: number; available: number; option_values: Record<string, string> }[] };
      assert.deepEqual(product.variants.map((v) => [v.sku, v.price, v.available, v.option_values.Size]), [['TEE-S', 1990, 4, 'S'], ['TEE-M', 2100, 2, 'M']]);
      // A stock count at the default location, recorded through the inventory API.
      await page.getByLabel('New count of TEE-M').fill('9');
      await page.getByRole('form', { name: /^Count TEE-M/ }).getByRole('button', { name: 'Set' }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid="stock-TEE-M"]')?.textContent === '9');
      const after = await call(t.app, { url: `/api/products/${product.id}`, token: shop.token });
      assert.equal((after.json.variants as { sku: string; available: number }[]).find((v) => v.sku === 'TEE-M')!.available, 9);
      await context.close();
    });

    test('an import: a CSV dry run whose progress bar finishes, its report, then the import for real', async () => {
      const { context, page } = await signIn(shop.email);
      await page.getByRole('link', { name: 'Imports' }).click();
      const rows = Array.from({ length: 1500 }, (_, i) => `imp-${i},Imported ${i},IMP-${i},${(i % 50) + 1}.50,${i % 7}`);
      const csv = `handle,title,sku,price,stock\n${rows.join('\n')}\nbad,Bad row,,oops,1\n`;
      await page.getByLabel('File (CSV or NDJSON)').setInputFiles({ name: 'catalogue.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.getByRole('button', { name: 'Upload' }).click();
      const first = page.getByRole('listitem').filter({ hasText: 'catalogue.csv' }).first();
      await first.getByText('succeeded').waitFor({ timeout: 30_000 });
      assert.equal(await first.getByRole('progressbar').getAttribute('value'), '100');
      const report = first.getByTestId(/^report-/);
      await report.waitFor();
      assert.match(await report.innerText(), /1501 rows — 1500 new, 0 changed, 0 unchanged, 1 not imported/);
      assert.equal((await call(t.app, { url: '/api/products?q=Imported', token: shop.token })).json.data?.length, 0, 'a dry run writes nothing');
      await report.getByRole('button', { name: 'Import for real' }).click();
      await page.getByRole('listitem').filter({ hasText: 'catalogue.csv' }).filter({ hasText: /import,/ }).getByText('succeeded').waitFor({ timeout: 30_000 });
      const imported = await call(t.app, { url: '/api/products?q=IMP-1499', token: shop.token });
      assert.equal((imported.json.data?.[0]?.variants as { price: number }[] | undefined)?.[0]?.price, 5050);
      await context.close();
    });

    test('customers, webhooks, jobs, staff and keys, settings: each screen does its work through the API', async () => {
      const { context, page } = await signIn(shop.email);
      // A customer's timeline: a note added in the console is on it (and in the API).
      const contacts = await call(t.app, { url: `/api/contacts?email=${encodeURIComponent(customer.email)}`, token: shop.token });
      const contactId = contacts.json.data![0]!.id as string;
      await page.getByRole('link', { name: 'Customers' }).click();
      await page.getByRole('link', { name: customer.email }).click();
      await page.getByRole('textbox', { name: 'Note', exact: true }).fill('Prefers morning deliveries');
      await page.getByRole('button', { name: 'Add note' }).click();
      await page.getByTestId('timeline').getByText('Prefers morning deliveries').waitFor();
      const timeline = await call(t.app, { url: `/api/contacts/${contactId}/timeline`, token: shop.token });
      assert.ok((timeline.json.data ?? []).some((a) => a.summary === 'Prefers morning deliveries'));

      // A webhook endpoint: its signing secret is shown once; a URL the API refuses is shown next to the field.
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByLabel('URL (https)').fill('ftp://hooks.example.com/in');
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await page.locator('#f-url-error').waitFor();
      await page.getByLabel('URL (https)').fill('http://127.0.0.1:9/in');
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await page.getByRole('status').filter({ hasText: 'Signing secret' }).waitFor();
      const endpoints = await call(t.app, { url: '/api/webhook-endpoints', token: shop.token });
      assert.deepEqual((endpoints.json.data ?? []).map((e) => e.url), ['http://127.0.0.1:9/in']);

      // Jobs: the shop's jobs are listed (the earlier import made some).
      await page.getByRole('link', { name: 'Jobs' }).click();
      await page.getByRole('cell', { name: 'import.run' }).first().waitFor();

      // An API key with chosen permissions, shown once; it works.
      await page.getByRole('link', { name: 'Staff' }).click();
      await page.getByRole('form', { name: 'Create an API key' }).getByLabel('Name').fill('ERP sync');
      await page.getByRole('checkbox', { name: 'orders:read' }).check();
      await page.getByRole('button', { name: 'Create key' }).click();
      const secret = await page.getByTestId('new-key').innerText();
      assert.equal((await call(t.app, { url: '/api/orders?limit=1', token: secret })).statusCode, 200);
      assert.equal((await call(t.app, { url: '/api/products?limit=1', token: secret })).statusCode, 403, 'only what was ticked');

      // Settings: the shop's name, saved with If-Match.
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByLabel('Name').fill('Console Shop');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      assert.equal((await call(t.app, { url: '/api/shop', token: shop.token })).json.name, 'Console Shop');
      await context.close();
    });

    test('a clerk sees no refund button (and the API refuses the clerk a refund)', async () => {
      const order = await placeOrder();
      const { context, page } = await signIn(clerkEmail);
      await page.goto(`${base}/admin/orders/${order.id}`);
      await page.getByRole('form', { name: 'Fulfil' }).waitFor();
      assert.equal(await page.getByRole('form', { name: 'Refund' }).count(), 0);
      await context.close();
      const token = (await login(t.app, shop.slug, clerkEmail)).json.access_token as string;
      const r = await call(t.app, { method: 'POST', url: `/api/orders/${order.id}/refunds`, token, headers: { 'idempotency-key': crypto.randomUUID() }, body: { amount: 100 } });
      assert.equal(r.statusCode, 403);
    });

    test('labelled and keyboard-usable: axe finds no serious problems on the login page, the dashboard and an order; a phone-sized screen works', async () => {
      const order = await placeOrder();
      const context = await browser.newContext({ bypassCSP: true, viewport: { width: 390, height: 844 } });
      const page = await context.newPage();
      const axe = async (where: string) => {
        await page.addScriptTag({ path: AXE });
        const result = (await page.evaluate(async () => (window.axe as { run(o: object): Promise<unknown> }).run({ resultTypes: ['violations'] }))) as { violations: { id: string; impact: string; help: string }[] };
        const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(serious.map((v) => `${v.id}: ${v.help}`), [], where);
      };
      await page.goto(`${base}/admin/`);
      await page.getByLabel('Shop').waitFor();
      await axe('login');
      // Keyboard only: tab to each field, type, press Enter.
      await page.getByLabel('Shop').focus();
      await page.keyboard.type(shop.slug);
      await page.keyboard.press('Tab');
      await page.keyboard.type(shop.email);
      await page.keyboard.press('Tab');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');
      await page.getByRole('region', { name: 'Today' }).waitFor();
      await axe('dashboard');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `no sideways scrolling on a phone (${width}px)`);
      await page.goto(`${base}/admin/orders/${order.id}`);
      await page.getByRole('region', { name: 'Chat with the customer' }).waitFor();
      await axe('order');
      for (const path of ['/orders', '/products', '/products/new', '/imports', '/customers', '/webhooks', '/jobs', '/staff', '/settings']) {
        await page.goto(`${base}/admin${path}`);
        await page.locator('main h1, main h2').first().waitFor();
        await page.locator('.loading').waitFor({ state: 'detached' });
        await axe(path);
        const w = await page.evaluate(() => document.documentElement.scrollWidth);
        // What sticks out, to say where to look.
        const wide = w <= 390 ? '' : await page.evaluate(() => [...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > 392).slice(0, 5).map((e) => `${e.tagName}.${e.className}`).join(' '));
        assert.ok(w <= 390, `${path}: no sideways scrolling on a phone (${w}px): ${wide}`);
      }
      await context.close();
    });
  });
}

test('the console’s API client types are generated from the server’s OpenAPI document as it is now', async () => {
  const { SCHEMA_FILE, generatedSchema } = await import('../admin/scripts/api.ts');
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), await generatedSchema(), 'admin/src/api/schema.d.ts is stale: run npm run admin:api');
});

test('the console’s initial JavaScript stays within 200 KB gzipped', () => {
  const html = readFileSync(`${ADMIN_DIST}/index.html`, 'utf8');
  const scripts = [...html.matchAll(/<script[^>]+src="\/admin\/([^"]+)"/g), ...html.matchAll(/<link rel="modulepreload"[^>]+href="\/admin\/([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(scripts.length >= 1);
  const bytes = scripts.reduce((n, f) => n + gzipSync(readFileSync(`${ADMIN_DIST}/${f}`)).length, 0);
  assert.ok(bytes <= 200 * 1024, `${bytes} bytes gzipped`);
});
