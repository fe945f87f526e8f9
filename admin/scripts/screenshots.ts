// Screenshots of the console's main screens for docs/screenshots/: `npm start`'s server on a scratch data directory
// (the demo shop), a few orders placed through the API, then the screens in headless Chromium (the system browser).
//   node admin/scripts/screenshots.ts [--out docs/screenshots]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'docs/screenshots' } } });
const ROOT = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'stockroom-shots-'));
const out = resolve(ROOT, args.out as string);
mkdirSync(out, { recursive: true });

const proc = spawn(process.execPath, ['bin/stockroom.js', 'serve'], { cwd: ROOT, env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', DATA_DIR: dir, DATABASE_URL: '', REDIS_URL: '', SEED_DEMO: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
const base = await new Promise<string>((res, rej) => {
  const timer = setTimeout(() => rej(new Error(`did not start: ${log}`)), 60_000);
  proc.stdout.on('data', (d: Buffer) => {
    log += String(d);
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
    if (m && /publishable key/.test(log)) {
      clearTimeout(timer);
      res(m[1]!);
    }
  });
  proc.stderr.on('data', (d: Buffer) => (log += String(d)));
});
const [, email, password] = /staff login:\s+(\S+) \/ (\S+)/.exec(log)!;
const pk = /publishable key:\s+(pk_\S+)/.exec(log)![1]!;
const api = async (path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) => {
  const r = await fetch(`${base}${path}`, { method: init.method ?? 'GET', headers: { 'content-type': 'application/json', ...init.headers }, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  if (r.status >= 400) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as Record<string, unknown>;
};
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
try {
  // A few orders from the demo catalogue, as shoppers would place them.
  const products = (await api('/api/products?limit=5', { headers: { 'x-publishable-key': pk } })).data as { variants: { id: string }[] }[];
  let firstOrder = '';
  for (let i = 0; i < 6; i++) {
    const cart = await api('/api/carts', { method: 'POST', headers: { 'x-publishable-key': pk }, body: { email: `shopper${i}@example.com`, lines: [{ variant_id: products[i % products.length]!.variants[0]!.id, quantity: 1 + (i % 3) }] } });
    const order = await api('/api/orders', { method: 'POST', headers: { 'x-publishable-key': pk, 'idempotency-key': crypto.randomUUID() }, body: { cart_id: cart.id, payment: { provider: 'test', card_number: '4242424242424242' } } });
    firstOrder ||= order.id as string;
  }
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
  await page.goto(`${base}/admin/`);
  await page.getByLabel('Shop').fill('demo');
  await page.getByLabel('Email').fill(email!);
  await page.getByLabel('Password').fill(password!);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('region', { name: 'Live orders' }).getByRole('link').first().waitFor();
  await page.waitForTimeout(500);
  const shots: [string, string, string][] = [
    ['dashboard', '/', 'Live orders'],
    ['orders', '/orders', 'Orders'],
    ['order', `/orders/${firstOrder}`, 'Chat with the customer'],
    ['products', '/products', 'Products'],
    ['imports', '/imports', 'Imports'],
    ['customers', '/customers', 'Customers'],
    ['staff', '/staff', 'API keys'],
  ];
  for (const [name, path, region] of shots) {
    if (path !== '/') {
      await page.goto(`${base}/admin${path}`);
      await page.getByRole('region', { name: region }).first().waitFor();
      await page.waitForTimeout(400);
    }
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: false });
    process.stdout.write(`${join(args.out as string, `${name}.png`)}\n`);
  }
} finally {
  await browser.close();
  proc.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
