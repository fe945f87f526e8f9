import type { Db } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { csvRow } from '../../lib/csv.ts';
import { currencyExponent } from '../../lib/money.ts';
import { addDays, startOfLocalDay } from '../../lib/timezones.ts';
import { availableByVariant } from '../inventory/inventory.service.ts';
import { checkRange } from './reports.service.ts';

export type ExportKind = 'orders' | 'customers' | 'products';
export const EXPORT_KINDS: readonly ExportKind[] = ['orders', 'customers', 'products'];
const BATCH = 500;

const major = (amount: number, currency: string) => {
  const e = currencyExponent(currency);
  return e === 0 ? String(amount) : (amount / 10 ** e).toFixed(e);
};

/**
 * The `export.csv` job: writes the shop's orders (optionally a date range), customers or products as CSV in
 * batches, reporting progress, and stores the file with the job (any API node can serve the download).
 * Running it again replaces the file, so a retried job is harmless.
 */
export async function runExport(db: Db, clock: Clock, tenantId: string, jobId: string, p: { kind: ExportKind; from?: string; to?: string }, progress: (pct: number) => Promise<void>): Promise<{ rows: number; filename: string }> {
  const shop = await db.selectFrom('tenants').select(['currency', 'timezone', 'slug']).where('id', '=', tenantId).executeTakeFirstOrThrow();
  let out = '';
  let rows = 0;
  let after = '';
  if (p.kind === 'orders') {
    if (p.from && p.to) checkRange(p.from, p.to);
    const range = p.from && p.to ? { start: startOfLocalDay(p.from, shop.timezone).toISOString(), end: startOfLocalDay(addDays(p.to, 1), shop.timezone).toISOString() } : null;
    const base = () => {
      let q = db.selectFrom('orders').where('tenant_id', '=', tenantId);
      if (range) q = q.where('created_at', '>=', range.start).where('created_at', '<', range.end);
      return q;
    };
    const total = Number((await base().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    out += csvRow(['number', 'id', 'created_at', 'status', 'email', 'currency', 'subtotal', 'discount_total', 'shipping_total', 'tax_total', 'total', 'amount_paid', 'amount_refunded', 'discount_code']);
    for (;;) {
      const batch = await base().selectAll().where('id', '>', after).orderBy('id').limit(BATCH).execute();
      if (batch.length === 0) break;
      for (const o of batch) {
        const m = (n: number) => major(Number(n), o.currency);
        out += csvRow([o.number, o.id, o.created_at, o.status, o.email, o.currency, m(o.subtotal), m(o.discount_total), m(o.shipping_total), m(o.tax_total), m(o.total), m(o.amount_paid), m(o.amount_refunded), o.discount_code]);
      }
      rows += batch.length;
      after = batch.at(-1)!.id;
      await progress(total ? (rows / total) * 100 : 100);
    }
  } else if (p.kind === 'customers') {
    const total = Number((await db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
    out += csvRow(['id', 'email', 'first_name', 'last_name', 'status', 'has_account', 'created_at']);
    for (;;) {
      const batch = await db.selectFrom('customers').selectAll().where('tenant_id', '=', tenantId).where('id', '>', after).orderBy('id').limit(BATCH).execute();
      if (batch.length === 0) break;
      for (const c of batch) out += csvRow([c.id, c.email, c.first_name, c.last_name, c.status, c.password_hash !== null, c.created_at]);
      rows += batch.length;
      after = batch.at(-1)!.id;
      await progress(total ? (rows / total) * 100 : 100);
    }
  } else {
    const total = Number((await db.selectFrom('variants').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
    out += csvRow(['product_id', 'handle', 'product_title', 'status', 'variant_id', 'sku', 'variant_title', 'price', 'compare_at_price', 'weight_grams', 'available']);
    for (;;) {
      const batch = await db
        .selectFrom('variants as v')
        .innerJoin('products as pr', (j) => j.onRef('pr.tenant_id', '=', 'v.tenant_id').onRef('pr.id', '=', 'v.product_id'))
        .select(['v.id', 'v.sku', 'v.title', 'v.price', 'v.compare_at_price', 'v.weight_grams', 'pr.id as product_id', 'pr.handle', 'pr.title as product_title', 'pr.status'])
        .where('v.tenant_id', '=', tenantId)
        .where('v.id', '>', after)
        .orderBy('v.id')
        .limit(BATCH)
        .execute();
      if (batch.length === 0) break;
      const stock = await availableByVariant(db, tenantId, batch.map((v) => v.id));
      for (const v of batch) {
        out += csvRow([v.product_id, v.handle, v.product_title, v.status, v.id, v.sku, v.title, major(Number(v.price), shop.currency), v.compare_at_price === null ? '' : major(Number(v.compare_at_price), shop.currency), v.weight_grams, stock.get(v.id) ?? 0]);
      }
      rows += batch.length;
      after = batch.at(-1)!.id;
      await progress(total ? (rows / total) * 100 : 100);
    }
  }
  const filename = `${shop.slug}-${p.kind}-${clock.now().toISOString().slice(0, 10)}.csv`;
  const now = clock.now().toISOString();
  await db
    .insertInto('export_files')
    .values({ tenant_id: tenantId, job_id: jobId, kind: p.kind, filename, content: out, rows, created_at: now })
    .onConflict((oc) => oc.columns(['tenant_id', 'job_id']).doUpdateSet({ content: out, rows, filename, created_at: now }))
    .execute();
  return { rows, filename };
}

export async function exportFile(db: Db, tenantId: string, jobId: string) {
  return db.selectFrom('export_files').selectAll().where('tenant_id', '=', tenantId).where('job_id', '=', jobId).executeTakeFirst();
}
