import type amqp from 'amqplib';
import type { JetStreamClient, NatsConnection } from 'nats';

/** A message taken from the broker: its subject (routing key), body, and how to settle it. */
export interface Incoming {
  subject: string;
  body: string;
  ack(): void;
  /** Not processed (a passing failure): the broker delivers it again later. */
  retry(): void;
}

/**
 * The one door to a message broker: publish a domain event with the broker's de-duplication id and wait for the
 * broker's confirmation; take commands. NATS JetStream or RabbitMQ, by the URL's scheme. Connections are made
 * lazily and remade after the broker went away; a publish while it is down fails (the caller retries — the outbox
 * keeps the event).
 */
export interface Broker {
  readonly kind: 'nats' | 'amqp';
  publish(subject: string, id: string, body: string, headers: Record<string, string>): Promise<void>;
  consume(subject: string, handler: (m: Incoming) => Promise<void>): Promise<void>;
  /** Resolves when the broker answers (connecting if need be); rejects within a few seconds when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const STREAM = 'STOCKROOM';
export const EXCHANGE = 'stockroom';
export const COMMAND_QUEUE = 'stockroom.commands';

export function createBroker(url: string): Broker {
  return url.startsWith('nats://') ? natsBroker(url) : amqpBroker(url);
}

function natsBroker(url: string): Broker {
  let nc: NatsConnection | null = null;
  let js: JetStreamClient | null = null;
  let connecting: Promise<void> | null = null;
  const ensure = async () => {
    if (nc && !nc.isClosed() && js) return;
    connecting ??= (async () => {
      // The clients are loaded when a broker is used, not at every start.
      const { connect: natsConnect } = await import('nats');
      nc = await natsConnect({ servers: url.replace(/^nats:\/\//, ''), maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 3000 });
      const jsm = await nc.jetstreamManager();
      // One stream holds every shop's events and the commands; the de-duplication window covers retries.
      try {
        await jsm.streams.info(STREAM);
      } catch {
        await jsm.streams.add({ name: STREAM, subjects: ['stockroom.>'], duplicate_window: 120_000_000_000 });
      }
      js = nc.jetstream();
    })().finally(() => (connecting = null));
    await connecting;
  };
  return {
    kind: 'nats',
    async ping() {
      await ensure();
      await (nc as NatsConnection).flush();
    },
    async publish(subject, id, body, hdrs) {
      await ensure();
      const { headers } = await import('nats');
      const h = headers();
      for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
      await (js as JetStreamClient).publish(subject, new TextEncoder().encode(body), { msgID: id, headers: h, timeout: 5000 });
    },
    async consume(subject, handler) {
      await ensure();
      const jsm = await (nc as NatsConnection).jetstreamManager();
      const durable = 'stockroom-commands';
      try {
        await jsm.consumers.info(STREAM, durable);
      } catch {
        const { AckPolicy } = await import('nats');
        await jsm.consumers.add(STREAM, { durable_name: durable, ack_policy: AckPolicy.Explicit, filter_subject: subject, ack_wait: 30_000_000_000 });
      }
      const consumer = await (js as JetStreamClient).consumers.get(STREAM, durable);
      const messages = await consumer.consume();
      void (async () => {
        for await (const m of messages) {
          await handler({ subject: m.subject, body: new TextDecoder().decode(m.data), ack: () => m.ack(), retry: () => m.nak(5000) });
        }
      })();
    },
    async close() {
      if (nc) await (nc as NatsConnection).drain().catch(() => {});
      nc = null;
      js = null;
    },
  };
}

function amqpBroker(url: string): Broker {
  let conn: amqp.ChannelModel | null = null;
  let ch: amqp.ConfirmChannel | null = null;
  let connecting: Promise<void> | null = null;
  const ensure = async () => {
    if (conn && ch) return;
    connecting ??= (async () => {
      const { default: amqplib } = await import('amqplib');
      const c = await amqplib.connect(url, { timeout: 3000 });
      c.on('error', () => {});
      c.on('close', () => {
        conn = null;
        ch = null;
      });
      const channel = await c.createConfirmChannel();
      channel.on('error', () => {});
      channel.on('close', () => {
        ch = null;
      });
      await channel.assertExchange(EXCHANGE, 'topic', { durable: true });
      conn = c;
      ch = channel;
    })().finally(() => (connecting = null));
    await connecting;
  };
  return {
    kind: 'amqp',
    async ping() {
      await ensure();
    },
    async publish(subject, id, body, headers) {
      await ensure();
      const channel = ch as amqp.ConfirmChannel;
      await new Promise<void>((resolve, reject) => {
        channel.publish(EXCHANGE, subject, Buffer.from(body), { messageId: id, persistent: true, contentType: 'application/json', headers, timestamp: Math.floor(Date.now() / 1000) }, (err) => (err ? reject(err) : resolve()));
      });
    },
    async consume(subject, handler) {
      await ensure();
      const channel = await (conn as amqp.ChannelModel).createChannel();
      await channel.assertQueue(COMMAND_QUEUE, { durable: true });
      await channel.bindQueue(COMMAND_QUEUE, EXCHANGE, subject.replace(/>$/, '#'));
      await channel.prefetch(16);
      await channel.consume(COMMAND_QUEUE, (m) => {
        if (!m) return;
        void handler({ subject: m.fields.routingKey, body: m.content.toString('utf8'), ack: () => channel.ack(m), retry: () => channel.nack(m, false, true) });
      });
    },
    async close() {
      if (conn) await (conn as amqp.ChannelModel).close().catch(() => {});
      conn = null;
      ch = null;
    },
  };
}
