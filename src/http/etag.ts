import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../lib/errors.ts';

/** Weak ETag of a versioned resource: `W/"<id>.<version>"`. */
export function etagOf(id: string, version: number): string {
  return `W/"${id}.${version}"`;
}

export function setEtag(reply: FastifyReply, id: string, version: number): void {
  reply.header('etag', etagOf(id, version));
}

/** The version an `If-Match` header asks for, or null when there is none. A malformed one is a 412. */
export function ifMatchVersion(req: FastifyRequest, id: string): number | null {
  const h = req.headers['if-match'];
  if (h === undefined || h === '*') return null;
  const m = /^(?:W\/)?"([^"]+)\.(\d+)"$/.exec(String(h).trim());
  if (!m || m[1] !== id) throw new AppError(412, 'version_mismatch', 'If-Match does not name the current version of this resource');
  return Number(m[2]);
}
