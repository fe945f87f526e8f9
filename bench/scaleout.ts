// Scale-out: the catalogue page and the checkout of bench/run.ts on PostgreSQL + Redis, with one API node and with
// two (each setup with one `stockroom worker` process for the background), every process on this machine's cores.
// The load is split evenly over the nodes (one autocannon per node, started together). Writes its section of
// docs/benchmarks.md.
//   node bench/scaleout.ts [--pg postgres://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379] [--orders 3000] [--duration 10]
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { generatePrivateKeyPem } from '../src/modules/auth/tokens.ts';
import { apiCall, startProcess, stopProcess, withScratchDatabase, writeSection } from './section.ts';

const { values: args } = parseArgs({
  options: {
    pg: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    redis: { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
    orders: { type: 'string', default: '3000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    out: { type: 'string', default: 'docs/benchmarks.md' },
  },
});
const ORDERS = Number(args.orders);
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const dir = mkdtempSync(join(tmpdir(), 'stockroom-scaleout-'));
const LIMITS = { LOG_LEVEL: 'warn', RATE_LIMIT_PER_IP: '10000000', RATE_LIMIT_PER_PRINCIPAL: '10000000' };

const start = (cmd: string[], env: Record<string, string>, ready: RegExp) => startProcess(cmd, { PORT: '0', ...LIMITS, ...env }, ready);
const stop = stopProcess;
const api = apiCall;

interface Row {
  setup: string;
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  note: string;
}

/** Every node's share of the load at once; req/s summed, latencies of the slowest node. */
async function spread(urls: string[], opts: (url: string, i: number) => autocannon.Options): Promise<{ rps: number; p50: number; p99: number; errors: number; total: number }> {
  const rs = await Promise.all(urls.map((u, i) => autocannon({ connections: Math.round(CONNECTIONS / urls.length), ...opts(u, i) })));
  return {
    rps: rs.reduce((a, r) => a + r.requests.average, 0),
    p50: Math.max(...rs.map((r) => r.latency.p50)),
    p99: Math.max(...rs.map((r) => r.latency.p99)),
    errors: rs.reduce((a, r) => a + r.errors + r.timeouts + r.non2xx, 0),
    total: rs.reduce((a, r) => a + r.requests.total, 0),
  };
}

async function setup(nodes: number): Promise<Row[]> {
  return withScratchDatabase(args.pg as string, 'stockroom_scaleout', async (dbUrl) => {
    const env = { DATABASE_URL: dbUrl, REDIS_URL: args.redis as string, JWT_PRIVATE_KEY: generatePrivateKeyPem(), IN_PROCESS_WORKERS: 'off' };
    const procs: ChildProcess[] = [];
    const label = `${nodes} API node${nodes > 1 ? 's' : ''} + 1 worker`;
    try {
      const first = await start(['bin/stockroom.js', 'serve'], { ...env, SEED_DEMO: 'true', DATA_DIR: join(dir, `n${nodes}-0`) }, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
      procs.push(first.proc);
      const urls = [`http://127.0.0.1:${first.port}`];
      for (let i = 1; i < nodes; i++) {
        const n = await start(['bin/stockroom.js', 'serve'], { ...env, SEED_DEMO: 'false', DATA_DIR: join(dir, `n${nodes}-${i}`) }, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
        procs.push(n.proc);
        urls.push(`http://127.0.0.1:${n.port}`);
      }
      procs.push((await start(['bin/stockroom.js', 'worker'], { ...env, DATA_DIR: join(dir, `n${nodes}-w`) }, /worker (\S+) running/)).proc);
      const pk = /publishable key:\s+(pk_\S+)/.exec(first.out)![1]!;
      const [, email, password] = /staff login:\s+(\S+) \/ (\S+)/.exec(first.out)!;
      const token = (await api(urls[0]!, '/api/auth/login', { method: 'POST', body: { shop: 'demo', email, password } })).access_token as string;
      const rows: Row[] = [];

      // Catalogue: the demo shop's first page, with a publishable key.
      const page = (u: string) => ({ url: `${u}/api/products?limit=20`, headers: { 'x-publishable-key': pk } });
      await spread(urls, (u) => ({ ...page(u), duration: 2 }));
      const cat = await spread(urls, (u) => ({ ...page(u), duration: DURATION }));
      rows.push({ setup: label, scenario: 'catalogue page (20 products with variants)', ...cat, note: '' });

      // Checkout: 3-line carts made beforehand, then checked out across the nodes with an Idempotency-Key each.
      const variants: string[] = [];
      for (let i = 0; i < 3; i++) {
        const p = await api(urls[0]!, '/api/products', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: { title: `Scale item ${i}`, status: 'active', variants: [{ sku: `SCALE-${i}`, price: 1000 + i * 250, weight_grams: 300, stock: ORDERS * 3 + 100 }] } });
        variants.push((p.variants as { id: string }[])[0]!.id);
      }
      const carts: string[] = [];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (carts.length < ORDERS) carts.push((await api(urls[0]!, '/api/carts', { method: 'POST', headers: { 'x-publishable-key': pk }, body: { email: 'bench@example.com', lines: variants.map((v, i) => ({ variant_id: v, quantity: i + 1 })) } })).id as string);
        }),
      );
      let next = 0;
      const t0 = Date.now();
      const co = await spread(urls, (u, i) => ({
        url: `${u}/api/orders`,
        amount: Math.floor(carts.length / urls.length) + (i < carts.length % urls.length ? 1 : 0),
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const i = next++;
              return { ...req, headers: { ...req.headers, 'content-type': 'application/json', 'x-publishable-key': pk, 'idempotency-key': `bench-scaleout-key-${i}` }, body: JSON.stringify({ cart_id: carts[i % carts.length], payment: { provider: 'test', card_number: '4242424242424242' } }) };
            },
          },
        ],
      }));
      const seconds = (Date.now() - t0) / 1000;
      // Stock and orders must add up, and the confirmation emails catch up.
      const c = new pg.Client({ connectionString: dbUrl });
      await c.connect();
      try {
        const paid = Number((await c.query("select count(*) n from orders where status = 'paid' and cart_id is not null and email = 'bench@example.com'")).rows[0].n);
        const levels = (await c.query('select variant_id, available from stock_levels where variant_id = any($1)', [variants])).rows as { variant_id: string; available: number }[];
        const sold = (await c.query('select variant_id, sum(quantity)::int q from order_lines where variant_id = any($1) group by variant_id', [variants])).rows as { variant_id: string; q: number }[];
        let oversold = 0;
        let mismatch = 0;
        for (const [i, v] of variants.entries()) {
          const q = sold.find((s) => s.variant_id === v)?.q ?? 0;
          const left = Number(levels.find((l) => l.variant_id === v)?.available ?? 0);
          if (left < 0) oversold++;
          if (left !== ORDERS * 3 + 100 - q || q !== paid * (i + 1)) mismatch++;
        }
        const drainT0 = Date.now();
        const pending = async () => Number((await c.query("select count(*) n from jobs where type = 'email.send' and status in ('queued', 'running')")).rows[0].n) + Number((await c.query('select count(*) n from outbox_events where published_at is null')).rows[0].n);
        const waiting = await pending();
        while ((await pending()) > 0 && Date.now() - drainT0 < 180_000) await new Promise((r) => setTimeout(r, 200));
        const lag = (await c.query("select percentile_disc(0.99) within group (order by extract(epoch from (j.finished_at::timestamptz - o.created_at::timestamptz))) p99, max(extract(epoch from (j.finished_at::timestamptz - o.created_at::timestamptz))) mx from jobs j join orders o on o.tenant_id = j.tenant_id and o.id = j.payload::json->>'order_id' where j.type = 'email.send' and j.status = 'succeeded' and o.email = 'bench@example.com'")).rows[0] as { p99: string | null; mx: string | null };
        rows.push({
          setup: label,
          scenario: 'checkout POST /api/orders (3-line cart, test card)',
          ...co,
          note: `${paid} paid orders from ${co.total} requests in ${seconds.toFixed(1)} s; stock and order lines add up: ${mismatch === 0 ? 'yes' : `NO (${mismatch})`}; oversold variants: ${oversold}; ${waiting} confirmation-email jobs and unpublished events waiting right after the run; from an order to its confirmation email p99 ${Number(lag.p99 ?? -1).toFixed(1)} s, max ${Number(lag.mx ?? -1).toFixed(1)} s`,
        });
      } finally {
        await c.end();
      }
      return rows;
    } finally {
      for (const p of procs.reverse()) await stop(p);
    }
  });
}

