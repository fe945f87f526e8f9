import type { Redis } from 'ioredis';

/** One staff connection's presence: who, and the order they are looking at. */
export interface PresenceEntry {
  connectionId: string;
  userId: string;
  viewing: string | null;
  /** Epoch ms after which the entry is stale (its node died without saying goodbye). */
  expiresAt: number;
}

/** Who is online, per shop: in memory in embedded mode, in a Redis hash per shop in scale-out (every node sees all). */
export interface PresenceStore {
  set(tenantId: string, e: PresenceEntry): Promise<void>;
  remove(tenantId: string, connectionId: string): Promise<void>;
  list(tenantId: string, now: number): Promise<PresenceEntry[]>;
  close(): Promise<void>;
}

export class MemoryPresence implements PresenceStore {
  private readonly shops = new Map<string, Map<string, PresenceEntry>>();
  set(tenantId: string, e: PresenceEntry): Promise<void> {
    const m = this.shops.get(tenantId) ?? new Map<string, PresenceEntry>();
    m.set(e.connectionId, e);
    this.shops.set(tenantId, m);
    return Promise.resolve();
  }
  remove(tenantId: string, connectionId: string): Promise<void> {
    const m = this.shops.get(tenantId);
    m?.delete(connectionId);
    if (m && m.size === 0) this.shops.delete(tenantId);
    return Promise.resolve();
  }
  list(tenantId: string, now: number): Promise<PresenceEntry[]> {
    return Promise.resolve([...(this.shops.get(tenantId)?.values() ?? [])].filter((e) => e.expiresAt > now));
  }
  close(): Promise<void> {
    this.shops.clear();
    return Promise.resolve();
  }
}

export class RedisPresence implements PresenceStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }
  private key(tenantId: string) {
    return `${this.prefix}presence:${tenantId}`;
  }
  async set(tenantId: string, e: PresenceEntry): Promise<void> {
    await this.redis.multi().hset(this.key(tenantId), e.connectionId, JSON.stringify(e)).pexpire(this.key(tenantId), 10 * 60_000).exec();
  }
  async remove(tenantId: string, connectionId: string): Promise<void> {
    await this.redis.hdel(this.key(tenantId), connectionId);
  }
  async list(tenantId: string, now: number): Promise<PresenceEntry[]> {
    const all = await this.redis.hgetall(this.key(tenantId));
    const live: PresenceEntry[] = [];
    const stale: string[] = [];
    for (const [id, raw] of Object.entries(all)) {
      const e = JSON.parse(raw) as PresenceEntry;
      if (e.expiresAt > now) live.push(e);
      else stale.push(id);
    }
    if (stale.length) await this.redis.hdel(this.key(tenantId), ...stale);
    return live;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the presence channel shows: each online staff user, their connections, and who looks at which order. */
export function presenceView(entries: readonly PresenceEntry[]) {
  const users = new Map<string, { user_id: string; connections: number; viewing: Set<string> }>();
  for (const e of entries) {
    const u = users.get(e.userId) ?? { user_id: e.userId, connections: 0, viewing: new Set<string>() };
    u.connections++;
    if (e.viewing) u.viewing.add(e.viewing);
    users.set(e.userId, u);
  }
  const online = [...users.values()].sort((a, b) => a.user_id.localeCompare(b.user_id)).map((u) => ({ user_id: u.user_id, connections: u.connections, viewing: [...u.viewing].sort() }));
  const orders: Record<string, string[]> = {};
  for (const u of online) for (const o of u.viewing) (orders[o] ??= []).push(u.user_id);
  return { online, orders };
}
