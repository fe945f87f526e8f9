import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../lib/errors.ts';

/**
 * ETags.
 * - Versioned resources (staff edit them): strong `"<id>.<version>"`, or `"<id>.<version>.<fingerprint>"` when
 *   the representation also shows data that changes without an edit (stock levels). Send it back in `If-Match`:
 *   the id and version must be current (the fingerprint is ignored, so a sale does not block an edit).
 * - Any GET: `If-None-Match` with the current ETag answers 304 Not Modified with no body.
 */
export function etagOf(id: string, version: number, fingerprint?: string): string {
  return `"${id}.${version}${fingerprint ? `.${fingerprint}` : ''}"`;
}

export function fingerprint(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('base64url').slice(0, 12);
}

export function setEtag(reply: FastifyReply, id: string, version: number, fp?: string): void {
  reply.header('etag', etagOf(id, version, fp));
}

/** The version an `If-Match` header asks for, or null when there is none. One that names another resource is a 412. */
export function ifMatchVersion(req: FastifyRequest, id: string): number | null {
  const h = req.headers['if-match'];
  if (h === undefined || h === '*') return null;
  const m = /^(?:W\/)?"([^"]+?)\.(\d+)(?:\.[A-Za-z0-9_-]+)?"$/.exec(String(h).trim());
  if (!m || m[1] !== id) throw new AppError('precondition_failed', 'version_mismatch', 'If-Match does not name the current version of this resource');
  return Number(m[2]);
}

/** Sends `body` with `etag`, or 304 when the client's If-None-Match already has it. */
export function sendWithEtag<T>(req: FastifyRequest, reply: FastifyReply, etag: string, body: T): T | FastifyReply {
  reply.header('etag', etag);
  const inm = req.headers['if-none-match'];
  if (inm) {
    const strip = (t: string) => t.trim().replace(/^W\//, '');
    if (inm.trim() === '*' || inm.split(',').some((t) => strip(t) === strip(etag))) return reply.code(304).send();
  }
  return body;
}

/** A weak ETag from the content, for lists and other unversioned reads. */
export function contentEtag(body: unknown): string {
  return `W/"${fingerprint(body)}"`;
}
