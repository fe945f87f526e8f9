import { randomBytes } from 'node:crypto';
import type { Logger } from '../../lib/log.ts';
import type { Db } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { idempotencyRepository as repo } from './idempotency.repository.ts';

/** A node that has not beaten for this long is dead: its in-flight requests may be taken over. */
export const NODE_STALE_MS = 5_000;
const BEAT_MS = 1_000;

/**
 * This process as a row in `nodes`, with a heartbeat every second. A request that holds an Idempotency-Key
 * names its node; a retry that finds the key in flight asks whether that node is still alive, so a request
 * whose process was killed is resumed within seconds from its recovery point — not after a long timer, and
 * never while its process is still working on it.
 */
export class NodeRegistry {
  readonly id = `node_${randomBytes(8).toString('hex')}`;
  private timer: NodeJS.Timeout | null = null;
  private readonly o: { db: Db; clock: Clock; log: Logger; kind: string };

  constructor(o: { db: Db; clock: Clock; log: Logger; kind: string }) {
    this.o = o;
  }

  async start(): Promise<void> {
    const now = this.o.clock.now();
    await repo.upsertNode(this.o.db, { id: this.id, kind: this.o.kind, started_at: now.toISOString(), heartbeat_at: now.toISOString() });
    await repo.deleteStaleNodes(this.o.db, new Date(now.getTime() - 3_600_000).toISOString());
    this.timer = setInterval(() => {
      repo.upsertNode(this.o.db, { id: this.id, kind: this.o.kind, started_at: this.o.clock.now().toISOString(), heartbeat_at: this.o.clock.now().toISOString() }).catch((err: unknown) => this.o.log.warn({ err }, 'node heartbeat failed'));
    }, BEAT_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await repo.deleteNode(this.o.db, this.id).catch(() => {});
  }

  /** Whether the node is alive: this process always is; another while its heartbeat is fresh. */
  async alive(id: string): Promise<boolean> {
    if (id === this.id) return true;
    const beat = await repo.nodeHeartbeat(this.o.db, id);
    return beat !== null && new Date(beat).getTime() > this.o.clock.now().getTime() - NODE_STALE_MS;
  }
}
