import type { Db } from '../db/database.ts';
import type { Logger } from '../lib/log.ts';
import { channelHead, messagesAfter, type ChannelMessage } from '../modules/realtime/index.ts';

/** Where a subscriber's frames go (a connection), and what it is called there. */
export interface Listener {
  readonly channelName: string;
  deliver(m: ChannelMessage): void;
  reset(epoch: string | null, position: number, reason: string): void;
}

/**
 * One subscriber of a durable channel: it receives each message once, in position order. It starts at the
 * position it recovered to (or the channel's head) and reads from the history whatever the node delivered
 * before it joined — or what reached it with a gap.
 */
export class Subscription {
  position: number;
  epoch: string | null;
  private catching = false;
  private queue: ChannelMessage[] = [];
  readonly feed: Feed;
  private readonly listener: Listener;

  constructor(feed: Feed, listener: Listener, epoch: string | null, position: number) {
    this.feed = feed;
    this.listener = listener;
    this.epoch = epoch;
    this.position = position;
  }

  get name(): string {
    return this.listener.channelName;
  }

  offer(m: ChannelMessage): void {
    if (this.catching) {
      this.queue.push(m);
      return;
    }
    if (this.epoch !== null && m.epoch !== this.epoch) {
      // The channel's history was replaced: the client must refetch; it goes on from here.
      this.epoch = m.epoch;
      this.position = m.position;
      this.listener.reset(m.epoch, m.position, 'epoch_changed');
      return;
    }
    if (m.position <= this.position) return;
    if (m.position === this.position + 1) {
      this.epoch = m.epoch;
      this.position = m.position;
      this.listener.deliver(m);
      return;
    }
    this.queue.push(m);
    void this.catchUp(m.position - 1);
  }

  /** Reads (position, upTo] from the history and delivers it, then what queued meanwhile. */
  async catchUp(upTo: number): Promise<void> {
    if (this.catching || upTo <= this.position) return;
    this.catching = true;
    try {
      const missed = await messagesAfter(this.feed.db, this.feed.tenantId, this.feed.key, this.epoch ?? this.feed.epoch, this.position, upTo);
      if (missed.length === 0 || (missed[0] as ChannelMessage).position !== this.position + 1) {
        this.position = upTo;
        this.listener.reset(this.epoch ?? this.feed.epoch, upTo, 'history_gone');
      } else {
        for (const m of missed) {
          if (m.position !== this.position + 1) break;
          this.epoch = m.epoch;
          this.position = m.position;
          this.listener.deliver(m);
        }
      }
    } catch (err) {
      this.feed.log.warn({ err, channel: this.feed.key }, 'realtime catch-up failed; the next message retries it');
    } finally {
      this.catching = false;
      const q = this.queue.sort((a, b) => a.position - b.position);
      this.queue = [];
      for (const m of q) this.offer(m);
    }
  }
}

/**
 * A node's view of one durable channel of one shop while someone here listens to it: the last position it has
 * passed on, and its subscribers. Messages arrive from the bus (at once) or from the history (a gap, the poll);
 * each is passed on once, in order — a gap is filled from the history before anything after it.
 */
export class Feed {
  readonly db: Db;
  readonly log: Logger;
  readonly tenantId: string;
  readonly key: string;
  epoch: string | null = null;
  position = 0;
  readonly subs = new Set<Subscription>();
  /** Joins still reading the history: the feed is kept while any is in flight. */
  joining = 0;
  private loaded = false;
  private filling = false;
  private readonly pending = new Map<number, ChannelMessage>();
  readonly ready: Promise<void>;

  constructor(db: Db, log: Logger, tenantId: string, key: string) {
    this.db = db;
    this.log = log;
    this.tenantId = tenantId;
    this.key = key;
    this.ready = channelHead(db, tenantId, key).then((h) => {
      this.epoch = h.epoch;
      this.position = h.position;
      this.loaded = true;
      this.drain();
    });
  }

  offer(m: ChannelMessage): void {
    if (!this.loaded || this.filling) {
      if (m.position > this.position) this.pending.set(m.position, m);
      return;
    }
    if (this.epoch !== null && m.epoch !== this.epoch) {
      this.epoch = m.epoch;
      this.position = m.position - 1;
    }
    if (m.position <= this.position) return;
    this.pending.set(m.position, m);
    this.drain();
  }

  /** The channel's head moved to `position` (the poll saw it): read what this node has not passed on. */
  advanceTo(epoch: string, position: number): void {
    if (!this.loaded) return;
    if (this.epoch !== epoch) {
      this.epoch = epoch;
      this.position = Math.min(this.position, position);
    }
    if (position > this.position) void this.fill(position);
  }

  private drain(): void {
    for (;;) {
      const next = this.pending.get(this.position + 1);
      if (!next) break;
      this.pending.delete(next.position);
      this.pass(next);
    }
    for (const p of this.pending.keys()) if (p <= this.position) this.pending.delete(p);
    if (this.pending.size > 0) void this.fill(Math.max(...this.pending.keys()));
  }

  private pass(m: ChannelMessage): void {
    this.epoch = m.epoch;
    this.position = m.position;
    for (const s of this.subs) s.offer(m);
  }

  private async fill(upTo: number): Promise<void> {
    if (this.filling) return;
    this.filling = true;
    try {
      const missed = await messagesAfter(this.db, this.tenantId, this.key, this.epoch, this.position, upTo);
      for (const m of missed) if (m.position === this.position + 1) this.pass(m);
      if (this.position < upTo && !this.pending.has(this.position + 1)) {
        // Not in the history (pruned): skip the gap; each subscriber notices and is told to refetch.
        const next = Math.min(upTo, ...this.pending.keys()) - (this.pending.size > 0 ? 1 : 0);
        this.position = Math.max(this.position, next);
      }
    } catch (err) {
      this.log.warn({ err, channel: this.key }, 'realtime gap fill failed; the poll retries it');
    } finally {
      this.filling = false;
      this.drain();
    }
  }
}
