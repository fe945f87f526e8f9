import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jobHandlers } from '../src/background.ts';
import { createMailer } from '../src/modules/email/index.ts';
import { runImport } from '../src/modules/imports/index.ts';
import { Worker } from '../src/modules/jobs/worker.ts';
import { call, createShop, engines, problemOf, startApp, type Json, type Shop, type TestApp } from './helpers.ts';

/** A multipart/form-data body with one file, as a browser or curl -F sends it. */
export function multipart(filename: string, content: string | Buffer, type = 'text/csv'): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----stockroom${Math.random().toString(16).slice(2)}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`),
    Buffer.isBuffer(content) ? content : Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export async function upload(t: TestApp, token: string, query: string, filename: string, content: string, type?: string) {
  const m = multipart(filename, content, type);
  const res = await t.app.inject({ method: 'POST', url: `/api/imports?${query}`, headers: { ...m.headers, authorization: `Bearer ${token}` }, payload: m.payload });
  return Object.assign(res, { json: (res.body ? JSON.parse(res.body) : {}) as Json });
}

const PRODUCTS = [
  'handle,title,status,category,option1_name,option1_value,sku,price,compare_at_price,stock,stock:Warehouse,attribute:material',
  'tee,Organic Tee,active,Shirts,Size,S,TEE-S,19.99,24.00,5,10,cotton',
  'tee,,,,,M,TEE-M,19.99,,3,0,',
  'mug,Enamel Mug,active,Kitchen,,,MUG-1,9.50,,12,,',
].join('\n');

for (const engine of engines()) {
  describe(`imports [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let other: Shop;
    let worker: Worker;

    const runJobs = async () => {
      for (let i = 0; i < 20; i++) {
        const n = await worker.tick();
        await worker.idle();
        if (n === 0) return;
      }
    };
    const finished = async (id: string) => {
      await runJobs();
      const r = await call(t.app, { url: `/api/imports/${id}`, token: shop.token });
      assert.equal(r.statusCode, 200, r.body);
      return r.json;
    };
    const product = async (s: Shop, handle: string) => (await call(t.app, { url: `/api/products?handle=${handle}`, token: s.token })).json.data?.[0] as Json | undefined;

    before(async () => {
      t = await startApp(engine, { env: { IMPORT_MAX_BYTES: '4096' } });
      shop = await createShop(t.app);
      other = await createShop(t.app);
      const loc = await call(t.app, { method: 'POST', url: '/api/locations', token: shop.token, body: { name: 'Warehouse' } });
      assert.equal(loc.statusCode, 201, loc.body);
      worker = new Worker({ db: t.db, clock: { now: () => new Date() }, log: t.app.log, handlers: jobHandlers({ gateway: t.app.payments, webhooksAllowPrivate: false, mailer: createMailer({ smtpUrl: null, from: t.config.mail.from, dataDir: t.config.dataDir, log: t.app.log }) }), queues: { imports: 1 } });
    });
    after(async () => {
      await worker.stop();
      await t.close();
    });

    test('a product CSV imports options, variants, prices, stock per location, categories; the same file again changes nothing', async () => {
      const r = await upload(t, shop.token, 'kind=products', 'products.csv', PRODUCTS);
      assert.equal(r.statusCode, 202, r.body);
      assert.equal(r.json.status, 'queued');
      const done = await finished(r.json.id as string);
      assert.equal(done.status, 'succeeded', JSON.stringify(done));
      assert.deepEqual([done.created, done.updated, done.unchanged, done.failed, done.rows_done, done.percent], [3, 0, 0, 0, 3, 100]);
      // Announced once (realtime channel `imports`, webhooks), in the shop's outbox only.
      const events = await t.db.selectFrom('outbox_events').select(['tenant_id', 'type', 'payload']).where('aggregate_id', '=', r.json.id as string).execute();
      assert.deepEqual(events.map((e) => [e.tenant_id, e.type]), [[shop.tenantId, 'import.completed']]);
      assert.equal(JSON.parse(events[0]!.payload).created, 3);

      const tee = (await product(shop, 'tee')) as Json;
      assert.equal(tee.title, 'Organic Tee');
      assert.equal(tee.status, 'active');
      assert.deepEqual(tee.options, [{ name: 'Size', values: ['S', 'M'] }]);
      assert.deepEqual(tee.attributes, { material: 'cotton' });
      const variants = tee.variants as Json[];
      assert.deepEqual(variants.map((v) => [v.sku, v.price, v.compare_at_price, v.option_values, v.available]), [
        ['TEE-S', 1999, 2400, { Size: 'S' }, 15],
        ['TEE-M', 1999, null, { Size: 'M' }, 3],
      ]);
      const cats = (await call(t.app, { url: '/api/categories', token: shop.token })).json.data as Json[];
      assert.deepEqual(cats.map((c) => c.name).sort(), ['Kitchen', 'Shirts']);
      assert.equal(tee.category_id, cats.find((c) => c.name === 'Shirts')?.id);
      const levels = (await call(t.app, { url: `/api/inventory?variant_id=${variants[0]?.id}`, token: shop.token })).json.data as Json[];
      assert.deepEqual(levels.map((l) => l.available).sort(), [10, 5]);
      const mug = (await product(shop, 'mug')) as Json;
      assert.equal((mug.variants as Json[])[0]?.price, 950);

      // Again: nothing differs, nothing is written (no new version, no ledger entry).
      const ledger = async () => ((await call(t.app, { url: '/api/inventory/ledger?limit=100', token: shop.token })).json.data as Json[]).length;
      const before = await ledger();
      const again = await upload(t, shop.token, 'kind=products', 'products.csv', PRODUCTS);
      const d2 = await finished(again.json.id as string);
      assert.deepEqual([d2.created, d2.updated, d2.unchanged, d2.failed], [0, 0, 3, 0]);
      assert.equal(((await product(shop, 'tee')) as Json).version, tee.version);
      assert.equal(await ledger(), before);

      // A change in the file is an update: the price and a count.
      const changed = PRODUCTS.replace('TEE-M,19.99,,3,0,', 'TEE-M,21.00,,4,0,');
      const d3 = await finished((await upload(t, shop.token, 'kind=products', 'products.csv', changed)).json.id as string);
      assert.deepEqual([d3.created, d3.updated, d3.unchanged], [0, 1, 2], JSON.stringify(d3));
      const m = ((await product(shop, 'tee')) as Json).variants as Json[];
      assert.deepEqual([m[1]?.price, m[1]?.available], [2100, 4]);
      // The other shop has nothing of it.
      assert.equal(await product(other, 'tee'), undefined);
    });

    test('a dry run reports planted errors by row and column and writes nothing; applying it imports the good rows', async () => {
      const file = [
        'handle,title,option1_name,option1_value,sku,price,status,stock',
        'lamp,Desk Lamp,,,LAMP-1,39.00,active,2',
        'chair,Chair,,,CH-1,12,50,draft,1',
        'table,Table,,,,80.00,active,1',
        'shelf,Shelf,,,SH-1,45.00,hidden,1',
        'stool,Stool,,,ST-1,abc,active,-3',
        'vase,Vase,,,VA-1,15.00,active,4',
      ].join('\n');
      const r = await upload(t, shop.token, 'kind=products&dry_run=true', 'planted.csv', file);
      assert.equal(r.statusCode, 202, r.body);
      const done = await finished(r.json.id as string);
      assert.equal(done.mode, 'dry_run');
      assert.equal(done.status, 'succeeded');
      assert.deepEqual([done.created, done.failed], [2, 4]);
      const errors = (await call(t.app, { url: `/api/imports/${r.json.id}/errors?limit=100`, token: shop.token })).json.data as Json[];
      const at = errors.map((e) => `${e.row}:${e.column}:${e.code}`);
      assert.ok(at.includes('4:sku:required'), at.join(' '));
      assert.ok(at.includes('5:status:invalid'), at.join(' '));
      assert.ok(at.includes('6:price:invalid_amount'), at.join(' '));
      assert.ok(at.includes('6:stock:invalid'), at.join(' '));
      assert.ok(errors.some((e) => e.row === 3), 'the row with a stray comma is reported');
      assert.equal(await product(shop, 'lamp'), undefined, 'a dry run writes nothing');

      const csv = await call(t.app, { url: `/api/imports/${r.json.id}/errors.csv`, token: shop.token });
      assert.equal(csv.statusCode, 200);
      assert.match(String(csv.headers['content-type']), /text\/csv/);
      assert.match(csv.body, /^row,column,code,message\r\n/);
      assert.match(csv.body, /\r\n4,sku,required,/);

      const applied = await call(t.app, { method: 'POST', url: `/api/imports/${r.json.id}/apply`, token: shop.token });
      assert.equal(applied.statusCode, 202, applied.body);
      assert.equal(applied.json.dry_run_id, r.json.id);
      const d2 = await finished(applied.json.id as string);
      assert.deepEqual([d2.mode, d2.status, d2.created, d2.failed], ['apply', 'succeeded', 2, 4]);
      assert.equal(((await product(shop, 'lamp')) as Json).title, 'Desk Lamp');
      assert.equal(await product(shop, 'table'), undefined);
      const again = await call(t.app, { method: 'POST', url: `/api/imports/${applied.json.id}/apply`, token: shop.token });
      assert.equal(problemOf(again).code, 'not_a_dry_run');
    });

    test('a header with an unknown column or location is refused at upload, naming it; bad requests get clear errors', async () => {
      const r = await upload(t, shop.token, 'kind=products', 'bad.csv', 'handle,title,sku,prise,stock:Attic\nx,X,X-1,1.00,1\n');
      assert.equal(problemOf(r).code, 'invalid_header');
      const pointers = ((r.json.errors ?? []) as Json[]).map((e) => e.pointer);
      assert.ok(pointers.includes('/body/file/header/prise') && pointers.includes("/body/file/header/stock:Attic"), JSON.stringify(r.json));
      assert.equal(problemOf(await upload(t, shop.token, 'kind=products', 'x.txt', 'a', 'text/plain')).code, 'unknown_format');
      assert.equal(problemOf(await upload(t, shop.token, 'kind=orders', 'x.csv', 'a')).status, 400);
      const big = await upload(t, shop.token, 'kind=contacts', 'big.csv', `email\n${'a@example.com\n'.repeat(400)}`);
      assert.deepEqual(problemOf(big), { status: 413, code: 'file_too_large' });
      const json = await call(t.app, { method: 'POST', url: '/api/imports?kind=products', token: shop.token, body: {} });
      assert.equal(problemOf(json).code, 'multipart_required', json.body);
      const list = await call(t.app, { url: '/api/imports', token: shop.token });
      assert.ok(!(list.json.data as Json[]).some((i) => i.filename === 'bad.csv' || i.filename === 'big.csv'), 'refused uploads leave nothing');
    });

    test('NDJSON products and a contact CSV: contacts upsert by email', async () => {
      const nd = [JSON.stringify({ handle: 'poster', title: 'Poster', status: 'active', options: ['Format'], variants: [{ sku: 'PO-A3', price: 1500, option_values: { Format: 'A3' }, stock: { Warehouse: 7 } }, { sku: 'PO-A2', price: 2500, option_values: { Format: 'A2' }, stock: 2 }] }), '{not json', JSON.stringify({ title: 'No variants' })].join('\n');
      const r = await upload(t, shop.token, 'kind=products', 'p.ndjson', nd, 'application/x-ndjson');
      const done = await finished(r.json.id as string);
      assert.deepEqual([done.created, done.failed], [2, 2]);
      const errors = (await call(t.app, { url: `/api/imports/${r.json.id}/errors`, token: shop.token })).json.data as Json[];
      assert.deepEqual(errors.map((e) => `${e.row}:${e.column}:${e.code}`), ['2::invalid_json', '3:/variants:required']);
      const poster = (await product(shop, 'poster')) as Json;
      assert.deepEqual((poster.variants as Json[]).map((v) => [v.sku, v.available]), [['PO-A3', 7], ['PO-A2', 2]]);

      const existing = await call(t.app, { method: 'POST', url: '/api/contacts', token: shop.token, body: { email: 'lena@example.com', first_name: 'L', tags: ['fair'] } });
      assert.equal(existing.statusCode, 201, existing.body);
      const contacts = ['email,first_name,last_name,tags,email_marketing', 'LENA@example.com,Lena,Berg,"vip, wholesale",subscribed', 'max@example.com,Max,,,', 'not-an-email,X,,,'].join('\n');
      const c = await upload(t, shop.token, 'kind=contacts', 'contacts.csv', contacts);
      const cd = await finished(c.json.id as string);
      assert.deepEqual([cd.created, cd.updated, cd.failed], [1, 1, 1]);
      const lena = (await call(t.app, { url: '/api/contacts?email=lena@example.com', token: shop.token })).json.data?.[0] as Json;
      assert.equal(lena.id, existing.json.id);
      assert.deepEqual([lena.first_name, lena.last_name, lena.tags, (lena.consent as Json).status], ['Lena', 'Berg', ['fair', 'vip', 'wholesale'], 'subscribed']);
      const max = (await call(t.app, { url: '/api/contacts?email=max@example.com', token: shop.token })).json.data?.[0] as Json;
      assert.equal(max.source, 'import');
      const again = await finished((await upload(t, shop.token, 'kind=contacts', 'contacts.csv', contacts)).json.id as string);
      assert.deepEqual([again.created, again.updated, again.unchanged, again.failed], [0, 0, 2, 1]);
    });

    test('an import that dies mid-way resumes from its checkpoint: every row once', async () => {
      const rows = ['handle,title,sku,price,stock'];
      for (let i = 0; i < 9; i++) rows.push(`item-${i},Item ${i},IT-${i},1.00,${i}`);
      const r = await upload(t, shop.token, 'kind=products', 'resume.csv', rows.join('\n'));
      const id = r.json.id as string;
      await assert.rejects(
        runImport(t.db, { now: () => new Date() }, t.app.log, shop.tenantId, id, {
          batchRows: 2,
          probe: (n) => {
            if (n === 2) throw new Error('killed after the second batch');
          },
        }),
        /killed/,
      );
      const mid = (await call(t.app, { url: `/api/imports/${id}`, token: shop.token })).json;
      assert.deepEqual([mid.status, mid.rows_done, mid.created], ['running', 4, 4]);
      const v = await runImport(t.db, { now: () => new Date() }, t.app.log, shop.tenantId, id, { batchRows: 2 });
      assert.deepEqual([v.status, v.rows_done, v.created, v.unchanged, v.failed], ['succeeded', 9, 9, 0, 0]);
      const ledger = (await call(t.app, { url: '/api/inventory/ledger?limit=100', token: shop.token })).json.data as Json[];
      assert.equal(ledger.filter((e) => e.reference === id).length, 8, 'one count per item with stock, none twice');
    });

    test('another shop cannot see or touch an import; a clerk without imports:write cannot start one', async () => {
      const r = await upload(t, shop.token, 'kind=products', 'iso.csv', 'handle,title,sku,price\niso,Iso,ISO-1,1.00\n');
      const id = r.json.id as string;
      for (const url of [`/api/imports/${id}`, `/api/imports/${id}/errors`, `/api/imports/${id}/errors.csv`]) assert.equal(problemOf(await call(t.app, { url, token: other.token })).status, 404, url);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/imports/${id}/cancel`, token: other.token })).status, 404);
      assert.equal(((await call(t.app, { url: '/api/imports', token: other.token })).json.data as Json[]).length, 0);
      // Same SKU in the other shop: its own product, untouched by the first shop's import.
      const own = await upload(t, other.token, 'kind=products', 'iso.csv', 'handle,title,sku,price\niso,Other Iso,ISO-1,2.00\n');
      await runJobs();
      await finished(id);
      assert.equal(((await call(t.app, { url: `/api/imports/${own.json.id}`, token: other.token })).json as Json).created, 1);
      assert.equal(((await product(shop, 'iso')) as Json).title, 'Iso');
      assert.equal(((await product(other, 'iso')) as Json).title, 'Other Iso');

      const key = await call(t.app, { method: 'POST', url: '/api/api-keys', token: shop.token, body: { name: 'reader', type: 'secret', permissions: ['imports:write', 'catalog:read'] } });
      assert.equal(key.statusCode, 201, key.body);
      const denied = await upload(t, key.json.key as string, 'kind=products', 'p.csv', 'handle,title,sku,price\nx,X,X-1,1.00\n');
      assert.equal(problemOf(denied).code, 'permission_denied');
    });

    test('a cancelled import stops between batches', async () => {
      const r = await upload(t, shop.token, 'kind=contacts', 'c.csv', 'email\na1@example.com\n');
      const c = await call(t.app, { method: 'POST', url: `/api/imports/${r.json.id}/cancel`, token: shop.token });
      assert.equal(c.json.status, 'cancelled');
      const done = await finished(r.json.id as string);
      assert.deepEqual([done.status, done.created], ['cancelled', 0]);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/imports/${r.json.id}/cancel`, token: shop.token })).code, 'import_finished');
    });
  });
}
