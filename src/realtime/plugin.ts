import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { WebSocket } from 'ws';
import type { Deps } from '../deps.ts';
import { access } from '../http/access.ts';
import { sendProblem } from '../http/errors.ts';
import { problemResponse } from '../http/problem.ts';
import { AppError, malformed } from '../lib/errors.ts';
import { ASYNCAPI } from './asyncapi.ts';
import { Connection, type Credentials, type Wire } from './connection.ts';
import type { RealtimeHub } from './hub.ts';
import { CLOSE } from './protocol.ts';

function headerCredentials(req: FastifyRequest): Credentials {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  const pk = req.headers['x-publishable-key'];
  return { token: m ? (m[1] as string) : null, publishableKey: typeof pk === 'string' ? pk.trim() || null : null };
}

/** SSE resume positions: `Last-Event-ID` (what EventSource sends back by itself) or `?since=`, the same encoding. */
export function encodePositions(p: Record<string, { epoch: string | null; position: number }>): string {
  return Buffer.from(JSON.stringify(p)).toString('base64url');
}

function decodePositions(s: string): Record<string, { epoch: string | null; position: number }> {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, { epoch?: unknown; position?: unknown }>;
    const out: Record<string, { epoch: string | null; position: number }> = {};
    for (const [k, x] of Object.entries(v)) {
      if (!x || (x.epoch !== null && typeof x.epoch !== 'string') || !Number.isSafeInteger(x.position) || (x.position as number) < 0) throw new Error('bad');
      out[k] = { epoch: x.epoch as string | null, position: x.position as number };
    }
    return out;
  } catch {
    throw malformed('invalid_since', 'since / Last-Event-ID is not one this API sent', [{ pointer: '/query/since', detail: 'malformed positions' }]);
  }
}

/**
 * The realtime transport: `GET /api/realtime` upgraded to a WebSocket, the same channels as Server-Sent Events at
 * `GET /api/realtime/sse`, and the AsyncAPI document. Credentials come in headers, or — for browsers, which cannot
 * set headers on a WebSocket — in the first frame; never in the URL.
 */
