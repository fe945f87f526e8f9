import type { Executor } from '../../context.ts';
import type { Clock } from '../../lib/clock.ts';
import { localDate } from '../../lib/timezones.ts';
import { minuteOf } from './consumer.ts';
import { realtimeRepository as repo } from './realtime.repository.ts';

/** A durable channel message as clients receive it. */
export interface ChannelMessage {
  tenantId: string;
  /** The channel's key (where its history is kept). */
  key: string;
  epoch: string;
  position: number;
  type: string;
  data: Record<string, unknown>;
  at: string;
}

/** The most messages one resume replays; a client further behind is told to refetch. */
export const MAX_RECOVER = 1000;

export type Recovery =
  | { ok: true; epoch: string | null; position: number; messages: ChannelMessage[] }
  | { ok: false; epoch: string | null; position: number; reason: 'epoch_changed' | 'history_gone' | 'too_far_behind' | 'position_ahead' };

/** Where a channel stands: its epoch (null before its first message) and its last position. */
export async function channelHead(db: Executor, tenantId: string, key: string): Promise<{ epoch: string | null; position: number }> {
  const h = await repo.channel(db, tenantId, key);
  return h ? { epoch: h.epoch, position: Number(h.position) } : { epoch: null, position: 0 };
}

/**
 * What a client that last saw `since` missed: exactly the messages after it, in order — or, when its epoch is not
 * the channel's, or the gap is older than the history kept (or longer than MAX_RECOVER), a refusal that tells it
 * to refetch the state over REST and continue from the channel's head.
 */
export async function recover(db: Executor, tenantId: string, key: string, since: { epoch: string | null; position: number }): Promise<Recovery> {
  const head = await channelHead(db, tenantId, key);
  // A client that has seen nothing yet (position 0, no epoch) may start from the beginning of any epoch.
  const sameHistory = since.epoch === head.epoch || (since.position === 0 && since.epoch === null);
  if (!sameHistory) return { ok: false, ...head, reason: 'epoch_changed' };
  if (since.position > head.position) return { ok: false, ...head, reason: 'position_ahead' };
  if (head.position - since.position > MAX_RECOVER) return { ok: false, ...head, reason: 'too_far_behind' };
  const messages = await messagesAfter(db, tenantId, key, head.epoch, since.position, head.position);
  if (head.position > since.position && messages[0]?.position !== since.position + 1) return { ok: false, ...head, reason: 'history_gone' };
  return { ok: true, ...head, messages };
}

/** The messages of a channel in (after, upTo], in order (a node filling a gap it noticed). */
export async function messagesAfter(db: Executor, tenantId: string, key: string, epoch: string | null, after: number, upTo: number): Promise<ChannelMessage[]> {
  if (upTo <= after || epoch === null) return [];
  const rows = await repo.after(db, tenantId, key, after, Math.min(upTo - after, MAX_RECOVER));
  return rows.filter((r) => Number(r.position) <= upTo).map((r) => ({ tenantId, key, epoch, position: Number(r.position), type: r.type, data: JSON.parse(r.data) as Record<string, unknown>, at: r.created_at }));
}

/** Several channels' heads at once (a node checking it missed nothing). */
export async function channelHeads(db: Executor, tenantId: string, keys: readonly string[]): Promise<Map<string, { epoch: string; position: number }>> {
  const rows = await repo.heads(db, tenantId, keys);
  return new Map(rows.map((r) => [r.channel, { epoch: r.epoch, position: Number(r.position) }]));
}

/** The messages some committed events became: what the outbox publisher relays to the nodes once it committed. */
export async function messagesOfEvents(db: Executor, events: readonly { tenant_id: string; id: string }[]): Promise<ChannelMessage[]> {
  const rows = await repo.messagesOfEvents(db, events);
  return rows.map((r) => ({ tenantId: r.tenant_id, key: r.channel, epoch: r.epoch, position: Number(r.position), type: r.type, data: JSON.parse(r.data) as Record<string, unknown>, at: r.created_at }));
}

/** Drops channel history older than the hours kept, and the dashboard's per-minute rows older than two hours. */
export async function pruneRealtime(db: Executor, clock: Clock, historyHours: number): Promise<{ messages: number; minutes: number }> {
  const now = clock.now().getTime();
  const messages = await repo.prune(db, new Date(now - historyHours * 3_600_000).toISOString());
  const minutes = await repo.pruneMinutes(db, minuteOf(new Date(now - 2 * 3_600_000)));
  return { messages, minutes };
}

export interface Dashboard {
  /** The shop's local date the figures are of. */
  day: string;
  currency: string;
  orders: number;
  gross_sales: number;
  refunds: number;
  net_sales: number;
  /** gross_sales / orders, rounded down (0 without orders). */
  average_order_value: number;
  /** Orders placed in the last full minute and in the minute so far. */
  orders_last_minute: number;
  /** Orders per minute over the last hour, oldest first: [{ minute, orders, sales }] (minutes without orders left out). */
  per_minute: { minute: string; orders: number; sales: number }[];
  top_products: { product_id: string; title: string; quantity: number; revenue: number }[];
  low_stock: { variant_id: string; product_id: string; sku: string; available: number; threshold: number }[];
  at: string;
}

/** Today's figures of a shop: read from the counters the realtime consumer keeps, a handful of indexed reads. */
export async function dashboardOf(db: Executor, clock: Clock, tenantId: string): Promise<Dashboard | null> {
  const shop = await repo.shopOf(db, tenantId);
  if (!shop) return null;
  const now = clock.now();
  const day = localDate(now, shop.timezone);
  const [d, top, minutes, low] = await Promise.all([
    repo.day(db, tenantId, day),
    repo.topProducts(db, tenantId, day, 5),
    repo.minutesSince(db, tenantId, minuteOf(new Date(now.getTime() - 60 * 60_000))),
    repo.lowStock(db, tenantId, 10),
  ]);
  const orders = Number(d?.orders ?? 0);
  const gross = Number(d?.gross_sales ?? 0);
  const refunds = Number(d?.refunds ?? 0);
  const lastMinute = minuteOf(new Date(now.getTime() - 60_000));
  return {
    day,
    currency: d?.currency ?? shop.currency,
    orders,
    gross_sales: gross,
    refunds,
    net_sales: gross - refunds,
    average_order_value: orders > 0 ? Math.floor(gross / orders) : 0,
    orders_last_minute: minutes.filter((m) => m.minute >= lastMinute).reduce((a, m) => a + Number(m.orders), 0),
    per_minute: minutes.map((m) => ({ minute: m.minute, orders: Number(m.orders), sales: Number(m.sales) })),
    top_products: top.map((t) => ({ product_id: t.product_id, title: t.title, quantity: Number(t.quantity), revenue: Number(t.revenue) })),
    low_stock: low.map((l) => ({ variant_id: l.variant_id, product_id: l.product_id, sku: l.sku, available: Number(l.available), threshold: Number(l.low_stock_threshold) })),
    at: now.toISOString(),
  };
}
