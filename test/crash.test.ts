import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generatePrivateKeyPem } from '../src/modules/auth/tokens.ts';
import { engines, freshDatabase, type TestDb } from './helpers.ts';

/**
 * kill -9 of a real `stockroom serve` while clients check out with Idempotency-Keys and retry every key until it
 * gets a final answer (as a well-behaved client does). Whatever instant the process dies at — inside the order
 * transaction, between the phases, after the commit but before the answer — no key may end with two orders, and
 * every key must in the end be answered with its own order. CRASH_KILLS sets how many kills (default 3).
 */
const KILLS = Number(process.env.CRASH_KILLS ?? 3);
const CLIENTS = 6;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function serve(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['bin/stockroom.js', 'serve'], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    proc.stdout?.on('data', (d) => {
      out += String(d);
      if (/listening on http/.test(out)) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    proc.stderr?.on('data', (d) => (out += String(d)));
    proc.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const engine of engines()) {
  describe(`kill -9 during checkout load [${engine.name}]`, () => {
    let dir: string;
    let tdb: TestDb;
    let env: Record<string, string>;
    let base: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'stockroom-crash-'));
      tdb = await freshDatabase(engine, dir);
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      env = {
        PORT: String(port),
        DATA_DIR: dir,
        SEED_DEMO: 'false',
        RATE_LIMIT_PER_IP: '10000000',
        RATE_LIMIT_PER_PRINCIPAL: '10000000',
        DATABASE_URL: tdb.database.dialect === 'postgres' ? tdb.database.url : `sqlite:${tdb.database.file}`,
        REDIS_URL: engine.redisUrl ?? '',
        JWT_PRIVATE_KEY: generatePrivateKeyPem(),
      };
    });
    after(async () => {
      await tdb.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test(`${KILLS} kills: no key with two orders, every key answered with its own order, stock adds up`, { timeout: 300_000 }, async (t) => {
      let server = await serve(env);
      const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
        const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      };
      const signup = await post('/api/signup', { shop_name: 'Crash Shop', email: 'owner@crash.example', password: 'correct horse battery staple' });
      assert.equal(signup.status, 201);
      const slug = (signup.json.tenant as { slug: string }).slug;
      const tenantId = (signup.json.tenant as { id: string }).id;
      const token = (await post('/api/auth/login', { shop: slug, email: 'owner@crash.example', password: 'correct horse battery staple' })).json.access_token as string;
      const auth = { authorization: `Bearer ${token}` };
      const STOCK = 100_000;
      const product = await post('/api/products', { title: 'Crash Mug', status: 'active', variants: [{ sku: 'CRASH-1', price: 1500, stock: STOCK }] }, auth);
      const variant = (product.json.variants as { id: string }[])[0]!.id;

      const answered = new Map<string, string>();
      const problems: string[] = [];
      let retries = 0;
      let stopping = false;
      // A client that sends a checkout and retries the same key until it has a final answer.
      const client = async () => {
        while (!stopping) {
          const key = `crash-${randomBytes(8).toString('hex')}`;
          const body = { lines: [{ variant_id: variant, quantity: 1 }], payment: { provider: 'test', card_number: '4242424242424242' } };
          const end = Date.now() + 60_000;
          for (;;) {
            // null: the server is down, or the connection died with it.
            const r = await post('/api/orders', body, { ...auth, 'idempotency-key': key }).catch(() => null);
            if (r && r.status === 201) {
              const id = r.json.id as string;
              const before = answered.get(key);
              if (before && before !== id) problems.push(`${key}: answered ${before} and then ${id}`);
              answered.set(key, id);
              break;
            }
            if (r && r.status < 500 && r.json.code !== 'idempotency_request_in_progress') {
              problems.push(`${key}: ${r.status} ${String(r.json.code)}`);
              break;
            }
            if (Date.now() > end) {
              problems.push(`${key}: no final answer within 60 s`);
              break;
            }
            retries++;
            await sleep(100);
          }
        }
      };
      const clients = Array.from({ length: CLIENTS }, () => client());
      for (let k = 0; k < KILLS; k++) {
        await sleep(600 + Math.floor(Math.random() * 600));
        server.kill('SIGKILL');
        await exited(server);
        server = await serve(env);
      }
      await sleep(800);
      stopping = true;
      await Promise.all(clients);
      server.kill('SIGTERM');
      await exited(server);

      t.diagnostic(`${KILLS} kills, ${answered.size} keys, ${retries} retried requests`);
      assert.deepEqual(problems, []);
      assert.ok(answered.size >= CLIENTS * KILLS, `load ran (${answered.size} keys)`);
      assert.ok(retries > 0, 'some requests were cut by the kills and retried');
      const orders = await tdb.db.selectFrom('orders').select(['id', 'status']).where('tenant_id', '=', tenantId).execute();
      const ids = new Set(answered.values());
      assert.equal(ids.size, answered.size, 'no two keys were answered with the same order');
      assert.deepEqual(orders.map((o) => o.id).sort(), [...ids].sort(), 'every order belongs to exactly one key: none twice, none lost');
      assert.ok(orders.every((o) => o.status === 'paid'));
      const stock = await tdb.db.selectFrom('stock_levels').select('available').where('tenant_id', '=', tenantId).where('variant_id', '=', variant).executeTakeFirstOrThrow();
      assert.equal(Number(stock.available), STOCK - orders.length, 'stock taken once per order');
      const dangling = await tdb.db.selectFrom('payment_actions').select('id').where('tenant_id', '=', tenantId).where('status', '=', 'pending').execute();
      assert.equal(dangling.length, 0, 'no payment left unsettled');
    });
  });
}
