import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, createShop, engines, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';

/**
 * Every list is a cursor page with the same names (`limit`, `cursor` → `data`, `has_more`, `next_cursor`), the
 * bounded configuration collections included: walking the pages with a small limit returns each row exactly once,
 * in the list's order, and ends with has_more false.
 */
for (const engine of engines()) {
  describe(`configuration lists are cursor pages [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let other: Shop;
    const made: Record<string, string[]> = {};

    const create = async (path: string, body: object) => {
      const r = await call(t.app, { method: 'POST', url: `/api/${path}`, token: shop.token, body });
      assert.equal(r.statusCode, 201, `${path}: ${r.body}`);
      (made[path] ??= []).push(r.json.id as string);
    };

    before(async () => {
      t = await startApp(engine, { env: { WEBHOOKS_ALLOW_PRIVATE: 'true' } });
      shop = await createShop(t.app);
      other = await createShop(t.app);
      for (let i = 0; i < 5; i++) {
        await create('roles', { name: `Role ${i}`, permissions: ['orders:read'] });
        await create('locations', { name: `Store ${i}` });
        await create('tax-rates', { country: ['DE', 'FR', 'AT', 'IT', 'NL'][i], name: `VAT ${i}`, rate_bp: 1900 + i });
        await create('shipping-methods', { name: `Ship ${i}`, rate_type: 'flat', amount: 100 + i });
        await create('webhook-endpoints', { url: `http://127.0.0.1:9/hook-${i}`, events: ['order.created'] });
        await create('schedules', { name: `nightly ${i}`, cron: `${i} 3 * * *`, task: 'export_orders' });
        // Categories are in menu order: position first, so the last created comes first.
        await create('categories', { name: `Cat ${i}`, position: 10 - i });
      }
      // Another shop's rows never show up in the pages.
      await call(t.app, { method: 'POST', url: '/api/roles', token: other.token, body: { name: 'Theirs', permissions: ['orders:read'] } });
      await call(t.app, { method: 'POST', url: '/api/categories', token: other.token, body: { name: 'Theirs', position: 0 } });
    });
    after(() => t.close());

    const walk = async (path: string, limit: number) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 50; pages++) {
        const r = await call(t.app, { url: `/api/${path}?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token: shop.token });
        assert.equal(r.statusCode, 200, `${path}: ${r.body}`);
        const data = r.json.data as { id: string }[];
        assert.ok(data.length <= limit);
        seen.push(...data.map((d) => d.id));
        assert.equal(typeof r.json.has_more, 'boolean');
        if (!r.json.has_more) {
          assert.equal(r.json.next_cursor, null);
          return seen;
        }
        cursor = r.json.next_cursor as string;
        assert.ok(cursor, 'a page with more has a cursor');
      }
      throw new Error('pages never ended');
    };

    for (const path of ['roles', 'locations', 'tax-rates', 'shipping-methods', 'webhook-endpoints', 'schedules', 'categories']) {
      test(`${path}: pages of 2 return each row once, in the list's order`, async () => {
        const all = await walk(path, 100);
        const paged = await walk(path, 2);
        assert.deepEqual(paged, all, 'the same rows in the same order, page by page');
        assert.equal(new Set(paged).size, paged.length, 'no row twice');
        for (const id of made[path] ?? []) assert.ok(paged.includes(id), `${id} is listed`);
        const mine = made[path] ?? [];
        const order = paged.filter((id) => mine.includes(id));
        if (path === 'categories') assert.deepEqual(order, [...mine].reverse(), 'position first');
        else if (path === 'webhook-endpoints') assert.deepEqual(order, [...mine].reverse(), 'newest first');
        else assert.deepEqual(order, mine, 'creation order');
        assert.ok(!(await walk(path, 100)).some((id) => !all.includes(id)));
      });
    }

    test('another shop sees none of these rows; a cursor that is not ours is a 400', async () => {
      for (const path of ['roles', 'categories']) {
        const theirs = (await call(t.app, { url: `/api/${path}?limit=100`, token: other.token })).json.data as { id: string }[];
        assert.ok(!theirs.some((r) => (made[path] ?? []).includes(r.id)));
      }
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/categories?cursor=bm90LWpzb24', token: shop.token })), { status: 400, code: 'invalid_cursor' });
      const idOnly = Buffer.from(JSON.stringify({ id: 'cat_x' })).toString('base64url');
      assert.deepEqual(problemOf(await call(t.app, { url: `/api/categories?cursor=${idOnly}`, token: shop.token })), { status: 400, code: 'invalid_cursor' });
    });

    test('a deleted row under the cursor does not break the walk', async () => {
      const first = await call(t.app, { url: '/api/categories?limit=2', token: shop.token });
      const last = (first.json.data as { id: string }[]).at(-1)?.id as string;
      assert.equal((await call(t.app, { method: 'DELETE', url: `/api/categories/${last}`, token: shop.token })).statusCode, 204);
      const next = await call(t.app, { url: `/api/categories?limit=2&cursor=${encodeURIComponent(first.json.next_cursor as string)}`, token: shop.token });
      assert.equal(next.statusCode, 200);
      const ids = (next.json.data as { id: string }[]).map((c) => c.id);
      assert.equal(ids[0], made.categories?.[2], 'the page after starts with the row that followed the deleted one');
    });
  });
}
