import type { Ctx, TenantPrincipal } from '../context.ts';
import { AppError, forbidden, rateLimited } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import type { Logger } from '../lib/log.ts';
import { markRead, sendMessage } from '../modules/conversations/index.ts';
import { loadOrder } from '../modules/orders/index.ts';
import { authorizeChannel, parseChannel, type ChannelMessage } from '../modules/realtime/index.ts';
import { access, authorizeAccess } from '../policy/index.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import type { AuthService } from '../modules/auth/index.ts';
import type { Listener, Subscription } from './feed.ts';
import { CLOSE, CLOSE_OF, errorFrame, parseClientFrame, type ClientFrame } from './protocol.ts';

/** The two ways a connection reaches its client. */
export interface Wire {
  readonly kind: 'websocket' | 'sse';
  send(text: string): void;
  close(code: number, reason: string): void;
  /** Bytes written but not yet sent (a slow client piles them up). */
  buffered(): number;
  /** A heartbeat: false when the client did not answer the previous one (the connection is dead). */
  heartbeat(): boolean;
}

/** What a connection needs of its node (the hub implements it). */
export interface Host {
  readonly db: Db;
  readonly clock: Clock;
  readonly auth: AuthService;
  readonly limits: Config['realtime'];
  chatLimit(key: string): Promise<void>;
  admit(conn: Connection, p: TenantPrincipal): void;
  detach(conn: Connection): void;
  online(conn: Connection): Promise<void>;
  presenceChanged(conn: Connection): Promise<void>;
  join(conn: Connection, key: string, listener: Listener, since: { epoch: string | null; position: number } | null, reply: (frame: Record<string, unknown>) => void): Promise<Subscription | null>;
  leave(conn: Connection, sub: Subscription): void;
  leaveLive(conn: Connection, what: 'dashboard' | 'presence'): void;
  joinDashboard(conn: Connection): Promise<void>;
  joinPresence(conn: Connection): Promise<void>;
}

export interface Credentials {
  token: string | null;
  publishableKey: string | null;
}

/** How long a connection may stay without credentials (a WebSocket that authenticates with its first frame). */
export const AUTH_TIMEOUT_MS = 10_000;

/**
 * One client connection, whatever carries it. It authenticates like a REST request (the same AuthService, the same
 * credentials — never in the URL), subscribes through the same policy, and calls the same services for chat; what
 * it may do is re-checked while it lives (the hub's sweep), and it is closed when that no longer holds.
 */
export class Connection {
  readonly id = newId('connection');
  readonly hub: Host;
  readonly wire: Wire;
  readonly ip: string;
  readonly log: Logger;
  principal: TenantPrincipal | null = null;
  credentials: Credentials | null = null;
  viewing: string | null = null;
  closed = false;
  /** Durable channels by name, and the names of the dashboard / presence channels if subscribed. */
  readonly subs = new Map<string, Subscription>();
  readonly live = new Set<'dashboard' | 'presence'>();
  private allowance: number;
  private lastRefill = Date.now();
  private authTimer: NodeJS.Timeout | null = null;
  private authenticating: Promise<void> | null = null;

  constructor(hub: Host, wire: Wire, ip: string, log: Logger) {
    this.hub = hub;
    this.wire = wire;
    this.ip = ip;
    this.log = log;
    this.allowance = hub.limits.messagesPerSecond * 2;
  }

  /** Starts the connection: with credentials from the request's headers, or waiting for an `auth` frame. */
  open(fromHeaders: Credentials | null): void {
    if (fromHeaders && (fromHeaders.token || fromHeaders.publishableKey)) {
      this.authenticating = this.authenticate(fromHeaders, null);
      return;
    }
    this.authTimer = setTimeout(() => this.close(CLOSE.unauthenticated, 'authentication_timeout'), AUTH_TIMEOUT_MS);
  }

  ctx(): Ctx {
    if (!this.principal) throw new AppError('unauthenticated', 'authentication_required', 'Send an auth frame first');
    return { tenantId: this.principal.tenantId, principal: this.principal, db: this.hub.db, clock: this.hub.clock, log: this.log };
  }

