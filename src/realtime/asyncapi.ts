import { ORDER_EVENT_TYPES } from '../modules/events/index.ts';
import { VERSION } from '../version.ts';
import { CLOSE } from './protocol.ts';

const obj = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({ type: 'object', properties, required });
const str = { type: 'string' };
const int = { type: 'integer' };
const id = { oneOf: [str, int], description: 'Echoed in the reply to this frame' };
const position = { type: 'integer', minimum: 0, description: 'The message’s place in its channel: 1, 2, 3 … with no gaps' };
const epoch = { type: ['string', 'null'], description: 'Names the channel’s history; null before its first message' };

/** A channel with history: its messages carry an epoch and a position, and a client resumes from them. */
const durable = (address: string, title: string, description: string, events: string[], params?: Record<string, unknown>) => ({
  address,
  title,
  description,
  ...(params ? { parameters: params } : {}),
  messages: { message: { $ref: '#/components/messages/ChannelMessage' }, reset: { $ref: '#/components/messages/Reset' } },
  'x-events': events,
  'x-history': true,
});
const live = (address: string, title: string, description: string, event: string) => ({
  address,
  title,
  description,
  messages: { message: { $ref: '#/components/messages/LiveMessage' } },
  'x-events': [event],
  'x-history': false,
});

const ORDER_EVENTS = [...ORDER_EVENT_TYPES];

