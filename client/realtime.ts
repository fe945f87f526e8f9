/**
 * A small client for Stockroom's realtime API (docs/realtime.md). Runs in browsers and in Node ≥ 22 (both have a
 * global WebSocket). It authenticates with an `auth` frame (so no secret goes into a URL), keeps the last position
 * of every channel it listens to, and after a dropped connection reconnects with exponential back-off (and jitter)
 * and resumes each channel from there — receiving exactly what it missed, in order, or a `reset` telling it to
 * refetch when the gap is older than the history the server keeps.
 *
 *   const rt = new RealtimeClient({ url: 'wss://shop.example.com/api/realtime', auth: async () => ({ token: await accessToken() }) });
 *   rt.subscribe('orders', { onMessage: (m) => console.log(m.event, m.data) });
 *   await rt.request({ type: 'message.send', order_id, body: 'Hello' });
 */

export interface ChannelMessage {
  channel: string;
  epoch: string | null;
  position: number | null;
  event: string;
  data: Record<string, unknown>;
  at?: string;
}

export interface Handlers {
  onMessage(m: ChannelMessage): void;
  /** What was missed is gone (or the channel's history was replaced): refetch the state, then go on. */
  onReset?(r: { channel: string; epoch: string | null; position: number; reason: string }): void;
  onSubscribed?(s: { channel: string; epoch: string | null; position: number; recovered?: boolean; missed?: number }): void;
  /** The subscription was refused (or later withdrawn): `code` as in REST problem+json. */
  onError?(e: { code: string; kind: string; detail: string }): void;
}

export interface Credentials {
  token?: string;
  publishable_key?: string;
}

export interface ClientOptions {
  /** ws(s)://host/api/realtime */
  url: string;
  /** Called at every (re)connect, so a refreshed token is used. */
  auth: () => Credentials | Promise<Credentials>;
  /** Back-off between reconnects: from `initialMs`, doubling, up to `maxMs` (with ±50 % jitter). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Another WebSocket implementation (defaults to the global one). */
  WebSocket?: typeof WebSocket;
  onState?(state: 'connecting' | 'open' | 'closed', detail?: { code?: number; reason?: string }): void;
}

interface Sub {
  handlers: Handlers;
  epoch: string | null;
  position: number;
  durable: boolean;
}

type Frame = Record<string, unknown> & { type: string };

/** Close codes after which reconnecting cannot help. */
const FINAL = new Set([4003]);

export class RealtimeClient {
  private readonly o: ClientOptions;
  private ws: WebSocket | null = null;
  private readonly subs = new Map<string, Sub>();
  private readonly waiting = new Map<string, { resolve(v: unknown): void; reject(e: unknown): void }>();
  private nextId = 1;
  private attempts = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ready: Promise<void> | null = null;
  private markReady: (() => void) | null = null;
  /** The server's connection id, and whether the socket is open and authenticated. */
  connectionId: string | null = null;
  open = false;

  constructor(o: ClientOptions) {
    this.o = o;
    this.connect();
  }

  /** Listens to a channel; resumes from `since` (or from what this client saw before a reconnect). */
  subscribe(channel: string, handlers: Handlers, since?: { epoch: string | null; position: number }): () => void {
    this.subs.set(channel, { handlers, epoch: since?.epoch ?? null, position: since?.position ?? 0, durable: since !== undefined });
    if (this.open) this.sendSubscribe(channel);
    return () => {
      this.subs.delete(channel);
      if (this.open) this.raw({ type: 'unsubscribe', channel });
    };
  }

  /** Where the client stands in a channel (to resume from in another session). */
  positionOf(channel: string): { epoch: string | null; position: number } | null {
    const s = this.subs.get(channel);
    return s ? { epoch: s.epoch, position: s.position } : null;
  }