  send(frame: Record<string, unknown>): void {
    if (this.closed) return;
    if (this.wire.buffered() > this.hub.limits.maxBufferBytes) {
      this.close(CLOSE.slowConsumer, 'slow_consumer');
      return;
    }
    this.wire.send(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.authTimer) clearTimeout(this.authTimer);
    this.wire.close(code, reason);
    this.hub.detach(this);
  }

  /** Closes with the close code of an error's kind, and the error's code as the reason. */
  fail(e: unknown): void {
    if (e instanceof AppError) return this.close(CLOSE_OF[e.kind], e.code);
    this.log.error({ err: e }, 'realtime connection failed');
    this.close(CLOSE.internal, 'internal_error');
  }

  /** A frame from the client (WebSocket only; SSE clients subscribe with the request). */
  async receive(raw: string): Promise<void> {
    if (this.closed) return;
    if (!this.take()) return this.close(CLOSE.rateLimited, 'rate_limited');
    const frame = parseClientFrame(raw);
    if (!frame) return this.close(CLOSE.badMessage, 'bad_message');
    if (this.authenticating) await this.authenticating.catch(() => {});
    if (this.closed) return;
    if (frame.type === 'auth') {
      this.authenticating = this.authenticate({ token: frame.token ?? null, publishableKey: frame.publishable_key ?? null }, this.principal);
      return this.authenticating;
    }
    if (!this.principal) return this.close(CLOSE.unauthenticated, 'authentication_required');
    const id = 'id' in frame ? frame.id : undefined;
    try {
      await this.command(frame);
    } catch (e) {
      if (e instanceof AppError) this.send(errorFrame(e, id));
      else {
        this.log.error({ err: e, frame: frame.type }, 'realtime command failed');
        this.send({ type: 'error', ...(id !== undefined ? { id } : {}), code: 'internal_error', kind: 'internal', detail: 'Something went wrong on our side' });
      }
    }
  }

  private async command(f: Exclude<ClientFrame, { type: 'auth' }>): Promise<void> {
    switch (f.type) {
      case 'ping':
        return this.send({ type: 'pong', ...(f.id !== undefined ? { id: f.id } : {}) });
      case 'subscribe':
        return this.subscribe(f.channel, f.since ?? null, f.id);
      case 'unsubscribe':
        this.unsubscribe(f.channel);
        return this.send({ type: 'unsubscribed', channel: f.channel, ...(f.id !== undefined ? { id: f.id } : {}) });
      case 'message.send': {
        await this.hub.chatLimit(`${this.principal?.tenantId}:${this.actor()}`);
        const m = await this.hub.db.transaction().execute((trx) => sendMessage({ ...this.ctx(), db: trx }, f.order_id, f.body));
        return this.send({ type: 'reply', ...(f.id !== undefined ? { id: f.id } : {}), data: m });
      }
      case 'messages.read': {
        const c = await this.hub.db.transaction().execute((trx) => markRead({ ...this.ctx(), db: trx }, f.order_id, f.up_to));
        return this.send({ type: 'reply', ...(f.id !== undefined ? { id: f.id } : {}), data: c });
      }
      case 'presence.view': {
        const ctx = this.ctx();
        if (ctx.principal.kind !== 'user') throw forbidden('principal_not_allowed', 'Presence is for staff users');
        authorizeAccess(ctx.principal, access.staff('orders:read'));
        if (f.order_id) await loadOrder(ctx, f.order_id);
        this.viewing = f.order_id;
        await this.hub.presenceChanged(this);
        return this.send({ type: 'reply', ...(f.id !== undefined ? { id: f.id } : {}), data: { viewing: this.viewing } });
      }
    }
  }

