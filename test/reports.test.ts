import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jobHandlers } from '../src/background.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { createMailer } from '../src/modules/email/mailer.ts';
import { Worker } from '../src/modules/jobs/worker.ts';
import { runExport } from '../src/modules/reports/exports.ts';
import { computeDailyReports } from '../src/modules/reports/reports.service.ts';
import { PASSWORD, call, createShop, engines, login, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';
import { SUCCESS, seedCatalogue, type Catalogue } from './commerce-helpers.ts';

for (const engine of engines()) {
  describe(`reports and exports [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let cat: Catalogue;
    // 2026-05-04 22:30 in New York is 02:30 UTC on the 5th: the time zone decides the day.
    const clock = new ManualClock('2026-05-05T02:30:00.000Z');
    const placed: { total: number; tax: number; discount: number; date: string; status: string }[] = [];
    let worker: Worker;
    before(async () => {
      t = await startApp(engine, { clock });
      shop = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop, { LAMP: 3 });
      await call(t.app, { method: 'PATCH', url: '/api/shop', token: shop.token, body: { timezone: 'America/New_York' } });
      worker = new Worker({ db: t.db, clock, log: t.app.log, handlers: jobHandlers({ gateway: t.app.payments, webhooksAllowPrivate: false, mailer: createMailer({ smtpUrl: null, from: t.config.mail.from, dataDir: t.config.dataDir, log: t.app.log }) }), queues: { default: 2 } });
    });
    after(() => t.close());

    const order = async (lines: { variant_id: string | undefined; quantity: number }[], code?: string) => {
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      const r = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines, email: 'r@example.com', payment: SUCCESS, ...(code ? { discount_code: code } : {}) } });
      assert.equal(r.statusCode, 201, r.body);
      return r.json;
    };

    test('daily sales add up against the orders placed, in the shop’s time zone', async () => {
      const a = await order([{ variant_id: cat.v.MUG, quantity: 2 }], 'TENOFF'); // 2026-05-04 local
      placed.push({ total: a.total as number, tax: a.tax_total as number, discount: a.discount_total as number, date: '2026-05-04', status: 'paid' });
      clock.advance(2 * 3600_000); // 00:30 local on the 5th
      const b = await order([{ variant_id: cat.v.LAMP, quantity: 1 }, { variant_id: cat.v.NOTE, quantity: 3 }]);
      placed.push({ total: b.total as number, tax: b.tax_total as number, discount: 0, date: '2026-05-05', status: 'paid' });
      const c = await order([{ variant_id: cat.v.NOTE, quantity: 1 }]);
      await call(t.app, { method: 'POST', url: `/api/orders/${c.id}/cancel`, token: shop.token });
      const refund = await call(t.app, { method: 'POST', url: `/api/orders/${b.id}/refunds`, token: shop.token, body: { amount: 700 } });
      assert.equal(refund.json.status, 'partially_refunded');

      const r = await call(t.app, { url: '/api/reports/sales?from=2026-05-03&to=2026-05-05', token: shop.token });
      assert.equal(r.statusCode, 200, r.body);
      const days = r.json.days as { date: string; orders: number; revenue: number; tax: number; discounts: number; refunds: number; net: number; average_order_value: number }[];
      assert.deepEqual(days.map((d) => d.date), ['2026-05-03', '2026-05-04', '2026-05-05']);
      assert.deepEqual(days[0], { date: '2026-05-03', orders: 0, revenue: 0, tax: 0, discounts: 0, refunds: 0, net: 0, average_order_value: 0 });
      assert.equal(days[1]!.orders, 1);
      assert.equal(days[1]!.revenue, placed[0]!.total);
      assert.equal(days[1]!.discounts, placed[0]!.discount);
      assert.equal(days[2]!.orders, 1, 'the cancelled order does not count');
      assert.equal(days[2]!.revenue, placed[1]!.total);
      assert.equal(days[2]!.tax, placed[1]!.tax);
      assert.equal(days[2]!.refunds, 700);
      assert.equal(days[2]!.net, placed[1]!.total - 700);
      const totals = r.json.totals as Record<string, number>;
      assert.equal(totals.orders, 2);
      assert.equal(totals.revenue, placed[0]!.total + placed[1]!.total);
      assert.equal(totals.average_order_value, Math.round((placed[0]!.total + placed[1]!.total) / 2));
      assert.equal(r.json.timezone, 'America/New_York');
    });

    test('top products and low stock', async () => {
      const top = await call(t.app, { url: '/api/reports/top-products?from=2026-05-01&to=2026-05-31&limit=2', token: shop.token });
      const rows = top.json.data as { sku: string; quantity: number; revenue: number }[];
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.sku, 'LAMP');
      assert.ok(rows[0]!.revenue >= rows[1]!.revenue);
      const low = await call(t.app, { url: '/api/reports/low-stock', token: shop.token });
      assert.deepEqual((low.json.data as { sku: string; available: number }[]).map((x) => [x.sku, x.available]), [['LAMP', 2]]);
      // A list, not a capped dump: more low variants page through with the cursor, fewest first.
      for (const [sku, stock] of [['LOW-A', 0], ['LOW-B', 1], ['LOW-C', 1]] as const) {
        assert.equal((await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title: sku, status: 'active', variants: [{ sku, price: 100, stock, low_stock_threshold: 3 }] } })).statusCode, 201);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await call(t.app, { url: `/api/reports/low-stock?limit=2${cursor ? `&cursor=${cursor}` : ''}`, token: shop.token });
        assert.ok((page.json.data ?? []).length <= 2);
        seen.push(...(page.json.data ?? []).map((x) => `${x.sku}:${x.available}`));
        cursor = page.json.next_cursor as string | null;
      } while (cursor);
      assert.deepEqual(seen, ['LOW-A:0', 'LOW-B:1', 'LOW-C:1', 'LAMP:2']);
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/reports/low-stock?cursor=garbage', token: shop.token })), { status: 400, code: 'invalid_cursor' });
    });

    test('bad ranges are coded 422s', async () => {
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/reports/sales?from=2026-05-05&to=2026-05-01', token: shop.token })), { status: 422, code: 'invalid_report_range' });
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/reports/sales?from=2024-01-01&to=2026-01-01', token: shop.token })), { status: 422, code: 'report_range_too_long' });
      const impossible = await call(t.app, { url: '/api/reports/sales?from=2026-02-30&to=2026-13-01', token: shop.token });
      assert.deepEqual(problemOf(impossible), { status: 400, code: 'invalid_date' });
      assert.deepEqual((impossible.json.errors as { pointer: string }[]).map((e) => e.pointer), ['/query/from', '/query/to']);
      // Date.parse takes 30 February for 2 March; the API does not.
      const feb30 = await call(t.app, { url: '/api/reports/sales?from=2025-02-30&to=2025-03-05', token: shop.token });
      assert.deepEqual(problemOf(feb30), { status: 400, code: 'invalid_date' });
      assert.deepEqual((feb30.json.errors as { pointer: string }[]).map((e) => e.pointer), ['/query/from']);
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/exports', token: shop.token, body: { kind: 'orders', from: '2026-04-31', to: '2026-05-01' } })), { status: 400, code: 'invalid_date' });
      assert.equal(problemOf(await call(t.app, { url: '/api/reports/sales?from=yesterday&to=today', token: shop.token })).code, 'validation_failed');
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/exports', token: shop.token, body: { kind: 'orders', from: '2026-05-05', to: '2026-05-01' } })).code, 'invalid_report_range');
    });

    test('the nightly job stores yesterday per shop time zone, matching the on-demand report', async () => {
      clock.advance(24 * 3600_000); // 2026-05-06 00:30 local
      assert.ok((await computeDailyReports(t.db, clock)) >= 1);
      const stored = await call(t.app, { url: '/api/reports/daily?from=2026-05-01&to=2026-05-31', token: (await login(t.app, shop.slug, shop.email)).json.access_token as string });
      const onDemand = await call(t.app, { url: '/api/reports/sales?from=2026-05-05&to=2026-05-05', token: (await login(t.app, shop.slug, shop.email)).json.access_token as string });
      assert.deepEqual(stored.json.data, onDemand.json.days);
    });

    test('CSV exports run as jobs with progress and a download link; cells cannot smuggle formulas', async () => {
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string;
      await call(t.app, { method: 'POST', url: '/api/customers', token: shop.token, body: { email: 'evil@example.com', first_name: '=HYPERLINK("http://evil.example","click")', last_name: 'O"Brien, Jr' } });
      const start = await call(t.app, { method: 'POST', url: '/api/exports', token: shop.token, body: { kind: 'customers' } });
      assert.equal(start.statusCode, 202, start.body);
      assert.equal((start.json.job as { status: string }).status, 'queued');
      assert.equal(start.json.download_url, null);
      const id = (start.json.job as { id: string }).id;
      assert.equal(problemOf(await call(t.app, { url: `/api/exports/${id}/download`, token: shop.token })).code, 'export_not_ready');
      await worker.tick();
      await worker.idle();
      const done = await call(t.app, { url: `/api/exports/${id}`, token: shop.token });
      assert.equal((done.json.job as { status: string; progress: number }).status, 'succeeded');
      assert.equal((done.json.job as { progress: number }).progress, 100);
      assert.equal(done.json.download_url, `/api/exports/${id}/download`);
      const file = await call(t.app, { url: String(done.json.download_url), token: shop.token });
      assert.match(String(file.headers['content-type']), /^text\/csv/);
      assert.match(String(file.headers['content-disposition']), /attachment; filename=".+-customers-\d{4}-\d{2}-\d{2}\.csv"/);
      const lines = file.body.trim().split('\r\n');
      assert.equal(lines[0], 'id,email,first_name,last_name,status,has_account,created_at');
      assert.equal(lines.length - 1, done.json.rows);
      const evil = lines.find((l) => l.includes('evil@example.com'))!;
      assert.match(evil, /,"'=HYPERLINK\(""http:\/\/evil\.example"",""click""\)","O""Brien, Jr",/);

      const orders = await call(t.app, { method: 'POST', url: '/api/exports', token: shop.token, body: { kind: 'orders', from: '2026-05-01', to: '2026-05-31' } });
      await worker.tick();
      await worker.idle();
      const ordersDone = await call(t.app, { url: `/api/exports/${(orders.json.job as { id: string }).id}`, token: shop.token });
      assert.equal(ordersDone.json.rows, 3, 'every order of May, cancelled included');

      // Written and streamed in chunks: the same export in batches of one row downloads the same file.
      const ordersId0 = (orders.json.job as { id: string }).id;
      const whole = (await call(t.app, { url: `/api/exports/${ordersId0}/download`, token: shop.token })).body;
      await runExport(t.db, clock, shop.tenantId, ordersId0, { kind: 'orders', from: '2026-05-01', to: '2026-05-31' }, async () => {}, 1);
      const chunks = await t.db.selectFrom('export_chunks').select('seq').where('tenant_id', '=', shop.tenantId).where('job_id', '=', ordersId0).execute();
      assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
      assert.equal((await call(t.app, { url: `/api/exports/${ordersId0}/download`, token: shop.token })).body, whole);

      // An export shows its kind's data: reports:read alone reads none; orders:read adds the orders exports only.
      const staff = async (name: string, permissions: string[]) => {
        const role = await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name, permissions } });
        const email = `${name.toLowerCase()}@example.com`;
        assert.equal((await call(t.app, { method: 'POST', url: '/api/users', token: shop.token, body: { email, name, password: PASSWORD, role_id: role.json.id } })).statusCode, 201);
        return (await login(t.app, shop.slug, email)).json.access_token as string;
      };
      const analyst = await staff('Analyst', ['reports:read']);
      const ordersClerk = await staff('Orders', ['reports:read', 'orders:read']);
      const ordersId = (orders.json.job as { id: string }).id;
      for (const url of [`/api/exports/${id}`, `/api/exports/${id}/download`, `/api/exports/${ordersId}`]) assert.deepEqual(problemOf(await call(t.app, { url, token: analyst })), { status: 403, code: 'permission_denied' }, url);
      assert.deepEqual(problemOf(await call(t.app, { url: `/api/exports/${id}/download`, token: ordersClerk })), { status: 403, code: 'permission_denied' });
      assert.equal((await call(t.app, { url: `/api/exports/${ordersId}/download`, token: ordersClerk })).statusCode, 200);
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/exports', token: ordersClerk, body: { kind: 'customers' } })), { status: 403, code: 'permission_denied' });

      const other = await createShop(t.app);
      assert.equal(problemOf(await call(t.app, { url: `/api/exports/${id}`, token: other.token })).status, 404);
      assert.equal(problemOf(await call(t.app, { url: `/api/exports/${id}/download`, token: other.token })).status, 404);
      assert.equal((await call(t.app, { url: '/api/reports/sales?from=2026-05-01&to=2026-05-31', token: other.token })).json.totals && ((await call(t.app, { url: '/api/reports/sales?from=2026-05-01&to=2026-05-31', token: other.token })).json.totals as { orders: number }).orders, 0);
    });
  });
}