  /** Sends a command (`message.send`, `messages.read`, `presence.view`, `ping`) and waits for its reply. */
  async request<T = unknown>(frame: Frame): Promise<T> {
    await this.whenOpen();
    const id = `c${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.raw({ ...frame, id });
    });
  }

  /** Resolves once connected and authenticated. */
  whenOpen(): Promise<void> {
    if (this.open) return Promise.resolve();
    this.ready ??= new Promise<void>((r) => (this.markReady = r));
    return this.ready;
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000, 'client_closed');
    for (const w of this.waiting.values()) w.reject(new Error('closed'));
    this.waiting.clear();
  }

  /** Drops the connection as a network failure would (tests; a client that knows the network changed). */
  drop(): void {
    this.ws?.close(4100, 'client_dropped');
  }

  private connect(): void {
    if (this.stopped) return;
    this.o.onState?.('connecting');
    const Impl = this.o.WebSocket ?? WebSocket;
    const ws = new Impl(this.o.url);
    this.ws = ws;
    ws.onopen = async () => {
      try {
        this.raw({ type: 'auth', ...(await this.o.auth()) });
      } catch {
        ws.close(4100, 'no_credentials');
      }
    };
    ws.onmessage = (ev) => this.receive(JSON.parse(String(ev.data)) as Frame);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.open = false;
      this.connectionId = null;
      this.o.onState?.('closed', { code: ev.code, reason: ev.reason });
      for (const w of this.waiting.values()) w.reject(new Error(`connection closed (${ev.code})`));
      this.waiting.clear();
      if (this.stopped || FINAL.has(ev.code)) return;
      // A node going away (1012) is worth trying again at once; anything else backs off.
      const base = this.o.backoff?.initialMs ?? 250;
      const max = this.o.backoff?.maxMs ?? 10_000;
      const delay = ev.code === 1012 && this.attempts === 0 ? 50 : Math.min(max, base * 2 ** this.attempts) * (0.5 + Math.random());
      this.attempts++;
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  private receive(f: Frame): void {
    switch (f.type) {
      case 'welcome':
        this.open = true;
        this.attempts = 0;
        this.connectionId = String(f.connection_id);
        this.o.onState?.('open');
        for (const channel of this.subs.keys()) this.sendSubscribe(channel);
        this.markReady?.();
        this.ready = null;
        this.markReady = null;
        return;
      case 'subscribed': {
        const s = this.subs.get(String(f.channel));
        if (!s) return;
        if (typeof f.position === 'number' && (!s.durable || f.recovered === false)) {
          s.epoch = (f.epoch as string | null) ?? null;
          s.position = f.position;
        }
        if (typeof f.position === 'number') s.durable = true;
        s.handlers.onSubscribed?.(f as never);
        return;
      }
      case 'message': {
        const s = this.subs.get(String(f.channel));
        if (!s) return;
        if (typeof f.position === 'number') {
          if (f.epoch === s.epoch && f.position <= s.position) return; // seen already
          s.epoch = (f.epoch as string | null) ?? null;
          s.position = f.position;
        }
        s.handlers.onMessage({ channel: String(f.channel), epoch: (f.epoch as string | null) ?? null, position: typeof f.position === 'number' ? f.position : null, event: String(f.event), data: (f.data as Record<string, unknown>) ?? {}, at: f.at as string | undefined });
        return;
      }
      case 'reset': {
        const s = this.subs.get(String(f.channel));
        if (!s) return;
        s.epoch = (f.epoch as string | null) ?? null;
        s.position = Number(f.position);
        s.handlers.onReset?.(f as never);
        return;
      }
      case 'reply':
      case 'pong': {
        const w = this.waiting.get(String(f.id));
        this.waiting.delete(String(f.id));
        w?.resolve(f.type === 'reply' ? f.data : f);
        return;
      }
      case 'error':
      case 'unsubscribed': {
        const w = f.id !== undefined ? this.waiting.get(String(f.id)) : undefined;
        if (w) {
          this.waiting.delete(String(f.id));
          w.reject(Object.assign(new Error(String(f.detail)), { code: f.code, kind: f.kind }));
          return;
        }
        const s = typeof f.channel === 'string' ? this.subs.get(f.channel) : f.id !== undefined ? this.subs.get(String(f.id)) : undefined;
        if (s && f.code) {
          if (f.type === 'unsubscribed' || f.id !== undefined) this.subs.delete(String(f.channel ?? f.id));
          s.handlers.onError?.({ code: String(f.code), kind: String(f.kind), detail: String(f.detail) });
        }
        return;
      }
      default:
        return;
    }
  }

  private sendSubscribe(channel: string): void {
    const s = this.subs.get(channel);
    if (!s) return;
    // The channel name doubles as the frame id, so a refusal names the subscription it refuses.
    this.raw({ type: 'subscribe', id: channel, channel, ...(s.durable ? { since: { epoch: s.epoch, position: s.position } } : {}) });
  }

  private raw(frame: Frame): void {
    this.ws?.send(JSON.stringify(frame));
  }
}
