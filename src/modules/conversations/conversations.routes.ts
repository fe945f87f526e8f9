import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { Body, IdParams, Page, PageQuery, PageOnlyQuery, Timestamp, pageRequest } from '../../http/schemas.ts';
import { principalKey } from '../../context.ts';
import { MAX_MESSAGE_LENGTH, getConversation, listConversations, listMessages, markRead, sendMessage } from './conversations.service.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const Author = Type.Union([Type.Literal('customer'), Type.Literal('staff')]);
const MessageSchema = Type.Object(
  { id: Type.String(), order_id: Type.String(), author_type: Author, author_id: Type.String(), body: Type.String(), created_at: Timestamp },
  { title: 'OrderMessage' },
);
const ConversationSchema = Type.Object(
  {
    order_id: Type.String(),
    customer_id: Type.Union([Type.String(), Type.Null()]),
    message_count: Type.Integer(),
    last_message_id: Type.Union([Type.String(), Type.Null()]),
    last_message_at: Type.Union([Timestamp, Type.Null()]),
    last_author: Type.Union([Author, Type.Null()]),
    staff_read_id: Type.Union([Type.String(), Type.Null()], { description: 'The last message staff have read (read receipt)' }),
    customer_read_id: Type.Union([Type.String(), Type.Null()], { description: 'The last message the customer has read' }),
    unread_for_staff: Type.Integer(),
    unread_for_customer: Type.Integer(),
  },
  { title: 'Conversation' },
);

/** An order's chat over REST: the same services (and policy) as the realtime `message.send` / `messages.read`. */
export const conversationsRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['conversations'];
  app.get(
    '/api/orders/:id/messages',
    { config: { access: access.staffOrCustomer('orders:read') }, schema: { tags, summary: 'An order’s chat messages, newest first', operationId: 'listOrderMessages', params: IdParams, querystring: PageOnlyQuery, response: { 200: Page(MessageSchema, 'OrderMessage') } } },
    async (req) => listMessages(deps.ctx(req), req.params.id, pageRequest(req.query)),
  );
  app.post(
    '/api/orders/:id/messages',
    {
      config: { access: access.staffOrCustomer('orders:write') },
      schema: { tags, summary: 'Write in an order’s chat (the order’s customer, or staff)', operationId: 'sendOrderMessage', params: IdParams, body: Body({ body: Type.String({ minLength: 1, maxLength: MAX_MESSAGE_LENGTH }) }, 'OrderMessageCreate', { body: 'Hello! When will my order ship?' }), response: { 201: MessageSchema } },
    },
    async (req, reply) => {
      await deps.limits.chat(`${'tenantId' in req.principal ? req.principal.tenantId : ''}:${principalKey(req.principal, req.ip)}`);
      return reply.code(201).send(await deps.tx(req, (ctx) => sendMessage(ctx, req.params.id, req.body.body)));
    },
  );
  app.post(
    '/api/orders/:id/messages/read',
    { config: { access: access.staffOrCustomer('orders:read') }, schema: { tags, summary: 'Mark the chat read by your side (up to a message, or all)', operationId: 'markOrderMessagesRead', params: IdParams, body: Body({ up_to: Type.Optional(Id) }, 'MarkRead'), response: { 200: ConversationSchema } } },
    async (req) => deps.tx(req, (ctx) => markRead(ctx, req.params.id, req.body.up_to)),
  );
  app.get(
    '/api/orders/:id/conversation',
    { config: { access: access.staffOrCustomer('orders:read') }, schema: { tags, summary: 'An order’s chat: counts, unread, read receipts', operationId: 'getConversation', params: IdParams, response: { 200: ConversationSchema } } },
    async (req) => getConversation(deps.ctx(req), req.params.id),
  );
  app.get(
    '/api/conversations',
    {
      config: { access: access.staff('orders:read') },
      schema: { tags, summary: 'The shop’s order chats, latest message first', operationId: 'listConversations', querystring: Type.Object({ ...PageQuery, unread: Type.Optional(Type.Boolean({ description: 'Only chats with customer messages staff have not read' })) }, { additionalProperties: false }), response: { 200: Page(ConversationSchema, 'Conversation') } },
    },
    async (req) => listConversations(deps.ctx(req), { ...pageRequest(req.query), unread: req.query.unread ?? false }),
  );
};
