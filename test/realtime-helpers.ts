import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { RealtimeClient, type ChannelMessage, type Credentials } from '../client/realtime.ts';
import type { Db } from '../src/db/database.ts';
import { EVENT_CONSUMERS } from '../src/background.ts';
import { systemClock } from '../src/lib/clock.ts';
import { relayCommitted } from '../src/realtime/relay.ts';
import { dispatchEvents } from '../src/workflows/dispatch-events.ts';

/** Listens on a loopback port; the ws:// URL of its realtime endpoint. */
export async function listen(app: FastifyInstance): Promise<{ ws: string; http: string }> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return { ws: `ws://127.0.0.1:${port}/api/realtime`, http: `http://127.0.0.1:${port}` };
}

/** Runs the outbox publisher until nothing is left, relaying to the app's bus as the pump does. */
export async function publish(db: Db, app: FastifyInstance): Promise<void> {
  while ((await dispatchEvents(db, systemClock, EVENT_CONSUMERS, undefined, 100, relayCommitted(db, app.realtime.bus))) > 0);
}

/** What a test client received, channel by channel, with a way to wait for more. */
export class Inbox {
  readonly got: ChannelMessage[] = [];
  readonly resets: { channel: string; reason: string; position: number }[] = [];
  readonly errors: { channel: string; code: string }[] = [];
  private waiters: (() => void)[] = [];
  push(m: ChannelMessage) {
    this.got.push(m);
    for (const w of this.waiters.splice(0)) w();
  }
  of(channel: string, event?: string) {
    return this.got.filter((m) => m.channel === channel && (event === undefined || m.event === event));
  }
  handlers(channel: string) {
    return {
      onMessage: (m: ChannelMessage) => this.push(m),
      onReset: (r: { channel: string; reason: string; position: number }) => {
        this.resets.push(r);
        this.push({ channel: r.channel, epoch: null, position: null, event: 'reset', data: {} });
      },
      onError: (e: { code: string }) => {
        this.errors.push({ channel, code: e.code });
        this.push({ channel, epoch: null, position: null, event: 'error', data: { code: e.code } });
      },
    };
  }
  /** Waits until `ok` holds (re-checked on every message and every 50 ms). */
  async until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}; got ${JSON.stringify(this.got.map((m) => [m.channel, m.event, m.position]))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
}

export function client(url: string, creds: Credentials, onClose?: (code: number, reason: string) => void): RealtimeClient {
  return new RealtimeClient({ url, auth: () => creds, backoff: { initialMs: 100, maxMs: 500 }, onState: (s, d) => s === 'closed' && onClose?.(d?.code ?? 0, d?.reason ?? '') });
}

/** A raw WebSocket for protocol tests: frames in, close code out. */
export async function rawSocket(url: string, headers?: Record<string, string>) {
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(url, { headers });
  const frames: Record<string, unknown>[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  const next = async (type: string, ms = 5000) => {
    const end = Date.now() + ms;
    for (;;) {
      const i = frames.findIndex((f) => f.type === type);
      if (i >= 0) return frames.splice(i, 1)[0] as Record<string, unknown>;
      if (Date.now() > end) assert.fail(`no ${type} frame; got ${JSON.stringify(frames)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { ws, frames, closed, next, send: (f: object) => ws.send(JSON.stringify(f)) };
}
