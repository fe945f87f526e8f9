import type { Db } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { csvRow } from '../../lib/csv.ts';
import { formatMoney } from '../../lib/money.ts';
import { addDays, startOfLocalDay } from '../../lib/timezones.ts';
import { availableByVariant } from '../inventory/index.ts';
import { checkRange } from './reports.service.ts';
import { reportsRepository as repo } from './reports.repository.ts';

export type ExportKind = 'orders' | 'customers' | 'products';
export const EXPORT_KINDS: readonly ExportKind[] = ['orders', 'customers', 'products'];
const BATCH = 500;

/** Minor units as a decimal in major units ("1234.50"), by integer arithmetic (never a float). */
const major = (amount: number, currency: string) => formatMoney(amount, currency).replace(/ [A-Z]{3}$/, '');

/**
 * The `export.csv` job: writes the shop's orders (optionally a date range), customers or products as CSV in
 * batches, reporting progress, and stores the file with the job (any API node can serve the download).
 * Running it again replaces the file, so a retried job is harmless.
 */
export async function runExport(db: Db, clock: Clock, tenantId: string, jobId: string, p: { kind: ExportKind; from?: string; to?: string }, progress: (pct: number) => Promise<void>, batchSize = BATCH): Promise<{ rows: number; filename: string }> {
  const shop = await repo.shopForExport(db, tenantId);
  // Written a batch at a time as chunks, never the whole file in memory; a retried job starts the file over.
  await repo.clearChunks(db, tenantId, jobId);
  let out = '';
  let seq = 0;
  const flush = async () => {
    if (out) await repo.insertChunk(db, { tenant_id: tenantId, job_id: jobId, seq: seq++, content: out });
    out = '';
  };
  let rows = 0;
  let after = '';
  if (p.kind === 'orders') {
    if (p.from && p.to) checkRange(p.from, p.to);
    const range = p.from && p.to ? { start: startOfLocalDay(p.from, shop.timezone).toISOString(), end: startOfLocalDay(addDays(p.to, 1), shop.timezone).toISOString() } : null;
    const total = await repo.countOrders(db, tenantId, range);
    out += csvRow(['number', 'id', 'created_at', 'status', 'email', 'currency', 'subtotal', 'discount_total', 'shipping_total', 'tax_total', 'total', 'amount_paid', 'amount_refunded', 'discount_code']);
    for (;;) {
      const batch = await repo.ordersBatch(db, tenantId, range, after, batchSize);
      if (batch.length === 0) break;
      for (const o of batch) {
        const m = (n: number) => major(Number(n), o.currency);
        out += csvRow([o.number, o.id, o.created_at, o.status, o.email, o.currency, m(o.subtotal), m(o.discount_total), m(o.shipping_total), m(o.tax_total), m(o.total), m(o.amount_paid), m(o.amount_refunded), o.discount_code]);
      }
      rows += batch.length;
      after = batch.at(-1)!.id;
      await flush();
      await progress(total ? (rows / total) * 100 : 100);
    }
  } else if (p.kind === 'customers') {
    const total = await repo.countCustomers(db, tenantId);
    out += csvRow(['id', 'email', 'first_name', 'last_name', 'status', 'has_account', 'created_at']);
    for (;;) {
      const batch = await repo.customersBatch(db, tenantId, after, batchSize);
      if (batch.length === 0) break;
      for (const c of batch) out += csvRow([c.id, c.email, c.first_name, c.last_name, c.status, c.password_hash !== null, c.created_at]);
      rows += batch.length;
      after = batch.at(-1)!.id;
      await flush();
      await progress(total ? (rows / total) * 100 : 100);
    }
  } else {
    const total = await repo.countVariants(db, tenantId);
    out += csvRow(['product_id', 'handle', 'product_title', 'status', 'variant_id', 'sku', 'variant_title', 'price', 'compare_at_price', 'weight_grams', 'available']);
    for (;;) {
      const batch = await repo.variantsBatch(db, tenantId, after, batchSize);
      if (batch.length === 0) break;
      const stock = await availableByVariant(db, tenantId, batch.map((v) => v.id));
      for (const v of batch) {
        out += csvRow([v.product_id, v.handle, v.product_title, v.status, v.id, v.sku, v.title, major(Number(v.price), shop.currency), v.compare_at_price === null ? '' : major(Number(v.compare_at_price), shop.currency), v.weight_grams, stock.get(v.id) ?? 0]);
      }
      rows += batch.length;
      after = batch.at(-1)!.id;
      await flush();
      await progress(total ? (rows / total) * 100 : 100);
    }
  }
  const filename = `${shop.slug}-${p.kind}-${clock.now().toISOString().slice(0, 10)}.csv`;
  const now = clock.now().toISOString();
  await flush();
  await repo.storeExport(db, { tenant_id: tenantId, job_id: jobId, kind: p.kind, filename, content: '', rows, created_at: now });
  return { rows, filename };
}

export async function exportFile(db: Db, tenantId: string, jobId: string) {
  return repo.exportFile(db, tenantId, jobId);
}

/** The CSV of a finished export as a stream of its chunks, read a few at a time (whatever the file's size). */
export async function* exportContent(db: Db, tenantId: string, jobId: string): AsyncGenerator<string> {
  const file = await repo.exportFile(db, tenantId, jobId);
  if (file?.content) yield file.content; // a file written whole, before exports were chunked
  let after = -1;
  for (;;) {
    const chunks = await repo.chunksAfter(db, tenantId, jobId, after, 8);
    if (chunks.length === 0) return;
    for (const c of chunks) yield c.content;
    after = (chunks.at(-1) as { seq: number }).seq;
  }
}
