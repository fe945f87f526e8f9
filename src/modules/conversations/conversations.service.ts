import type { Ctx } from '../../context.ts';
import { actorOf } from '../../context.ts';
import type { ConversationsTable, OrderMessagesTable } from '../../db/schema.ts';
import { conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, encodeCursor, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { access, authorizeAccess } from '../../policy/index.ts';
import { emitEvent } from '../events/index.ts';
import { loadOrder } from '../orders/index.ts';
import { conversationsRepository as repo } from './conversations.repository.ts';

/** A message is at most this long (characters), and an order's chat holds at most this many. */
export const MAX_MESSAGE_LENGTH = 4000;
export const MAX_MESSAGES_PER_ORDER = 10_000;

export interface OrderMessage {
  id: string;
  order_id: string;
  author_type: 'customer' | 'staff';
  author_id: string;
  body: string;
  created_at: string;
}

export interface Conversation {
  order_id: string;
  customer_id: string | null;
  message_count: number;
  last_message_id: string | null;
  last_message_at: string | null;
  last_author: 'customer' | 'staff' | null;
  /** The last message each side has read (read receipts). */
  staff_read_id: string | null;
  customer_read_id: string | null;
  unread_for_staff: number;
  unread_for_customer: number;
}

const toMessage = (r: OrderMessagesTable): OrderMessage => ({ id: r.id, order_id: r.order_id, author_type: r.author_type, author_id: r.author_id, body: r.body, created_at: r.created_at });
const toConversation = (r: ConversationsTable): Conversation => ({
  order_id: r.order_id,
  customer_id: r.customer_id,
  message_count: Number(r.message_count),
  last_message_id: r.last_message_id,
  last_message_at: r.last_message_at,
  last_author: r.last_author,
  staff_read_id: r.staff_read_id,
  customer_read_id: r.customer_read_id,
  unread_for_staff: Number(r.unread_for_staff),
  unread_for_customer: Number(r.unread_for_customer),
});
const empty = (orderId: string, customerId: string | null): Conversation => ({
  order_id: orderId,
  customer_id: customerId,
  message_count: 0,
  last_message_id: null,
  last_message_at: null,
  last_author: null,
  staff_read_id: null,
  customer_read_id: null,
  unread_for_staff: 0,
  unread_for_customer: 0,
});

/** Staff with the permission, or the order's own customer (loadOrder hides other customers' orders). */
const READ = access.staffOrCustomer('orders:read');
const WRITE = access.staffOrCustomer('orders:write');
const partyOf = (ctx: Ctx): 'customer' | 'staff' => (ctx.principal.kind === 'customer' ? 'customer' : 'staff');

/** An order's messages, newest first. */
export async function listMessages(ctx: Ctx, orderId: string, page: PageRequest): Promise<Page<OrderMessage>> {
  authorizeAccess(ctx.principal, READ);
  await loadOrder(ctx, orderId);
  const p = toPage(await repo.messages(ctx.db, ctx.tenantId, orderId, page.limit, decodeCursor(page.cursor)), page.limit);
  return { ...p, data: p.data.map(toMessage) };
}

export async function getConversation(ctx: Ctx, orderId: string): Promise<Conversation> {
  authorizeAccess(ctx.principal, READ);
  const order = await loadOrder(ctx, orderId);
  const c = await repo.find(ctx.db, ctx.tenantId, orderId);
  return c ? toConversation(c) : empty(orderId, order.customer_id);
}

/**
 * Writes a message to an order's chat — the customer who placed the order, or staff — and announces it
 * (`order.message_created`: the order's chat channel, staff's new-message feed, webhooks).
 */
export async function sendMessage(ctx: Ctx, orderId: string, body: string): Promise<OrderMessage> {
  authorizeAccess(ctx.principal, WRITE);
  const text = body.trim();
  if (text.length === 0 || text.length > MAX_MESSAGE_LENGTH) throw invalid('invalid_message', `A message has 1 to ${MAX_MESSAGE_LENGTH} characters`, [{ pointer: '/body', detail: `1–${MAX_MESSAGE_LENGTH} characters` }]);
  const order = await loadOrder(ctx, orderId);
  const before = await repo.find(ctx.db, ctx.tenantId, orderId);
  if (before && Number(before.message_count) >= MAX_MESSAGES_PER_ORDER) throw conflict('too_many_messages', `An order's chat holds at most ${MAX_MESSAGES_PER_ORDER} messages`);
  const row: OrderMessagesTable = { tenant_id: ctx.tenantId, id: newId('orderMessage'), order_id: orderId, author_type: partyOf(ctx), author_id: actorOf(ctx.principal), body: text, created_at: ctx.clock.now().toISOString() };
  const c = await repo.addMessage(ctx.db, row, order.customer_id);
  await repo.insertMessage(ctx.db, row);
  await emitEvent(ctx.db, ctx.tenantId, 'order.message_created', orderId, { order_id: orderId, message_id: row.id, author_type: row.author_type, author_id: row.author_id, body: row.body, created_at: row.created_at, customer_id: order.customer_id, unread_for_staff: Number(c.unread_for_staff), unread_for_customer: Number(c.unread_for_customer) }, row.created_at);
  return toMessage(row);
}

/**
 * Marks the chat read by the caller's side up to a message (the latest when none is named): the read receipt the
 * other side sees, and the caller's unread count recomputed. Reading never moves the receipt backwards.
 */
export async function markRead(ctx: Ctx, orderId: string, upTo?: string | undefined): Promise<Conversation> {
  authorizeAccess(ctx.principal, READ);
  const order = await loadOrder(ctx, orderId);
  const c = await repo.find(ctx.db, ctx.tenantId, orderId);
  if (!c) {
    if (upTo) throw notFound('Message');
    return empty(orderId, order.customer_id);
  }
  if (upTo && !(await repo.findMessage(ctx.db, ctx.tenantId, orderId, upTo))) throw notFound('Message');
  const party = partyOf(ctx);
  const current = party === 'staff' ? c.staff_read_id : c.customer_read_id;
  const target = upTo ?? c.last_message_id;
  const next = current && current > target ? current : target;
  const unread = await repo.countAfter(ctx.db, ctx.tenantId, orderId, party === 'staff' ? 'customer' : 'staff', next);
  if (next === current && unread === Number(party === 'staff' ? c.unread_for_staff : c.unread_for_customer)) return toConversation(c);
  const updated = await repo.markRead(ctx.db, ctx.tenantId, orderId, party, next, unread);
  const at = ctx.clock.now().toISOString();
  await emitEvent(ctx.db, ctx.tenantId, 'order.messages_read', orderId, { order_id: orderId, party, reader_id: actorOf(ctx.principal), up_to: next, read_at: at, customer_id: order.customer_id, unread }, at);
  return toConversation(updated);
}

/** The shop's order chats, most recent message first (staff): with `unread`, only those awaiting an answer. */
export async function listConversations(ctx: Ctx, opts: PageRequest & { unread: boolean }): Promise<Page<Conversation>> {
  authorizeAccess(ctx.principal, access.staff('orders:read'));
  const rows = await repo.list(ctx.db, ctx.tenantId, { unread: opts.unread, limit: opts.limit, before: decodeCursor(opts.cursor) });
  const has_more = rows.length > opts.limit;
  const data = (has_more ? rows.slice(0, opts.limit) : rows).map(toConversation);
  const last = data.at(-1);
  return { data, has_more, next_cursor: has_more && last?.last_message_id ? encodeCursor(last.last_message_id) : null };
}
