import type { Redis } from 'ioredis';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a transport that knows the request wrote nothing (a GraphQL query sent by POST): no wake-up. */
    readOnly?: boolean;
  }
}

/**
 * "The outbox may have new events": said by an API node after a request that may have written some, heard by
 * every process that runs an outbox publisher — in this process, and through Redis on the others — so events go
 * out within milliseconds instead of at the next half-second poll. Only a hint: the poll still runs.
 */
export class OutboxWake {
  private readonly local = new Set<() => void>();
  private readonly redis: Redis | null;
  private readonly channel: string;
  private sub: Redis | null = null;
  private pending: NodeJS.Timeout | null = null;
  private last = 0;

  constructor(redis: Redis | null, prefix: string) {
    this.redis = redis;
    this.channel = `${prefix}outbox-wake`;
  }

  /** At most one Redis message per 5 ms from this process; local listeners at once. */
  notify(): void {
    for (const fn of this.local) fn();
    if (!this.redis) return;
    const now = Date.now();
    if (now - this.last >= 5) {
      this.last = now;
      this.redis.publish(this.channel, '1').catch(() => {});
    } else if (!this.pending) {
      this.pending = setTimeout(() => {
        this.pending = null;
        this.last = Date.now();
        this.redis?.publish(this.channel, '1').catch(() => {});
      }, 5);
    }
  }

  /** Listens here, and (with Redis) to every other process. */
  subscribe(fn: () => void): () => void {
    this.local.add(fn);
    if (this.redis && !this.sub) {
      const sub = this.redis.duplicate();
      this.sub = sub;
      sub.on('error', () => {});
      sub.on('message', () => {
        for (const f of this.local) f();
      });
      sub.subscribe(this.channel).catch(() => {});
    }
    return () => this.local.delete(fn);
  }

  async close(): Promise<void> {
    if (this.pending) clearTimeout(this.pending);
    this.local.clear();
    if (this.sub) await this.sub.quit().catch(() => this.sub?.disconnect());
    this.sub = null;
  }
}