export async function registerRealtime(app: FastifyInstance, deps: Deps, hub: RealtimeHub): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: deps.config.realtime.maxMessageBytes },
    preClose: async function (this: FastifyInstance) {
      await hub.stop();
      await new Promise<void>((resolve) => this.websocketServer.close(() => resolve()));
    },
  });
  const tags = ['realtime'];

  app.route({
    method: 'GET',
    url: '/api/realtime',
    config: { access: access.public() },
    schema: {
      tags,
      summary: 'Realtime over WebSocket (upgrade); see /api/asyncapi.json',
      description: 'Open a WebSocket here. Authenticate with the Authorization / X-Publishable-Key headers, or (browsers) with an `auth` frame within 10 s; then `subscribe` to channels. A plain GET answers 426.',
      operationId: 'realtimeWebSocket',
      response: { 101: { description: 'Switching Protocols: the WebSocket is open', type: 'null' }, 426: problemResponse('Not a WebSocket upgrade') },
    },
    handler: async (_req, reply) => sendProblem(reply, 426, 'upgrade_required', 'This endpoint speaks WebSocket (Upgrade: websocket); or use /api/realtime/sse', { headers: { upgrade: 'websocket' } }),
    wsHandler: (socket: WebSocket, req: FastifyRequest) => {
      if (!hub.acceptIp(req.ip)) {
        socket.close(CLOSE.rateLimited, 'too_many_connections');
        return;
      }
      let alive = true;
      socket.on('pong', () => (alive = true));
      const wire: Wire = {
        kind: 'websocket',
        send: (text) => socket.send(text),
        close: (code, reason) => {
          if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, reason);
          else socket.terminate();
        },
        buffered: () => socket.bufferedAmount,
        heartbeat: () => {
          if (!alive) {
            socket.terminate();
            return false;
          }
          alive = false;
          socket.ping();
          return true;
        },
      };
      const conn = new Connection(hub, wire, req.ip, req.log);
      socket.on('message', (data, isBinary) => {
        if (isBinary) return conn.close(CLOSE.badMessage, 'bad_message');
        void conn.receive(String(data));
      });
      socket.on('close', () => conn.close(CLOSE.normal, 'client_closed'));
      socket.on('error', () => conn.close(CLOSE.internal, 'socket_error'));
      conn.open(headerCredentials(req));
    },
  });

  app.get(
    '/api/realtime/sse',
    {
      config: { access: access.anyTenant() },
      schema: {
        tags,
        summary: 'Realtime over Server-Sent Events: the same channels, frames as events',
        description:
          'Each frame is an SSE event named by its type (`subscribed`, `message`, `reset`, `error`, `close`, `ping`); a `message` of a channel with history carries an `id` that resumes every subscribed channel (EventSource sends it back as Last-Event-ID). Credentials in headers only.',
        operationId: 'realtimeSse',
        querystring: Type.Object(
          {
            channel: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 20, description: 'Channels to subscribe to (repeat the parameter)' }),
            since: Type.Optional(Type.String({ maxLength: 8192, description: 'Positions to resume from (the id of the last event received)' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: { description: 'An event stream (text/event-stream) that stays open', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
      },
    },
    async (req, reply) => {
      const q = req.query as { channel: string[]; since?: string };
      const last = req.headers['last-event-id'];
      const positions = typeof last === 'string' && last ? decodePositions(last) : q.since ? decodePositions(q.since) : {};
      if (!hub.acceptIp(req.ip)) throw new AppError('rate_limited', 'too_many_connections', 'Too many realtime connections from this address', { retryAfterSeconds: 5 });
      const raw = reply.raw;
      const seen: Record<string, { epoch: string | null; position: number }> = { ...positions };
      let open = true;
      const write = (event: string, data: string, id?: string) => {
        if (!open) return;
        raw.write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${data}\n\n`);
      };
      const wire: Wire = {
        kind: 'sse',
        send: (text) => {
          const f = JSON.parse(text) as { type: string; channel?: string; epoch?: string | null; position?: number };
          if (f.type === 'message' && f.channel && typeof f.position === 'number') {
            seen[f.channel] = { epoch: f.epoch ?? null, position: f.position };
            return write(f.type, text, encodePositions(seen));
          }
          if ((f.type === 'subscribed' || f.type === 'reset') && f.channel && typeof f.position === 'number') seen[f.channel] = { epoch: f.epoch ?? null, position: f.position };
          write(f.type, text);
        },
        close: (code, reason) => {
          write('close', JSON.stringify({ type: 'close', code, reason }));
          open = false;
          raw.end();
        },
        buffered: () => raw.writableLength,
        heartbeat: () => {
          if (open) raw.write(': ping\n\n');
          return open;
        },
      };
      reply.hijack();
      const headers = reply.getHeaders() as Record<string, string>;
      raw.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      raw.write(`retry: 2000\n\n`);
      const conn = new Connection(hub, wire, req.ip, req.log);
      raw.on('close', () => {
        open = false;
        conn.close(CLOSE.normal, 'client_closed');
      });
      conn.open(headerCredentials(req));
      // Subscriptions come with the request: each in turn, each refusal an `error` event (the others go on).
      void (async () => {
        await new Promise((r) => setImmediate(r));
        for (const name of q.channel) {
          if (conn.closed) return;
          await conn.receive(JSON.stringify({ type: 'subscribe', id: name, channel: name, ...(seen[name] ? { since: seen[name] } : {}) }));
        }
      })();
    },
  );

  app.get(
    '/api/asyncapi.json',
    { config: { access: access.public() }, schema: { tags, summary: 'The AsyncAPI 3.0 document of the realtime API', operationId: 'asyncapi', response: { 200: { description: 'AsyncAPI 3.0 (JSON)', type: 'object', additionalProperties: true } } } },
    async () => ASYNCAPI,
  );
}
