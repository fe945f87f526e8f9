import type { Executor } from '../../context.ts';
import { localDate } from '../../lib/timezones.ts';
import { ORDER_EVENT_TYPES, type EventConsumer, type OutboxEvent } from '../events/index.ts';
import { customerOrdersKey } from './channels.ts';
import { realtimeRepository as repo } from './realtime.repository.ts';

const ORDER_EVENTS = ORDER_EVENT_TYPES;
const TYPES = [...ORDER_EVENTS, 'inventory.changed', 'inventory.low', 'order.message_created', 'order.messages_read', 'import.progress', 'import.completed', 'import.failed'] as const;

interface Out {
  key: string;
  type: string;
  data: Record<string, unknown>;
}

/**
 * Realtime as an event consumer: each committed event becomes messages in the channels it concerns, written in the
 * outbox publisher's transaction with the next position of each channel — so nothing that rolled back is ever
 * announced, and a client that missed messages reads exactly those from the history. The live dashboard's figures
 * move with the same events. Idempotent per event: an event already in a channel is skipped whole.
 */
export const realtimeConsumer: EventConsumer = {
  name: 'realtime',
  types: TYPES,
  async handle(db, clock, e) {
    if (await repo.consumed(db, e.tenant_id, e.id)) return;
    const payload = JSON.parse(e.payload) as Record<string, unknown>;
    const out = await messagesOf(db, e, payload);
    await dashboard(db, e, payload);
    const at = clock.now().toISOString();
    for (const m of out) {
      const { position } = await repo.nextPosition(db, e.tenant_id, m.key, at);
      await repo.insertMessage(db, { tenant_id: e.tenant_id, channel: m.key, position, event_id: e.id, type: m.type, data: JSON.stringify(m.data), created_at: e.created_at });
    }
  },
};

async function messagesOf(db: Executor, e: OutboxEvent, p: Record<string, unknown>): Promise<Out[]> {
  const data = { ...p, event_id: e.id, at: e.created_at };
  if ((ORDER_EVENTS as readonly string[]).includes(e.type)) {
    const out: Out[] = [{ key: 'orders', type: e.type, data }];
    const customerId = 'customer_id' in p ? (p.customer_id as string | null) : ((await repo.orderCustomer(db, e.tenant_id, String(p.order_id)))?.customer_id ?? null);
    if (customerId) out.push({ key: customerOrdersKey(customerId), type: e.type, data: { order_id: p.order_id, number: p.number, status: p.status, total: p.total, currency: p.currency, at: e.created_at } });
    return out;
  }
  switch (e.type) {
    case 'import.progress':
    case 'import.completed':
    case 'import.failed':
      return [{ key: 'imports', type: e.type, data }];
    case 'inventory.low':
      return [{ key: 'inventory', type: e.type, data }];
    case 'inventory.changed': {
      const changes = (p.changes ?? []) as { variant_id: string }[];
      const variants = await repo.stockByVariant(db, e.tenant_id, { variantIds: [...new Set(changes.map((c) => c.variant_id))] });
      const products = [...new Set(variants.map((v) => v.product_id))];
      const all = await repo.stockByVariant(db, e.tenant_id, { productIds: products });
      return [
        { key: 'inventory', type: e.type, data },
        // The storefront sees in stock or not, never the count (as in the REST catalogue).
        ...products.map((id) => ({
          key: `products/${id}/availability`,
          type: 'product.availability',
          data: { product_id: id, variants: all.filter((v) => v.product_id === id).map((v) => ({ variant_id: v.variant_id, in_stock: Number(v.available) > 0 })), at: e.created_at },
        })),
      ];
    }
    case 'order.message_created': {
      const out: Out[] = [{ key: `orders/${String(p.order_id)}/messages`, type: e.type, data }];
      if (p.author_type === 'customer') out.push({ key: 'messages', type: e.type, data: { order_id: p.order_id, message_id: p.message_id, author_type: p.author_type, unread_for_staff: p.unread_for_staff, at: e.created_at } });
      return out;
    }
    case 'order.messages_read': {
      const out: Out[] = [{ key: `orders/${String(p.order_id)}/messages`, type: e.type, data }];
      if (p.party === 'staff') out.push({ key: 'messages', type: e.type, data: { order_id: p.order_id, unread_for_staff: 0, at: e.created_at } });
      return out;
    }
    default:
      return [];
  }
}

/** The dashboard's figures: orders and gross sales of the shop's day, per minute, per product; refunds. */
async function dashboard(db: Executor, e: OutboxEvent, p: Record<string, unknown>): Promise<void> {
  if (e.type !== 'order.created' && e.type !== 'order.refunded' && e.type !== 'order.partially_refunded') return;
  const shop = await repo.shopOf(db, e.tenant_id);
  if (!shop) return;
  const at = new Date(e.created_at);
  const day = localDate(at, shop.timezone);
  const currency = String(p.currency ?? shop.currency);
  if (e.type === 'order.created') {
    const total = Number(p.total ?? 0);
    await repo.addOrderToDay(db, e.tenant_id, day, currency, total, e.created_at);
    await repo.addOrderToMinute(db, e.tenant_id, minuteOf(at), total);
    const lines = await repo.orderLinesForDashboard(db, e.tenant_id, String(p.order_id));
    for (const l of lines) await repo.addProductSale(db, e.tenant_id, day, l.product_id, l.product_title ?? l.line_title, l.quantity, Number(l.total));
    return;
  }
  await repo.addRefundToDay(db, e.tenant_id, day, currency, Number(p.amount ?? 0), e.created_at);
}

/** `YYYY-MM-DDTHH:MM` in UTC. */
export const minuteOf = (d: Date) => d.toISOString().slice(0, 16);