try {
  const rows = [...(await setup(1)), ...(await setup(2))];
  const cpu = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const section = `<!-- bench/scaleout.ts: start -->
## Scale-out: PostgreSQL + Redis, one API node and two

\`node bench/scaleout.ts\`: the catalogue page and the checkout of the table at the top, against PostgreSQL
(database on this machine) and Redis, with one API node and with two (\`stockroom serve\`, IN_PROCESS_WORKERS=off),
each setup with one \`stockroom worker\` process for the background; ${CONNECTIONS} connections split evenly over the
nodes (one autocannon per node, started together: req/s summed, latencies of the slower node); ${ORDERS} orders.
Last run: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version},
${new Date().toISOString().slice(0, 10)}; PostgreSQL, Redis, the worker and autocannon share the same cores.

| setup | scenario | req/s | p50 ms | p99 ms | errors |
|---|---|---|---|---|---|
${rows.map((r) => `| ${r.setup} | ${r.scenario} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} |`).join('\n')}

${rows
  .filter((r) => r.note)
  .map((r) => `- ${r.setup}: ${r.note}.`)
  .join('\n')}

What limits it: two cores. An API node is one JavaScript thread; PostgreSQL's backends, Redis, the worker and
autocannon take the other core's time and part of the first's. A second node adds a second thread but no core, so it
helps only while one node leaves CPU idle (waiting on PostgreSQL round trips): on a machine with a core per node
and the database on its own host, nodes add throughput until PostgreSQL's row locks on the hot stock rows bound it.
<!-- bench/scaleout.ts: end -->`;
  writeSection(args.out as string, 'scaleout', section);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