  /** Subscribes through the policy; a durable channel resumes from `since` when given. */
  async subscribe(name: string, since: { epoch: string | null; position: number } | null, id?: string | number): Promise<void> {
    const ctx = this.ctx();
    const channel = parseChannel(ctx, name);
    await authorizeChannel(ctx, channel);
    if (this.subs.has(name) || this.live.has(channel.kind as 'dashboard')) return this.send({ type: 'subscribed', channel: name, ...(id !== undefined ? { id } : {}), already: true });
    if (this.subs.size + this.live.size >= 100) throw rateLimited('too_many_subscriptions', 'A connection holds at most 100 subscriptions', 1);
    if (channel.key === null) {
      this.live.add(channel.kind as 'dashboard' | 'presence');
      this.send({ type: 'subscribed', channel: name, ...(id !== undefined ? { id } : {}) });
      await (channel.kind === 'dashboard' ? this.hub.joinDashboard(this) : this.hub.joinPresence(this));
      return;
    }
    const key = channel.key;
    const listener: Listener = {
      channelName: name,
      deliver: (m: ChannelMessage) => this.send({ type: 'message', channel: name, epoch: m.epoch, position: m.position, event: m.type, data: m.data, at: m.at }),
      reset: (epoch, position, reason) => this.send({ type: 'reset', channel: name, epoch, position, reason }),
    };
    const sub = await this.hub.join(this, key, listener, since, (frame) => this.send({ ...frame, ...(id !== undefined ? { id } : {}) }));
    if (sub) this.subs.set(name, sub);
  }

  unsubscribe(name: string): void {
    const sub = this.subs.get(name);
    if (sub) {
      this.subs.delete(name);
      this.hub.leave(this, sub);
      return;
    }
    if (name === 'dashboard' || name === 'presence') {
      this.live.delete(name);
      this.hub.leaveLive(this, name);
    }
  }

  /** Re-checks each subscription after the principal's permissions changed; drops those no longer allowed. */
  async reauthorize(): Promise<void> {
    const names = [...this.subs.keys(), ...this.live];
    for (const name of names) {
      try {
        await authorizeChannel(this.ctx(), parseChannel(this.ctx(), name));
      } catch (e) {
        this.unsubscribe(name);
        if (e instanceof AppError) this.send({ ...errorFrame(e), type: 'unsubscribed', channel: name });
      }
    }
  }

  actor(): string {
    const p = this.principal;
    if (!p) return this.id;
    return p.kind === 'user' ? p.userId : p.kind === 'customer' ? p.customerId : p.kind === 'api_key' || p.kind === 'shopper' ? p.keyId : 'system';
  }

  private async authenticate(c: Credentials, current: TenantPrincipal | null): Promise<void> {
    try {
      const p = await this.hub.auth.principalFromCredentials(c);
      if (!('tenantId' in p) || p.kind === 'system') throw new AppError('unauthenticated', 'authentication_required', 'Realtime takes a shop’s credentials');
      // A refreshed token must be the same caller: a connection never changes hands.
      if (current && (current.tenantId !== p.tenantId || current.kind !== p.kind || (current.kind === 'user' && p.kind === 'user' && current.userId !== p.userId) || (current.kind === 'customer' && p.kind === 'customer' && current.customerId !== p.customerId))) {
        throw new AppError('unauthenticated', 'credential_mismatch', 'A connection keeps its caller: open a new one to switch');
      }
      if (this.closed) return;
      if (!current) {
        if (this.authTimer) clearTimeout(this.authTimer);
        this.authTimer = null;
        this.hub.admit(this, p);
      }
      this.principal = p;
      this.credentials = c;
      if (!current) {
        const who = p.kind === 'user' ? p.userId : p.kind === 'customer' ? p.customerId : p.keyId;
        this.send({ type: 'welcome', connection_id: this.id, principal: { kind: p.kind, tenant_id: p.tenantId, id: who }, heartbeat_seconds: this.hub.limits.heartbeatSeconds });
        await this.hub.online(this);
      } else this.send({ type: 'authenticated' });
    } catch (e) {
      this.fail(e);
    } finally {
      this.authenticating = null;
    }
  }

  /** A token bucket: messagesPerSecond, bursts of twice that. */
  private take(): boolean {
    const now = Date.now();
    const rate = this.hub.limits.messagesPerSecond;
    this.allowance = Math.min(rate * 2, this.allowance + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    if (this.allowance < 1) return false;
    this.allowance -= 1;
    return true;
  }
}
