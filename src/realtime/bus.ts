import type { Redis } from 'ioredis';
import type { ChannelMessage } from '../modules/realtime/index.ts';

/** What nodes tell each other: a channel message that committed, or that a shop's presence changed. */
export type BusMessage = { t: 'message'; m: ChannelMessage } | { t: 'presence'; tenantId: string };

/**
 * The fast path between the process that commits (the outbox publisher) and the nodes that hold connections.
 * Losing a bus message loses nothing: the history is in the database and each node notices a gap (a later
 * position, or the channel heads it polls) and reads what it missed.
 */
export interface RealtimeBus {
  publish(msg: BusMessage): Promise<void>;
  subscribe(handler: (msg: BusMessage) => void): () => void;
  close(): Promise<void>;
}

/** Embedded mode: one process, so the bus is a list of handlers. */
export class InProcessBus implements RealtimeBus {
  private readonly handlers = new Set<(msg: BusMessage) => void>();
  publish(msg: BusMessage): Promise<void> {
    for (const h of this.handlers) queueMicrotask(() => h(msg));
    return Promise.resolve();
  }
  subscribe(handler: (msg: BusMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  close(): Promise<void> {
    this.handlers.clear();
    return Promise.resolve();
  }
}

/** Scale-out: Redis pub/sub on one channel; each node keeps one subscriber connection. */
export class RedisBus implements RealtimeBus {
  private sub: Redis | null = null;
  private readonly handlers = new Set<(msg: BusMessage) => void>();
  private readonly channel: string;
  private readonly redis: Redis;
  private readonly onError: (err: unknown) => void;
  constructor(redis: Redis, prefix: string, onError: (err: unknown) => void = () => {}) {
    this.redis = redis;
    this.onError = onError;
    this.channel = `${prefix}realtime`;
  }
  async publish(msg: BusMessage): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(msg));
  }
  subscribe(handler: (msg: BusMessage) => void): () => void {
    this.handlers.add(handler);
    if (!this.sub) {
      const sub = this.redis.duplicate();
      this.sub = sub;
      sub.on('error', (err) => this.onError(err));
      sub.on('message', (_channel: string, raw: string) => {
        let msg: BusMessage;
        try {
          msg = JSON.parse(raw) as BusMessage;
        } catch (err) {
          this.onError(err);
          return;
        }
        for (const h of this.handlers) h(msg);
      });
      sub.subscribe(this.channel).catch((err: unknown) => this.onError(err));
    }
    return () => this.handlers.delete(handler);
  }
  async close(): Promise<void> {
    this.handlers.clear();
    if (this.sub) await this.sub.quit().catch(() => this.sub?.disconnect());
    this.sub = null;
  }
}
