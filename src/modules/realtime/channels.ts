import type { Ctx } from '../../context.ts';
import { invalid, notFound } from '../../lib/errors.ts';
import { CHANNEL_ACCESS, authorizeAccess } from '../../policy/index.ts';
import { getProduct } from '../catalog/index.ts';
import { loadOrder } from '../orders/index.ts';

/**
 * The channels a client may subscribe to, by name. The shop is the caller's own: a name never names a tenant, so
 * no name can reach another shop's data. `key` is where the channel's history is kept.
 *
 *   orders                        staff: the order feed (created, paid, fulfilled, refunded, cancelled …)
 *   inventory                     staff: every stock level change, every low-stock alert
 *   products/{id}/availability    storefront and staff: a product's variants, in stock or not
 *   dashboard                     staff: today's figures, pushed at most once a second (no history)
 *   orders/{id}/messages          staff and the order's customer: the order's chat and read receipts
 *   messages                      staff: new customer messages and unread counts, across orders
 *   presence                      staff: who is online and which order each is looking at (no history)
 *   me/orders                     a customer: their own orders' status changes
 *   imports                       staff: imports' progress, completion and failure
 */
export type ChannelKind = keyof typeof CHANNEL_ACCESS;

export interface Channel {
  /** The name the client used. */
  name: string;
  kind: ChannelKind;
  /** Where its history is kept; null for channels without history (dashboard, presence). */
  key: string | null;
  orderId?: string;
  productId?: string;
}

const ID = '[a-z]+_[0-9a-z]{26}';
const PATTERNS: [RegExp, (m: RegExpExecArray, ctx: Ctx) => Omit<Channel, 'name'>][] = [
  [/^orders$/, () => ({ kind: 'orders', key: 'orders' })],
  [/^inventory$/, () => ({ kind: 'inventory', key: 'inventory' })],
  [new RegExp(`^products/(${ID})/availability$`), (m) => ({ kind: 'product_availability', key: `products/${m[1]}/availability`, productId: m[1] as string })],
  [/^dashboard$/, () => ({ kind: 'dashboard', key: null })],
  [new RegExp(`^orders/(${ID})/messages$`), (m) => ({ kind: 'order_messages', key: `orders/${m[1]}/messages`, orderId: m[1] as string })],
  [/^messages$/, () => ({ kind: 'messages', key: 'messages' })],
  [/^presence$/, () => ({ kind: 'presence', key: null })],
  [/^imports$/, () => ({ kind: 'imports', key: 'imports' })],
  [/^me\/orders$/, (_m, ctx) => ({ kind: 'my_orders', key: ctx.principal.kind === 'customer' ? `customers/${ctx.principal.customerId}/orders` : null })],
];

export function parseChannel(ctx: Ctx, name: string): Channel {
  if (name.length <= 120) {
    for (const [re, make] of PATTERNS) {
      const m = re.exec(name);
      if (m) return { name, ...make(m, ctx) };
    }
  }
  throw invalid('unknown_channel', `No channel is named ${JSON.stringify(name.slice(0, 120))}`, [{ pointer: '/channel', detail: 'see docs/realtime.md for the channels' }]);
}

/**
 * Whether the caller may listen: the channel's declared access (the same policy as REST), then the data rule —
 * an order's chat for staff and its own customer, a product while the storefront may see it. Refusals are the
 * same as REST's: another shop's or another customer's order is not found.
 */
export async function authorizeChannel(ctx: Ctx, channel: Channel): Promise<void> {
  authorizeAccess(ctx.principal, CHANNEL_ACCESS[channel.kind]);
  if (channel.orderId) await loadOrder(ctx, channel.orderId);
  if (channel.productId) await getProduct(ctx, channel.productId);
  if (channel.kind === 'my_orders' && !channel.key) throw notFound('Channel');
}

/** Channel names of the internal keys, for the customers' own-order channel. */
export const customerOrdersKey = (customerId: string) => `customers/${customerId}/orders`;
