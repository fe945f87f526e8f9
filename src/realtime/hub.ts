import type { Config } from '../config.ts';
import type { TenantPrincipal } from '../context.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import { AppError, rateLimited } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { AuthService } from '../modules/auth/index.ts';
import { channelHeads, dashboardOf, recover } from '../modules/realtime/index.ts';
import type { BusMessage, RealtimeBus } from './bus.ts';
import type { Connection, Host } from './connection.ts';
import { Feed, Subscription, type Listener } from './feed.ts';
import { presenceView, type PresenceStore } from './presence.ts';
import { CLOSE } from './protocol.ts';

export interface HubOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  auth: AuthService;
  bus: RealtimeBus;
  presence: PresenceStore;
  limits: Config['realtime'];
  /** Counts one chat message of a sender against REALTIME_CHAT_PER_MINUTE (shared with REST); throws when over. */
  chatLimit: (key: string) => Promise<void>;
  /** How often the channel heads are checked for messages the bus did not bring (ms). */
  pollMs?: number;
  /** How often each connection's credentials are checked again (ms). */
  revalidateMs?: number;
}

/** A presence entry lives this long unless its node refreshes it (a node that died leaves no ghosts for long). */
const PRESENCE_TTL_MS = 30_000;
const PRESENCE_REFRESH_MS = 10_000;
/** The dashboard is pushed at most this often, and recomputed at least this often while someone watches. */
const DASHBOARD_MIN_MS = 1000;
const DASHBOARD_MAX_MS = 5000;

interface DashboardWatch {
  conns: Set<Connection>;
  last: string | null;
  at: number;
  dirty: boolean;
  running: boolean;
}

/**
 * One node's realtime: its connections (counted per shop and per address), the durable channels someone here
 * listens to (a Feed each, fed by the bus and, for anything the bus lost, by polling the channel heads), the
 * dashboards and presence it pushes, and the sweep that closes connections whose credentials no longer hold.
 */
export class RealtimeHub implements Host {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly auth: AuthService;
  readonly limits: Config['realtime'];
  readonly chatLimit: (key: string) => Promise<void>;
  readonly connections = new Set<Connection>();
  private readonly bus: RealtimeBus;
  private readonly presence: PresenceStore;
  private readonly perShop = new Map<string, number>();
  private readonly perIp = new Map<string, number>();
  private readonly feeds = new Map<string, Feed>();
  private readonly dashboards = new Map<string, DashboardWatch>();
  private readonly presenceSubs = new Map<string, Set<Connection>>();
  private readonly presenceDirty = new Set<string>();
  private readonly presenceLast = new Map<string, string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribeBus: (() => void) | null = null;
  private readonly o: HubOptions;
  private stopping = false;

  constructor(o: HubOptions) {
    this.o = o;
    this.db = o.db;
    this.clock = o.clock;
    this.log = o.log;
    this.auth = o.auth;
    this.limits = o.limits;
    this.chatLimit = o.chatLimit;
    this.bus = o.bus;
    this.presence = o.presence;
  }