/** The AsyncAPI 3.0 description of the realtime API (served at /api/asyncapi.json; docs/realtime.md explains it). */
export const ASYNCAPI = {
  asyncapi: '3.0.0',
  info: {
    title: 'Stockroom realtime',
    version: VERSION,
    description:
      'Live order feed, inventory, dashboard, order chat, presence and a customer’s own orders — over a WebSocket (`/api/realtime`) or Server-Sent Events (`/api/realtime/sse`). Frames are JSON objects with a `type`. Authenticate with the REST credentials (headers, or an `auth` frame first); subscribe to channels by name; channels with history resume exactly from the last position a client saw. Close codes: ' +
      Object.entries(CLOSE)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') +
      '.',
  },
  defaultContentType: 'application/json',
  servers: {
    websocket: { host: 'localhost:3000', pathname: '/api/realtime', protocol: 'ws', description: 'WebSocket (wss behind TLS)', security: [{ $ref: '#/components/securitySchemes/bearer' }, { $ref: '#/components/securitySchemes/publishableKey' }, { $ref: '#/components/securitySchemes/authFrame' }] },
    sse: { host: 'localhost:3000', pathname: '/api/realtime/sse', protocol: 'http', description: 'Server-Sent Events: GET with ?channel=… (repeatable); frames are events named by their type', security: [{ $ref: '#/components/securitySchemes/bearer' }, { $ref: '#/components/securitySchemes/publishableKey' }] },
  },
  channels: {
    orders: durable('orders', 'Order feed (staff, orders:read)', 'Every order event of the shop.', ORDER_EVENTS),
    inventory: durable('inventory', 'Inventory (staff, inventory:read)', 'Every stock change (`inventory.changed`: variant, location, delta, new level) and low-stock alert.', ['inventory.changed', 'inventory.low']),
    productAvailability: durable('products/{productId}/availability', 'A product’s availability (publishable key, customers, staff with catalog:read)', 'Each variant in stock or not, whenever its stock changes. Draft products are not found for the storefront.', ['product.availability'], {
      productId: { description: 'prod_…' },
    }),
    dashboard: live('dashboard', 'Live dashboard (staff, reports:read)', 'Today’s figures in the shop’s time zone, pushed on subscribe and then at most once a second when they change.', 'dashboard.updated'),
    orderMessages: durable('orders/{orderId}/messages', 'An order’s chat (staff with orders:read, the order’s customer)', 'Messages and read receipts. Send with `message.send`, mark read with `messages.read` (or over REST).', ['order.message_created', 'order.messages_read'], {
      orderId: { description: 'ord_…' },
    }),
    messages: durable('messages', 'New customer messages (staff, orders:read)', 'A customer wrote on an order (with the unread count), or staff read a chat.', ['order.message_created', 'order.messages_read']),
    presence: live('presence', 'Presence (staff, orders:read)', 'Which staff users are online and which order each is looking at (`presence.view`); shared by every node.', 'presence.updated'),
    imports: durable('imports', 'Imports (staff, imports:read)', 'Progress of the shop’s imports (at most once a second, with counts and percent), and their completion or failure.', ['import.progress', 'import.completed', 'import.failed']),
    myOrders: durable('me/orders', 'My orders (a logged-in customer)', 'Status changes of the customer’s own orders.', ORDER_EVENTS),
    control: { address: null, title: 'Control frames', description: 'Frames that belong to no channel.', messages: { auth: { $ref: '#/components/messages/Auth' }, subscribe: { $ref: '#/components/messages/Subscribe' }, unsubscribe: { $ref: '#/components/messages/Unsubscribe' }, send: { $ref: '#/components/messages/MessageSend' }, read: { $ref: '#/components/messages/MessagesRead' }, view: { $ref: '#/components/messages/PresenceView' }, ping: { $ref: '#/components/messages/Ping' }, welcome: { $ref: '#/components/messages/Welcome' }, subscribed: { $ref: '#/components/messages/Subscribed' }, reply: { $ref: '#/components/messages/Reply' }, error: { $ref: '#/components/messages/Error' }, reconnect: { $ref: '#/components/messages/Reconnect' } } },
  },
  operations: {
    receiveOrders: { action: 'receive', channel: { $ref: '#/channels/orders' } },
    receiveInventory: { action: 'receive', channel: { $ref: '#/channels/inventory' } },
    receiveAvailability: { action: 'receive', channel: { $ref: '#/channels/productAvailability' } },
    receiveDashboard: { action: 'receive', channel: { $ref: '#/channels/dashboard' } },
    receiveOrderMessages: { action: 'receive', channel: { $ref: '#/channels/orderMessages' } },
    receiveMessages: { action: 'receive', channel: { $ref: '#/channels/messages' } },
    receivePresence: { action: 'receive', channel: { $ref: '#/channels/presence' } },
    receiveMyOrders: { action: 'receive', channel: { $ref: '#/channels/myOrders' } },
    receiveImports: { action: 'receive', channel: { $ref: '#/channels/imports' } },
    sendControl: { action: 'send', channel: { $ref: '#/channels/control' }, messages: ['auth', 'subscribe', 'unsubscribe', 'send', 'read', 'view', 'ping'].map((m) => ({ $ref: `#/channels/control/messages/${m}` })) },
    receiveControl: { action: 'receive', channel: { $ref: '#/channels/control' }, messages: ['welcome', 'subscribed', 'reply', 'error', 'reconnect'].map((m) => ({ $ref: `#/channels/control/messages/${m}` })) },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'httpBearerToken', scheme: 'bearer', description: 'Authorization: Bearer <staff or customer access token, or secret key> on the upgrade / SSE request' },
      publishableKey: { type: 'httpApiKey', name: 'X-Publishable-Key', in: 'header', description: 'The shop’s publishable key (storefront channels)' },
      authFrame: { type: 'userPassword', description: 'Browsers: send `{"type":"auth","token":…}` (or `publishable_key`) as the first frame, within 10 s; send it again with a fresh token before the old one expires' },
    },
    messages: {
      ChannelMessage: { name: 'message', payload: obj({ type: { const: 'message' }, channel: str, epoch, position, event: str, data: { type: 'object' }, at: { type: 'string', format: 'date-time' } }) },
      LiveMessage: { name: 'message', payload: obj({ type: { const: 'message' }, channel: str, event: str, data: { type: 'object' } }) },
      Reset: { name: 'reset', summary: 'What you missed is gone (or your epoch is not the channel’s): refetch over REST, then continue from here', payload: obj({ type: { const: 'reset' }, channel: str, epoch, position, reason: { enum: ['epoch_changed', 'history_gone', 'too_far_behind', 'position_ahead'] } }) },
      Auth: { name: 'auth', payload: obj({ type: { const: 'auth' }, token: str, publishable_key: str }, ['type']) },
      Subscribe: { name: 'subscribe', payload: obj({ type: { const: 'subscribe' }, id, channel: str, since: obj({ epoch, position }) }, ['type', 'channel']) },
      Unsubscribe: { name: 'unsubscribe', payload: obj({ type: { const: 'unsubscribe' }, id, channel: str }, ['type', 'channel']) },
      MessageSend: { name: 'message.send', payload: obj({ type: { const: 'message.send' }, id, order_id: str, body: { type: 'string', minLength: 1, maxLength: 4000 } }, ['type', 'order_id', 'body']) },
      MessagesRead: { name: 'messages.read', payload: obj({ type: { const: 'messages.read' }, id, order_id: str, up_to: str }, ['type', 'order_id']) },
      PresenceView: { name: 'presence.view', payload: obj({ type: { const: 'presence.view' }, id, order_id: { type: ['string', 'null'] } }, ['type', 'order_id']) },
      Ping: { name: 'ping', payload: obj({ type: { const: 'ping' }, id }, ['type']) },
      Welcome: { name: 'welcome', payload: obj({ type: { const: 'welcome' }, connection_id: str, principal: obj({ kind: str, tenant_id: str, id: str }), heartbeat_seconds: int }) },
      Subscribed: { name: 'subscribed', payload: obj({ type: { const: 'subscribed' }, id, channel: str, epoch, position, recovered: { type: 'boolean' }, missed: int }, ['type', 'channel']) },
      Reply: { name: 'reply', payload: obj({ type: { const: 'reply' }, id, data: { type: 'object' } }) },
      Error: { name: 'error', summary: 'A refused frame; the same codes as REST problem+json', payload: obj({ type: { const: 'error' }, id, code: str, kind: str, detail: str }, ['type', 'code', 'kind', 'detail']) },
      Reconnect: { name: 'reconnect', summary: 'This node is shutting down: reconnect and resume (close code 1012 follows)', payload: obj({ type: { const: 'reconnect' }, reason: str }) },
    },
  },
} as const;
