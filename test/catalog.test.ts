import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, createShop, engines, problemOf, startApp, type Json, type Shop, type TestApp } from './helpers.ts';

for (const engine of engines()) {
  describe(`catalogue and inventory [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let other: Shop;
    let tee: Json;
    let rootCat: string;
    let childCat: string;
    before(async () => {
      t = await startApp(engine);
      shop = await createShop(t.app);
      other = await createShop(t.app);
      rootCat = (await call(t.app, { method: 'POST', url: '/api/categories', token: shop.token, body: { name: 'Clothing' } })).json.id as string;
      childCat = (await call(t.app, { method: 'POST', url: '/api/categories', token: shop.token, body: { name: 'T-Shirts', parent_id: rootCat } })).json.id as string;
      const r = await call(t.app, {
        method: 'POST',
        url: '/api/products',
        token: shop.token,
        body: {
          title: 'Organic Cotton Tee',
          description: 'A soft everyday shirt',
          status: 'active',
          category_id: childCat,
          images: ['https://cdn.example.com/tee.jpg'],
          attributes: { material: 'cotton' },
          options: [{ name: 'Size', values: ['S', 'M'] }],
          variants: [
            { sku: 'TEE-S', price: 1500, option_values: { Size: 'S' }, weight_grams: 200, stock: 3, low_stock_threshold: 1 },
            { sku: 'TEE-M', price: 1700, compare_at_price: 2000, option_values: { Size: 'M' }, weight_grams: 220, stock: 0 },
          ],
        },
      });
      assert.equal(r.statusCode, 201, r.body);
      tee = r.json;
      for (const [title, price, stock, status] of [['Wool Socks', 900, 10, 'active'], ['Rain Jacket', 8900, 2, 'active'], ['Secret Prototype', 100, 5, 'draft']] as const) {
        const p = await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body: { title, status, category_id: rootCat, variants: [{ sku: title.toUpperCase().replace(/ /g, '-'), price, stock }] } });
        assert.equal(p.statusCode, 201, p.body);
      }
    });
    after(() => t.close());

    test('a product comes back with variants, stock, price range and an ETag; If-None-Match gives 304', async () => {
      const r = await call(t.app, { url: `/api/products/${tee.id}`, token: shop.token });
      assert.equal(r.statusCode, 200);
      assert.deepEqual(r.json.price_range, { min: 1500, max: 1700 });
      const variants = r.json.variants as { sku: string; available: number; in_stock: boolean }[];
      assert.deepEqual(variants.map((v) => [v.sku, v.available, v.in_stock]), [['TEE-S', 3, true], ['TEE-M', 0, false]]);
      const etag = String(r.headers.etag);
      assert.match(etag, /^"prod_/);
      const again = await call(t.app, { url: `/api/products/${tee.id}`, token: shop.token, headers: { 'if-none-match': etag } });
      assert.equal(again.statusCode, 304);
      assert.equal(again.body, '');
    });

    test('shoppers read active products through the publishable key; drafts are invisible; stock counts stay private', async () => {
      const list = await call(t.app, { url: '/api/products?limit=100', pk: shop.pk });
      const titles = (list.json.data ?? []).map((p) => p.title).sort();
      assert.deepEqual(titles, ['Organic Cotton Tee', 'Rain Jacket', 'Wool Socks']);
      const draft = (await call(t.app, { url: '/api/products?status=draft', token: shop.token })).json.data?.[0];
      assert.equal(problemOf(await call(t.app, { url: `/api/products/${draft?.id}`, pk: shop.pk })).code, 'resource_not_found');
      const one = await call(t.app, { url: `/api/products/${tee.id}`, pk: shop.pk });
      assert.equal((one.json.variants as { available: unknown }[])[0]?.available, null);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/products', pk: shop.pk, body: { title: 'x', variants: [{ sku: 'X', price: 1 }] } })).code, 'principal_not_allowed');
    });

    test('search matches words and prefixes of title, description and SKU', async () => {
      const q = async (s: string) => ((await call(t.app, { url: `/api/products?q=${encodeURIComponent(s)}`, pk: shop.pk })).json.data ?? []).map((p) => p.title).sort();
      assert.deepEqual(await q('cotton'), ['Organic Cotton Tee']);
      assert.deepEqual(await q('soc'), ['Wool Socks']);
      assert.deepEqual(await q('everyday'), ['Organic Cotton Tee']);
      assert.deepEqual(await q('tee-m'), ['Organic Cotton Tee']);
      assert.deepEqual(await q('jacket rain'), ['Rain Jacket']);
      assert.deepEqual(await q('prototype'), [], 'drafts are not found by shoppers');
      assert.deepEqual(await q(`"'); drop table products; --`), []);
      assert.deepEqual(await q('***'), []);
    });

    test('filters: category with its subcategories, price range, in stock', async () => {
      const f = async (qs: string) => ((await call(t.app, { url: `/api/products?${qs}`, pk: shop.pk })).json.data ?? []).map((p) => p.title).sort();
      assert.deepEqual(await f(`category_id=${childCat}`), ['Organic Cotton Tee']);
      assert.deepEqual(await f(`category_id=${rootCat}`), ['Organic Cotton Tee', 'Rain Jacket', 'Wool Socks']);
      assert.deepEqual(await f('min_price=1000&max_price=2000'), ['Organic Cotton Tee']);
      assert.deepEqual(await f('max_price=1000'), ['Wool Socks']);
      assert.equal(problemOf(await call(t.app, { url: '/api/products?min_price=5&max_price=1', pk: shop.pk })).code, 'validation_failed');
      assert.deepEqual(await f('in_stock=true'), ['Organic Cotton Tee', 'Rain Jacket', 'Wool Socks']);
    });

    test('sorting with cursor pagination walks every product once, in order', async () => {
      for (const sort of ['price_asc', 'price_desc', 'title_asc', 'newest', 'oldest']) {
        const seen: Json[] = [];
        let cursor: string | null = null;
        do {
          const r: Awaited<ReturnType<typeof call>> = await call(t.app, { url: `/api/products?limit=1&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`, token: shop.token });
          assert.equal(r.statusCode, 200, r.body);
          seen.push(...(r.json.data ?? []));
          cursor = r.json.next_cursor as string | null;
        } while (cursor);
        assert.equal(seen.length, 4, sort);
        assert.equal(new Set(seen.map((p) => p.id)).size, 4);
        if (sort === 'price_asc') assert.deepEqual(seen.map((p) => (p.price_range as { min: number }).min), [100, 900, 1500, 8900]);
        if (sort === 'price_desc') assert.deepEqual(seen.map((p) => (p.price_range as { max: number }).max), [8900, 1700, 900, 100]);
        if (sort === 'title_asc') assert.deepEqual(seen.map((p) => p.title), ['Organic Cotton Tee', 'Rain Jacket', 'Secret Prototype', 'Wool Socks']);
      }
    });

    test('cached catalogue pages change as soon as stock or products change', async () => {
      const url = '/api/products?q=cotton';
      const first = await call(t.app, { url, token: shop.token });
      const again = await call(t.app, { url, token: shop.token, headers: { 'if-none-match': String(first.headers.etag) } });
      assert.equal(again.statusCode, 304);
      const variant = (tee.variants as { id: string }[])[0]!.id;
      const before = (first.json.data?.[0]?.variants as { id: string; available: number }[]).find((v) => v.id === variant)!.available;
      await call(t.app, { method: 'POST', url: '/api/inventory/adjustments', token: shop.token, body: { variant_id: variant, reason: 'adjustment', delta: 4 } });
      const after = await call(t.app, { url, token: shop.token, headers: { 'if-none-match': String(first.headers.etag) } });
      assert.equal(after.statusCode, 200);
      assert.equal((after.json.data?.[0]?.variants as { id: string; available: number }[]).find((v) => v.id === variant)!.available, before + 4);
      await call(t.app, { method: 'PATCH', url: `/api/products/${tee.id}`, token: shop.token, body: { title: 'Organic Cotton Tee' } });
      assert.notEqual((await call(t.app, { url, token: shop.token })).headers.etag, after.headers.etag);
      await call(t.app, { method: 'POST', url: '/api/inventory/adjustments', token: shop.token, body: { variant_id: variant, reason: 'adjustment', delta: -4 } });
    });

    test('edits need the current version: a stale If-Match is 412', async () => {
      const r = await call(t.app, { url: `/api/products/${tee.id}`, token: shop.token });
      const etag = String(r.headers.etag);
      const ok = await call(t.app, { method: 'PATCH', url: `/api/products/${tee.id}`, token: shop.token, headers: { 'if-match': etag }, body: { description: 'Softer than ever' } });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.json.version, (r.json.version as number) + 1);
      const stale = await call(t.app, { method: 'PATCH', url: `/api/products/${tee.id}`, token: shop.token, headers: { 'if-match': etag }, body: { title: 'Lost update' } });
      assert.deepEqual(problemOf(stale), { status: 412, code: 'version_mismatch' });
      assert.equal((await call(t.app, { url: `/api/products/${tee.id}`, token: shop.token })).json.title, 'Organic Cotton Tee');
    });

    test('bad catalogue input is refused with a code and writes nothing', async () => {
      const count = async () => Number((await t.db.selectFrom('products').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', shop.tenantId).executeTakeFirstOrThrow()).n);
      const before = await count();
      const cases: [unknown, number, string][] = [
        [{ title: 'Dup SKU', variants: [{ sku: 'TEE-S', price: 1 }] }, 409, 'sku_taken'],
        [{ title: 'Neg', variants: [{ sku: 'N1', price: -5 }] }, 400, 'validation_failed'],
        [{ title: 'Float', variants: [{ sku: 'F1', price: 9.99 }] }, 400, 'validation_failed'],
        [{ title: 'Bad option', options: [{ name: 'Size', values: ['S'] }], variants: [{ sku: 'B1', price: 1, option_values: { Size: 'XXL' } }] }, 422, 'invalid_variant'],
        [{ title: 'Two same', options: [{ name: 'Size', values: ['S', 'M'] }], variants: [{ sku: 'D1', price: 1, option_values: { Size: 'S' } }, { sku: 'D2', price: 1, option_values: { Size: 'S' } }] }, 422, 'invalid_variant'],
        [{ title: 'No variants', variants: [] }, 400, 'validation_failed'],
        [{ title: 'Foreign category', category_id: 'cat_01aaaaaaaaaaaaaaaaaaaaaaaa', variants: [{ sku: 'C1', price: 1 }] }, 422, 'unknown_category'],
        [{ title: 'Cheap compare', variants: [{ sku: 'CC', price: 500, compare_at_price: 400 }] }, 422, 'invalid_variant'],
      ];
      for (const [body, status, code] of cases) assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/products', token: shop.token, body })), { status, code }, JSON.stringify(body));
      assert.equal(await count(), before);
      // The partial product of the SKU clash was rolled back with its stock rows.
      assert.equal((await t.db.selectFrom('variants').select('id').where('tenant_id', '=', shop.tenantId).where('sku', '=', 'N1').execute()).length, 0);
    });

    test('stock adjustments and counts are ledgered; stock never goes below zero', async () => {
      const variant = (tee.variants as { id: string }[])[1]?.id as string;
      const add = await call(t.app, { method: 'POST', url: '/api/inventory/adjustments', token: shop.token, body: { variant_id: variant, reason: 'adjustment', delta: 5, note: 'delivery' } });
      assert.equal(add.statusCode, 201, add.body);
      assert.equal(add.json.available, 5);
      const count = await call(t.app, { method: 'POST', url: '/api/inventory/adjustments', token: shop.token, body: { variant_id: variant, reason: 'count', set_to: 2 } });
      assert.equal(count.json.available, 2);
      const under = await call(t.app, { method: 'POST', url: '/api/inventory/adjustments', token: shop.token, body: { variant_id: variant, reason: 'adjustment', delta: -3 } });
      assert.deepEqual(problemOf(under), { status: 409, code: 'insufficient_stock' });
      const ledger = await call(t.app, { url: `/api/inventory/ledger?variant_id=${variant}`, token: shop.token });
      assert.deepEqual((ledger.json.data ?? []).map((e) => [e.reason, e.delta, e.balance_after]), [['count', -3, 2], ['adjustment', 5, 5]]);
      assert.equal((ledger.json.data ?? [])[0]?.actor, shop.ownerId);
      // The database itself refuses a negative level.
      await assert.rejects(t.db.updateTable('stock_levels').set({ available: -1 }).where('tenant_id', '=', shop.tenantId).where('variant_id', '=', variant).execute());
    });

    test("another shop's products, variants, categories and collections are invisible and untouchable", async () => {
      const col = await call(t.app, { method: 'POST', url: '/api/collections', token: shop.token, body: { title: 'Summer', product_ids: [tee.id] } });
      assert.equal(col.statusCode, 201);
      const cols = await call(t.app, { url: '/api/collections', token: shop.token });
      assert.deepEqual(cols.json.data?.find((c) => c.id === col.json.id)?.product_ids, [tee.id]);
      const variant = (tee.variants as { id: string }[])[0]?.id as string;
      for (const [method, url, body] of [
        ['GET', `/api/products/${tee.id}`, undefined],
        ['PATCH', `/api/products/${tee.id}`, { title: 'Mine' }],
        ['PATCH', `/api/variants/${variant}`, { price: 1 }],
        ['DELETE', `/api/variants/${variant}`, undefined],
        ['PATCH', `/api/categories/${rootCat}`, { name: 'Mine' }],
        ['DELETE', `/api/categories/${childCat}`, undefined],
        ['GET', `/api/collections/${col.json.id}`, undefined],
        ['GET', `/api/inventory?variant_id=${variant}`, undefined],
      ] as const) {
        assert.equal(problemOf(await call(t.app, { method, url, token: other.token, body })).status, 404, `${method} ${url}`);
      }
      assert.equal(problemOf(await call(t.app, { url: `/api/products/${tee.id}`, pk: other.pk })).status, 404);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/inventory/adjustments', token: other.token, body: { variant_id: variant, reason: 'adjustment', delta: 100 } })).status, 404);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/collections', token: other.token, body: { title: 'Steal', product_ids: [tee.id] } })).code, 'unknown_product');
      assert.deepEqual((await call(t.app, { url: '/api/products?q=cotton', pk: other.pk })).json.data, []);
      assert.deepEqual((await call(t.app, { url: '/api/products', token: other.token })).json.data, []);
      assert.deepEqual((await call(t.app, { url: '/api/categories', token: other.token })).json.data, []);
      assert.deepEqual((await call(t.app, { url: `/api/inventory/ledger?variant_id=${variant}`, token: other.token })).json.data, []);
      const mine = (await call(t.app, { url: '/api/locations', token: shop.token })).json.data?.map((l) => l.id) ?? [];
      const theirs = (await call(t.app, { url: '/api/locations', token: other.token })).json.data?.map((l) => l.id) ?? [];
      assert.equal(theirs.length, 1);
      assert.ok(!theirs.some((id) => mine.includes(id)));
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/inventory/adjustments', token: other.token, body: { variant_id: variant, location_id: mine[0], reason: 'adjustment', delta: 1 } })).status, 404);
      assert.equal((await call(t.app, { url: `/api/products/${tee.id}`, token: shop.token })).json.title, 'Organic Cotton Tee');
    });
  });
}