  start(): void {
    this.unsubscribeBus = this.bus.subscribe((m) => this.onBus(m));
    const every = (ms: number, fn: () => Promise<void> | void, what: string) => {
      let busy = false;
      const t = setInterval(() => {
        if (busy) return;
        busy = true;
        Promise.resolve()
          .then(fn)
          .catch((err: unknown) => this.log.warn({ err }, `realtime ${what} failed`))
          .finally(() => (busy = false));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.pollMs ?? 1000, () => this.poll(), 'poll');
    every(this.o.revalidateMs ?? 3000, () => this.revalidate(), 'credential sweep');
    every(250, () => this.pushDashboards(), 'dashboard');
    every(250, () => this.pushPresence(), 'presence');
    every(PRESENCE_REFRESH_MS, () => this.refreshPresence(), 'presence refresh');
    every(this.limits.heartbeatSeconds * 1000, () => this.heartbeat(), 'heartbeat');
  }

  /** Graceful shutdown: every client is told to reconnect (elsewhere) and resume; then the connections close. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    for (const c of [...this.connections]) {
      c.send({ type: 'reconnect', reason: 'shutdown' });
      c.close(CLOSE.serviceRestart, 'service_restart');
    }
    this.unsubscribeBus?.();
    await this.bus.close();
    await this.presence.close();
  }

  // --- connections -------------------------------------------------------------------------------------------

  /** Before a connection opens: the address's limit. */
  acceptIp(ip: string): boolean {
    if (this.stopping) return false;
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.limits.maxPerIp) return false;
    this.perIp.set(ip, n + 1);
    return true;
  }

  releaseIp(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  /** Once authenticated: the shop's limit. */
  admit(conn: Connection, p: TenantPrincipal): void {
    const n = this.perShop.get(p.tenantId) ?? 0;
    if (n >= this.limits.maxPerShop) throw rateLimited('too_many_connections', `A shop holds at most ${this.limits.maxPerShop} realtime connections per node`, 5);
    this.perShop.set(p.tenantId, n + 1);
    this.connections.add(conn);
  }

  /** A connection closed: its counts, subscriptions and presence go. */
  detach(conn: Connection): void {
    this.releaseIp(conn.ip);
    if (!this.connections.delete(conn)) return;
    const tenantId = conn.principal?.tenantId;
    if (tenantId) {
      const n = (this.perShop.get(tenantId) ?? 1) - 1;
      if (n <= 0) this.perShop.delete(tenantId);
      else this.perShop.set(tenantId, n);
    }
    for (const sub of conn.subs.values()) this.leave(conn, sub);
    conn.subs.clear();
    for (const l of conn.live) this.leaveLive(conn, l);
    if (tenantId && conn.principal?.kind === 'user') {
      void this.presence
        .remove(tenantId, conn.id)
        .then(() => this.bus.publish({ t: 'presence', tenantId }))
        .catch((err: unknown) => this.log.warn({ err }, 'presence update failed'));
    }
  }

  // --- durable channels --------------------------------------------------------------------------------------

  private feedOf(tenantId: string, key: string): Feed {
    const id = `${tenantId} ${key}`;
    let f = this.feeds.get(id);
    if (!f) {
      f = new Feed(this.db, this.log, tenantId, key);
      this.feeds.set(id, f);
    }
    return f;
  }

  /**
   * Joins a channel: from `since` (exactly the messages missed, or a reset when they are gone), or from now. The
   * client gets `subscribed` with the channel's epoch and position, then what it missed, then every new message.
   */
  async join(conn: Connection, key: string, listener: Listener, since: { epoch: string | null; position: number } | null, reply: (frame: Record<string, unknown>) => void): Promise<Subscription | null> {
    const tenantId = (conn.principal as TenantPrincipal).tenantId;
    const feed = this.feedOf(tenantId, key);
    let sub: Subscription;
    feed.joining++;
    try {
      await feed.ready;
      if (since) {
        const r = await recover(this.db, tenantId, key, since);
        reply({ type: 'subscribed', channel: listener.channelName, epoch: r.epoch, position: r.position, recovered: r.ok, ...(r.ok ? { missed: r.messages.length } : {}) });
        if (r.ok) for (const m of r.messages) listener.deliver(m);
        else listener.reset(r.epoch, r.position, r.reason);
        sub = new Subscription(feed, listener, r.epoch, r.position);
      } else {
        reply({ type: 'subscribed', channel: listener.channelName, epoch: feed.epoch, position: feed.position });
        sub = new Subscription(feed, listener, feed.epoch, feed.position);
      }
    } catch (e) {
      feed.joining--;
      this.dropIfIdle(feed);
      throw e;
    }
    feed.joining--;
    if (conn.closed) {
      this.dropIfIdle(feed);
      return null;
    }
    feed.subs.add(sub);
    if (feed.position > sub.position) void sub.catchUp(feed.position);
    return sub;
  }

  leave(_conn: Connection, sub: Subscription): void {
    if (sub.feed.subs.delete(sub)) this.dropIfIdle(sub.feed);
  }

  private dropIfIdle(f: Feed): void {
    const id = `${f.tenantId} ${f.key}`;
    if (f.subs.size === 0 && f.joining === 0 && this.feeds.get(id) === f) this.feeds.delete(id);
  }

  private onBus(m: BusMessage): void {
    if (m.t === 'presence') {
      this.presenceDirty.add(m.tenantId);
      return;
    }
    const msg = m.m;
    this.feeds.get(`${msg.tenantId} ${msg.key}`)?.offer(msg);
    if (msg.key === 'orders' || msg.key === 'inventory') {
      const d = this.dashboards.get(msg.tenantId);
      if (d) d.dirty = true;
    }
  }

  /** What the bus did not bring (lost, or a process that died before relaying): the heads tell. */
  private async poll(): Promise<void> {
    const byTenant = new Map<string, Feed[]>();
    for (const f of this.feeds.values()) if (f.subs.size > 0) byTenant.set(f.tenantId, [...(byTenant.get(f.tenantId) ?? []), f]);
    for (const [tenantId, feeds] of byTenant) {
      const heads = await channelHeads(this.db, tenantId, feeds.map((f) => f.key));
      for (const f of feeds) {
        const h = heads.get(f.key);
        if (!h) continue;
        if (h.position > f.position && (f.key === 'orders' || f.key === 'inventory')) {
          const d = this.dashboards.get(tenantId);
          if (d) d.dirty = true;
        }
        f.advanceTo(h.epoch, h.position);
      }
    }
  }

  // --- credentials, heartbeats -------------------------------------------------------------------------------

  /** Each distinct credential is checked again; connections whose credential no longer holds are closed. */
  private async revalidate(): Promise<void> {
    const groups = new Map<string, Connection[]>();
    for (const c of this.connections) {
      if (!c.credentials || c.closed) continue;
      const k = `${c.credentials.token ?? ''} ${c.credentials.publishableKey ?? ''}`;
      groups.set(k, [...(groups.get(k) ?? []), c]);
    }
    for (const conns of groups.values()) {
      const first = conns[0] as Connection;
      try {
        const p = await this.auth.principalFromCredentials(first.credentials as NonNullable<Connection['credentials']>);
        if (!('tenantId' in p) || p.kind === 'system') throw new AppError('unauthenticated', 'authentication_required', 'Not a shop credential');
        for (const c of conns) {
          const before = c.principal;
          c.principal = p;
          if (before && 'permissions' in before && 'permissions' in p && !sameSet(before.permissions, p.permissions)) await c.reauthorize();
        }
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        for (const c of conns) {
          c.send({ type: 'error', code: e.code, kind: e.kind, detail: e.message });
          c.fail(e);
        }
      }
    }
  }

  /** WebSocket ping frames (a client that missed one is dropped), SSE comments that keep proxies from timing out. */
  private heartbeat(): void {
    for (const c of this.connections) if (!c.wire.heartbeat()) c.close(CLOSE.normal, 'heartbeat_missed');
  }

  // --- dashboard ---------------------------------------------------------------------------------------------

  async joinDashboard(conn: Connection): Promise<void> {
    const tenantId = (conn.principal as TenantPrincipal).tenantId;
    let d = this.dashboards.get(tenantId);
    if (!d) {
      d = { conns: new Set(), last: null, at: 0, dirty: true, running: false };
      this.dashboards.set(tenantId, d);
    }
    d.conns.add(conn);
    if (d.last && Date.now() - d.at < DASHBOARD_MIN_MS) conn.send(JSON.parse(d.last) as Record<string, unknown>);
    else {
      const snapshot = await dashboardOf(this.db, this.clock, tenantId);
      conn.send({ type: 'message', channel: 'dashboard', event: 'dashboard.updated', data: snapshot });
    }
  }

  leaveLive(conn: Connection, what: 'dashboard' | 'presence'): void {
    const tenantId = conn.principal?.tenantId;
    if (!tenantId) return;
    if (what === 'dashboard') {
      const d = this.dashboards.get(tenantId);
      d?.conns.delete(conn);
      if (d && d.conns.size === 0) this.dashboards.delete(tenantId);
    } else {
      const s = this.presenceSubs.get(tenantId);
      s?.delete(conn);
      if (s && s.size === 0) {
        this.presenceSubs.delete(tenantId);
        this.presenceLast.delete(tenantId);
      }
    }
  }

  /** At most once a second per shop, and only when the figures changed: one computation for all its watchers. */
  private async pushDashboards(): Promise<void> {
    const now = Date.now();
    for (const [tenantId, d] of this.dashboards) {
      if (d.running || now - d.at < DASHBOARD_MIN_MS || (!d.dirty && now - d.at < DASHBOARD_MAX_MS)) continue;
      d.running = true;
      d.dirty = false;
      try {
        const snapshot = await dashboardOf(this.db, this.clock, tenantId);
        const { at: _at, ...figures } = snapshot ?? { at: '' };
        const frame = JSON.stringify({ type: 'message', channel: 'dashboard', event: 'dashboard.updated', data: snapshot });
        const changed = d.last === null || JSON.stringify(figures) !== JSON.stringify(withoutAt(d.last));
        d.at = Date.now();
        if (changed) {
          d.last = frame;
          for (const c of d.conns) c.send(JSON.parse(frame) as Record<string, unknown>);
        }
      } finally {
        d.running = false;
      }
    }
  }

  // --- presence ----------------------------------------------------------------------------------------------

  /** A staff user's connection is online (and shared with every node). */
  async online(conn: Connection): Promise<void> {
    if (conn.principal?.kind !== 'user') return;
    await this.presenceChanged(conn);
  }

  async presenceChanged(conn: Connection): Promise<void> {
    const p = conn.principal;
    if (p?.kind !== 'user' || conn.closed) return;
    await this.presence.set(p.tenantId, { connectionId: conn.id, userId: p.userId, viewing: conn.viewing, expiresAt: Date.now() + PRESENCE_TTL_MS });
    await this.bus.publish({ t: 'presence', tenantId: p.tenantId });
  }

  async joinPresence(conn: Connection): Promise<void> {
    const tenantId = (conn.principal as TenantPrincipal).tenantId;
    const s = this.presenceSubs.get(tenantId) ?? new Set<Connection>();
    s.add(conn);
    this.presenceSubs.set(tenantId, s);
    const view = presenceView(await this.presence.list(tenantId, Date.now()));
    conn.send({ type: 'message', channel: 'presence', event: 'presence.updated', data: view });
  }

  private async pushPresence(): Promise<void> {
    const dirty = [...this.presenceDirty];
    this.presenceDirty.clear();
    for (const tenantId of dirty) {
      const subs = this.presenceSubs.get(tenantId);
      if (!subs || subs.size === 0) continue;
      const view = presenceView(await this.presence.list(tenantId, Date.now()));
      const text = JSON.stringify(view);
      if (this.presenceLast.get(tenantId) === text) continue;
      this.presenceLast.set(tenantId, text);
      for (const c of subs) c.send({ type: 'message', channel: 'presence', event: 'presence.updated', data: view });
    }
  }

  private async refreshPresence(): Promise<void> {
    for (const c of this.connections) if (c.principal?.kind === 'user' && !c.closed) await this.presence.set(c.principal.tenantId, { connectionId: c.id, userId: c.principal.userId, viewing: c.viewing, expiresAt: Date.now() + PRESENCE_TTL_MS });
    // Entries of nodes that died expire; a shop being watched is looked at again so they leave its view.
    for (const tenantId of this.presenceSubs.keys()) this.presenceDirty.add(tenantId);
  }
}

function sameSet<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function withoutAt(frame: string): unknown {
  const f = JSON.parse(frame) as { data?: Record<string, unknown> | null };
  if (!f.data) return {};
  const { at: _at, ...rest } = f.data;
  return rest;
}
