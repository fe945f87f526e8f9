import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generatePrivateKeyPem } from '../src/modules/auth/tokens.ts';
import { engines, freshDatabase, type TestDb } from './helpers.ts';

/** The built server as an outside client sees it: `stockroom serve` on a real port. */
interface Running {
  proc: ChildProcess;
  out: string;
  url: string;
}

function startServe(env: Record<string, string>): Promise<Running> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['bin/stockroom.js', 'serve'], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const r: Running = { proc, out: '', url: '' };
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${r.out}${err}`)), 30_000);
    proc.stderr?.on('data', (d) => (err += String(d)));
    proc.stdout?.on('data', (d) => {
      r.out += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(r.out);
      if (m && /publishable key:|\n$/.test(r.out) && !r.url) {
        // Wait for the whole banner.
        setTimeout(() => {
          r.url = m[1] as string;
          clearTimeout(timer);
          resolve(r);
        }, 200);
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

function stop(r: Running): Promise<number | null> {
  return new Promise((resolve) => {
    r.proc.removeAllListeners('exit');
    r.proc.on('exit', (code) => resolve(code));
    r.proc.kill('SIGTERM');
  });
}

async function json(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

for (const engine of engines()) {
  describe(`stockroom serve [${engine.name}]`, () => {
    let dir: string;
    let tdb: TestDb | null = null;
    let env: Record<string, string>;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'stockroom-e2e-'));
      env = { DATA_DIR: dir, DATABASE_URL: '', REDIS_URL: '', JWT_PRIVATE_KEY: '', SEED_DEMO: 'true' };
      if (engine.name === 'postgres') {
        tdb = await freshDatabase(engine, dir);
        await tdb.db.destroy();
        env = { ...env, DATABASE_URL: (tdb.database as { url: string }).url, REDIS_URL: engine.redisUrl ?? '', JWT_PRIVATE_KEY: generatePrivateKeyPem() };
      }
    });
    after(async () => {
      if (tdb) await tdb.drop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    });

    test('first start migrates, seeds the demo shop and prints URL, login and publishable key; the API tour works; SIGTERM exits cleanly; a restart keeps the data', async () => {
      const s = await startServe(env);
      try {
        assert.match(s.out, /Demo shop created: slug "demo"/);
        const email = /staff login:\s+(\S+) \/ (\S+)/.exec(s.out);
        const pk = /publishable key:\s+(pk_\S+)/.exec(s.out)?.[1];
        assert.ok(email && pk, s.out);
        if (engine.name === 'sqlite') assert.ok(statSync(join(dir, 'stockroom.db')).size > 0);

        assert.equal((await json(`${s.url}/api/health`)).status, 200);
        assert.equal((await json(`${s.url}/api/ready`)).status, 200);
        const li = await json(`${s.url}/api/auth/login`, { method: 'POST', body: JSON.stringify({ shop: 'demo', email: email[1], password: email[2] }) });
        assert.equal(li.status, 200);
        const token = li.body.access_token as string;
        const shop = await json(`${s.url}/api/shop`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(shop.body.slug, 'demo');
        const reg = await json(`${s.url}/api/customers/register`, { method: 'POST', headers: { 'x-publishable-key': pk }, body: JSON.stringify({ email: 'e2e@example.com', password: 'a long enough password' }) });
        assert.equal(reg.status, 201);
        // The demo shop is ready to sell: browse, cart, checkout with a test card.
        const products = await json(`${s.url}/api/products?in_stock=true&limit=50`, { headers: { 'x-publishable-key': pk } });
        assert.ok((products.body.data as unknown[]).length >= 20);
        const all = await json(`${s.url}/api/products?limit=100`, { headers: { authorization: `Bearer ${token}` } });
        assert.ok((all.body.data as unknown[]).length >= 50, 'at least 50 products');
        const variant = (products.body.data as { variants: { id: string; in_stock: boolean }[] }[]).flatMap((p) => p.variants).find((v) => v.in_stock)!;
        const cart = await json(`${s.url}/api/carts`, { method: 'POST', headers: { 'x-publishable-key': pk }, body: JSON.stringify({ email: 'e2e@example.com', lines: [{ variant_id: variant.id, quantity: 1 }] }) });
        assert.equal(cart.status, 201);
        await json(`${s.url}/api/carts/${cart.body.id}`, { method: 'PATCH', headers: { 'x-publishable-key': pk }, body: JSON.stringify({ shipping_address: { country: 'DE', city: 'Berlin', line1: 'Hauptstr. 1', postal_code: '10115' }, discount_code: 'WELCOME10' }) });
        const options = await json(`${s.url}/api/carts/${cart.body.id}/shipping-options`, { headers: { 'x-publishable-key': pk } });
        assert.ok((options.body.data as unknown[]).length >= 1);
        const order = await json(`${s.url}/api/orders`, { method: 'POST', headers: { 'x-publishable-key': pk, 'idempotency-key': 'e2e-order-1-7d3f9a2c' }, body: JSON.stringify({ cart_id: cart.body.id, shipping_method_id: (options.body.data as { id: string }[])[0]!.id, payment: { provider: 'test', card_number: '4242 4242 4242 4242' } }) });
        assert.equal(order.status, 201, JSON.stringify(order.body));
        assert.equal(order.body.status, 'paid');
        assert.ok((order.body.tax_total as number) > 0 && (order.body.discount_total as number) > 0);
        const doc = await json(`${s.url}/api/openapi.json`);
        assert.equal(doc.body.openapi, '3.1.0');
      } finally {
        assert.equal(await stop(s), 0, 'graceful shutdown exits 0');
      }

      const again = await startServe(env);
      try {
        assert.doesNotMatch(again.out, /Demo shop created/);
        assert.match(again.out, /publishable key:\s+pk_/);
        const email = /staff login:\s+(\S+) \/ (\S+)/.exec(again.out);
        const li = await json(`${again.url}/api/auth/login`, { method: 'POST', body: JSON.stringify({ shop: 'demo', email: email?.[1], password: email?.[2] }) });
        assert.equal(li.status, 200, 'the same credentials work after a restart');
        const list = await json(`${again.url}/api/customers?email=e2e@example.com`, { headers: { authorization: `Bearer ${li.body.access_token}` } });
        assert.equal((list.body.data as unknown[]).length, 1, 'data survived the restart');
      } finally {
        assert.equal(await stop(again), 0);
      }
    });
  });
}
