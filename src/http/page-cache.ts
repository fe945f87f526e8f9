import type { FastifyReply, FastifyRequest } from 'fastify';
import { fingerprint } from './etag.ts';

interface Entry {
  version: number;
  etag: string;
  body: string;
}

/**
 * Serialized GET responses, per process, keyed by shop + audience + URL and stamped with the shop's change version
 * (src/modules/events/versions.ts). An entry is served only while the version is unchanged, so a write on any
 * node makes every node recompute at its next request. Least-recently-used entries go first.
 */
export class PageCache {
  private readonly entries = new Map<string, Entry>();
  private readonly max: number;
  constructor(max = 1000) {
    this.max = max;
  }

  get(key: string, version: number): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    if (e.version !== version) return undefined;
    this.entries.set(key, e);
    return e;
  }

  set(key: string, version: number, body: string): Entry {
    const e = { version, etag: `W/"${version}-${fingerprint(body)}"`, body };
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, e);
    return e;
  }
}

/** Sends a cached (already serialized) body, or 304 when If-None-Match has its ETag. */
export function sendEntry(req: FastifyRequest, reply: FastifyReply, e: { etag: string; body: string }): FastifyReply {
  reply.header('etag', e.etag);
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === e.etag)) return reply.code(304).send();
  return reply.type('application/json; charset=utf-8').send(e.body);
}
