import type { Ctx, Executor } from '../../context.ts';
import type { Clock } from '../../lib/clock.ts';
import { amountTooLarge, invalid, malformed } from '../../lib/errors.ts';
import { divRound } from '../../lib/money.ts';
import { addDays, daysBetween, isCalendarDate, localDate, startOfLocalDay } from '../../lib/timezones.ts';
import { reportsRepository as repo } from './reports.repository.ts';

export const MAX_REPORT_DAYS = 366;

export interface DayFigures {
  date: string;
  orders: number;
  revenue: number;
  tax: number;
  discounts: number;
  refunds: number;
  net: number;
  average_order_value: number;
}

export interface SalesReport {
  currency: string;
  timezone: string;
  from: string;
  to: string;
  days: DayFigures[];
  totals: Omit<DayFigures, 'date'> & { recovered_orders: number; recovered_revenue: number };
}

/** A date range in the shop's time zone, both ends included; reversed or longer than a year is a coded 422. */
export function checkRange(from: string, to: string, where: 'query' | 'body' = 'query'): void {
  const bad = ([['from', from], ['to', to]] as const).filter(([, d]) => !isCalendarDate(d));
  if (bad.length) throw malformed('invalid_date', `${bad.map(([, d]) => d).join(' and ')} ${bad.length > 1 ? 'are not dates' : 'is not a date'} of the calendar (YYYY-MM-DD)`, bad.map(([k]) => ({ pointer: `/${where}/${k}`, detail: 'no such day' })));
  if (to < from) throw invalid('invalid_report_range', 'The range is reversed: from is after to', [{ pointer: '/query/to', detail: 'before from' }]);
  if (daysBetween(from, to) + 1 > MAX_REPORT_DAYS) throw invalid('report_range_too_long', `A report covers at most ${MAX_REPORT_DAYS} days`, [{ pointer: '/query/to', detail: 'range too long' }]);
}

const empty = (date: string): DayFigures => ({ date, orders: 0, revenue: 0, tax: 0, discounts: 0, refunds: 0, net: 0, average_order_value: 0 });

/**
 * Sales per local day: orders placed (cancelled ones excluded), revenue (order totals), tax, discounts, refunds
 * (by the day they were made; not those of cancelled orders), net = revenue − refunds, and the average order value (rounded by the money rule).
 */
export async function salesReport(db: Executor, tenantId: string, shop: { currency: string; timezone: string }, from: string, to: string): Promise<SalesReport> {
  checkRange(from, to);
  const start = startOfLocalDay(from, shop.timezone).toISOString();
  const end = startOfLocalDay(addDays(to, 1), shop.timezone).toISOString();
  const days = new Map<string, DayFigures>();
  for (let d = from; d <= to; d = addDays(d, 1)) days.set(d, empty(d));
  const orders = await repo.ordersBetween(db, tenantId, start, end);
  // Recovered: ordered from a cart after its abandoned-cart reminder went out.
  let recoveredOrders = 0;
  let recoveredRevenue = 0;
  for (const o of orders) {
    if (o.reminded_at && o.reminded_at <= o.created_at) {
      recoveredOrders++;
      recoveredRevenue += Number(o.total);
    }
    const day = days.get(localDate(new Date(o.created_at), shop.timezone));
    if (!day) continue;
    day.orders++;
    day.revenue += Number(o.total);
    day.tax += Number(o.tax_total);
    day.discounts += Number(o.discount_total);
  }
  // Refunds of cancelled orders are left out: those orders are not in the revenue either.
  const refunds = await repo.refundsBetween(db, tenantId, start, end);
  for (const r of refunds) {
    const day = days.get(localDate(new Date(r.created_at), shop.timezone));
    if (day) day.refunds += Number(r.amount);
  }
  const list = [...days.values()].map((d) => ({ ...d, net: d.revenue - d.refunds, average_order_value: d.orders ? divRound(d.revenue, d.orders) : 0 }));
  const sum = (k: 'orders' | 'revenue' | 'tax' | 'discounts' | 'refunds') => list.reduce((a, d) => a + d[k], 0);
  const totals = { orders: sum('orders'), revenue: sum('revenue'), tax: sum('tax'), discounts: sum('discounts'), refunds: sum('refunds'), net: sum('revenue') - sum('refunds'), average_order_value: sum('orders') ? divRound(sum('revenue'), sum('orders')) : 0, recovered_orders: recoveredOrders, recovered_revenue: recoveredRevenue };
  exactOrRefuse([...list.flatMap((d) => [d.revenue, d.tax, d.discounts, d.refunds, d.net]), totals.revenue, totals.tax, totals.discounts, totals.refunds, totals.net]);
  return { currency: shop.currency, timezone: shop.timezone, from, to, days: list, totals };
}

