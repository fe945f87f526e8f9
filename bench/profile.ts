// A CPU profile of the server under load: `stockroom serve` (as `npm start` runs it, embedded SQLite) started with
// --cpu-prof, then either N carts checked out by 32 connections (checkout) or the storefront's catalogue page
// requested for 10 s (catalogue); the profile summed by function (self and inclusive time) and by package. For
// finding what to make faster; bench/run.ts is what measures.
//   node bench/profile.ts [--scenario checkout|catalogue] [--orders 3000] [--top 40]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values: args } = parseArgs({ options: { scenario: { type: 'string', default: 'checkout' }, orders: { type: 'string', default: '3000' }, top: { type: 'string', default: '40' }, connections: { type: 'string', default: '32' } } });
const ORDERS = Number(args.orders);
const ROOT = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'stockroom-prof-'));
const proc = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}/prof`, 'bin/stockroom.js', 'serve'], { cwd: ROOT, env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', RATE_LIMIT_PER_IP: '10000000', RATE_LIMIT_PER_PRINCIPAL: '10000000', SEED_DEMO: 'true', DATABASE_URL: '', REDIS_URL: '', DATA_DIR: join(dir, 'data') }, stdio: ['ignore', 'pipe', 'pipe'] });
let out = '';
const port = await new Promise<number>((res) => {
  proc.stdout.on('data', (d: Buffer) => {
    out += String(d);
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    if (m && /publishable key/.test(out)) res(Number(m[1]));
  });
  proc.stderr.on('data', (d: Buffer) => (out += String(d)));
});
const url = `http://127.0.0.1:${port}`;
const api = async (path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) => {
  const r = await fetch(`${url}${path}`, { method: init.method ?? 'GET', headers: { 'content-type': 'application/json', ...init.headers }, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  if (r.status >= 400) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as Record<string, unknown>;
};
const pk = /publishable key:\s+(pk_\S+)/.exec(out)![1]!;
const [, email, password] = /staff login:\s+(\S+) \/ (\S+)/.exec(out)!;
const token = (await api('/api/auth/login', { method: 'POST', body: { shop: 'demo', email, password } })).access_token as string;
const variants: string[] = [];
for (let i = 0; i < 3; i++) variants.push(((await api('/api/products', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: { title: `P${i}`, status: 'active', variants: [{ sku: `PROF-${i}`, price: 1000, stock: ORDERS * 3 + 10 }] } })).variants as { id: string }[])[0]!.id);
const carts: string[] = [];
if (args.scenario === 'catalogue') {
  for (let i = 3; i < 40; i++) await api('/api/products', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: { title: `Catalogue item ${i}`, status: 'active', options: [{ name: 'Size', values: ['S', 'M', 'L'] }], variants: ['S', 'M', 'L'].map((v) => ({ sku: `CAT-${i}-${v}`, price: 1500, option_values: { Size: v }, stock: 5 })) } });
}
await Promise.all(Array.from({ length: 16 }, async () => {
  while (args.scenario === 'checkout' && carts.length < ORDERS) carts.push((await api('/api/carts', { method: 'POST', headers: { 'x-publishable-key': pk }, body: { email: 'p@example.com', lines: variants.map((v) => ({ variant_id: v, quantity: 1 })) } })).id as string);
}));
let next = 0;
const failures = new Map<string, number>();
const r = args.scenario === 'catalogue' ? await autocannon({ url: `${url}/api/products?limit=20`, connections: Number(args.connections), duration: 10, headers: { 'x-publishable-key': pk } }) : await autocannon({ url: `${url}/api/orders`, connections: Number(args.connections), amount: carts.length, requests: [{ method: 'POST', setupRequest: (req) => { const i = next++; return { ...req, headers: { ...req.headers, 'content-type': 'application/json', 'x-publishable-key': pk, 'idempotency-key': `prof-checkout-key-${i}` }, body: JSON.stringify({ cart_id: carts[i % carts.length], payment: { provider: 'test', card_number: '4242424242424242' } }) }; }, onResponse: (status: number, body: string) => { if (status >= 300) { const k = `${status} ${body.slice(0, 300)}`; failures.set(k, (failures.get(k) ?? 0) + 1); } } }] });
for (const [k, n] of [...failures].slice(0, 3)) console.log(`${n} × ${k}`);
console.log(`${r.requests.average} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non2xx ${r.non2xx}, errors ${r.errors}`);
await new Promise((res) => { proc.on('exit', res); proc.kill('SIGTERM'); });
const file = readdirSync(join(dir, 'prof'))[0]!;
interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const prof = JSON.parse(readFileSync(join(dir, 'prof', file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
// Only the checkout run: samples from the first one inside the checkout workflow on (the carts are made before).
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const inCheckout = (id: number) => {
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) if (byId.get(x)?.callFrame.url.endsWith('workflows/checkout.ts')) return true;
  return false;
};
// The catalogue run: after the last sample that was still creating the products.
const creating = (id: number) => {
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) if (byId.get(x)?.callFrame.functionName === 'createProduct') return true;
  return false;
};
const lastCreate = prof.samples.reduce((last, id, i) => (creating(id) ? i : last), -1);
const from = args.scenario === 'catalogue' ? lastCreate + 1 : Math.max(0, prof.samples.findIndex(inCheckout));
const self = new Map<number, number>();
prof.samples.forEach((id, i) => {
  if (i >= from) self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
});
const inclusive = new Map<string, number>();
prof.samples.forEach((id, i) => {
  if (i < from) return;
  const seen = new Set<string>();
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
    const f = byId.get(x)!.callFrame;
    if (!f.url.includes('/src/')) continue;
    const k = `${f.functionName || '(anon)'} ${f.url.replace(/.*\/src\//, 'src/')}`;
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0;
  const f = n.callFrame;
  const where = f.url.replace(/^file:\/\//, '').replace(ROOT, '').replace(/.*node_modules\//, 'nm:');
  const k = `${f.functionName || '(anon)'} ${where}:${f.lineNumber + 1}`;
  byFn.set(k, (byFn.get(k) ?? 0) + t);
  const pkg = where.startsWith('nm:') ? where.split('/').slice(0, where.startsWith('nm:@') ? 2 : 1).join('/') : where || f.functionName;
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + t);
}
const pct = (t: number) => `${((t * 100) / total).toFixed(1)}%`.padStart(6);
console.log(`\nself time by function (of ${(total / 1e6).toFixed(1)} s sampled):`);
for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) console.log(`${pct(t)} ${k}`);
console.log('\ninclusive time of our functions:');
for (const [k, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) console.log(`${pct(t)} ${k}`);
console.log('\nself time by package / file:');
for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) console.log(`${pct(t)} ${k}`);