export async function topProducts(db: Executor, tenantId: string, timezone: string, from: string, to: string, limit: number) {
  checkRange(from, to);
  const rows = await repo.topProducts(db, tenantId, startOfLocalDay(from, timezone).toISOString(), startOfLocalDay(addDays(to, 1), timezone).toISOString(), limit);
  const out = rows.map((r) => ({ product_id: r.product_id, variant_id: r.variant_id, sku: r.sku, title: r.title, quantity: Number(r.quantity), revenue: Number(r.revenue), orders: Number(r.orders) }));
  exactOrRefuse(out.map((r) => r.revenue));
  return out;
}

/** Variants at or below their low-stock threshold, fewest first; a page of the cursor list (no silent cap). */
export async function lowStock(db: Executor, tenantId: string, opts: { limit: number; cursor?: string | undefined }) {
  const after = opts.cursor ? decodeLowStockCursor(opts.cursor) : null;
  const rows = await repo.lowStock(db, tenantId, opts.limit + 1, after);
  const page = rows.slice(0, opts.limit).map((r) => ({ variant_id: r.id, sku: r.sku, title: r.title === 'Default' ? r.product_title : `${r.product_title} — ${r.title}`, available: Number(r.available), threshold: r.low_stock_threshold }));
  const last = page.at(-1);
  const hasMore = rows.length > opts.limit;
  return { data: page, has_more: hasMore, next_cursor: hasMore && last ? Buffer.from(JSON.stringify([last.available, last.sku])).toString('base64url') : null };
}

function decodeLowStockCursor(cursor: string): { available: number; sku: string } {
  try {
    const [available, sku] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof available === 'number' && typeof sku === 'string') return { available, sku };
  } catch {
    // fall through
  }
  throw malformed('invalid_cursor', 'The cursor is not one this list gave out', [{ pointer: '/query/cursor', detail: 'invalid' }]);
}

/** The nightly job: yesterday (in each shop's time zone) for every active shop, stored once per date. */
export async function computeDailyReports(db: Executor, clock: Clock): Promise<number> {
  const shops = await repo.activeShops(db);
  let n = 0;
  for (const s of shops) {
    const yesterday = addDays(localDate(clock.now(), s.timezone), -1);
    const report = await salesReport(db, s.id, s, yesterday, yesterday);
    const data = JSON.stringify(report.days[0]);
    n += (await repo.storeDaily(db, s.id, yesterday, data, clock.now().toISOString())) ? 1 : 0;
  }
  return n;
}

export async function storedDailyReports(ctx: Ctx, from: string, to: string): Promise<DayFigures[]> {
  checkRange(from, to);
  const rows = await repo.daily(ctx.db, ctx.tenantId, from, to);
  return rows.map((r) => JSON.parse(r.data) as DayFigures);
}

/** A report sums many orders: past 2^53 a sum is no longer exact, and we refuse rather than round. */
function exactOrRefuse(amounts: number[]): void {
  if (!amounts.every(Number.isSafeInteger)) throw amountTooLarge([{ pointer: '/query/from', detail: 'the sums of this range pass the exact integer range; ask for a shorter range' }]);
}
