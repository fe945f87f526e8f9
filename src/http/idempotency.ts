import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/database.ts';
import { isUniqueViolation } from '../db/database.ts';
import { principalKey } from '../context.ts';
import type { Clock } from '../lib/clock.ts';
import { addSeconds } from '../lib/clock.ts';
import { sha256 } from '../lib/crypto.ts';
import { AppError, badRequest, conflict, unprocessable } from '../lib/errors.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEY_RE = /^[\x21-\x7e]{1,255}$/;
/** Responses are kept this long; a key can be reused after. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/** A request still "in flight" after this long died with its process: a retry may take it over. */
const ABANDONED_AFTER_SECONDS = 60;
const REPLAYED_HEADERS = ['content-type', 'location', 'etag'];

interface Claim {
  tenantId: string;
  principal: string;
  key: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim: Claim | null;
  }
}

/**
 * `Idempotency-Key` on POST/PUT/PATCH/DELETE, stored in the database (idempotency_keys):
 *   same key + same body      → the stored response, replayed (header `Idempotent-Replayed: true`)
 *   same key + other body/route → 422 idempotency_key_reused
 *   same key, first still running → 409 idempotency_request_in_progress
 * Keys are scoped to the principal (and tenant) that sent them and kept 24 h. 5xx responses are not
 * kept, so the client may retry them. Runs after authentication and validation (preHandler).
 */
export function registerIdempotency(app: FastifyInstance, deps: { db: Db; clock: Clock }): void {
  const { db, clock } = deps;
  app.decorateRequest('idempotencyClaim', null);

  app.addHook('preHandler', async (req, reply) => {
    if (!STATE_CHANGING.has(req.method)) return;
    const raw = req.headers['idempotency-key'];
    if (raw === undefined) return;
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (typeof key !== 'string' || !KEY_RE.test(key)) throw badRequest('invalid_idempotency_key', 'Idempotency-Key must be 1–255 visible ASCII characters');
    if (req.routeOptions.config.idempotent === false) return; // this route's answer holds a one-time secret: never stored

    const p = req.principal;
    const claim: Claim = { tenantId: 'tenantId' in p ? p.tenantId : '', principal: principalKey(p, req.ip), key };
    const route = `${req.method} ${req.routeOptions.url ?? req.url}`;
    const bodyHash = sha256(`${req.url}\n${JSON.stringify(req.body ?? null)}`);
    const now = clock.now();

    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await db
          .insertInto('idempotency_keys')
          .values({
            tenant_id: claim.tenantId,
            principal: claim.principal,
            key,
            method: req.method,
            route,
            body_hash: bodyHash,
            state: 'in_flight',
            response_status: null,
            response_headers: null,
            response_body: null,
            created_at: now.toISOString(),
            expires_at: addSeconds(now, IDEMPOTENCY_TTL_SECONDS).toISOString(),
          })
          .execute();
        req.idempotencyClaim = claim;
        return;
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
      }
      const row = await db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('tenant_id', '=', claim.tenantId)
        .where('principal', '=', claim.principal)
        .where('key', '=', key)
        .executeTakeFirst();
      if (!row) continue; // deleted in between (a 5xx or expiry): try to claim again
      const nowIso = now.toISOString();
      const abandoned = row.state === 'in_flight' && addSeconds(new Date(row.created_at), ABANDONED_AFTER_SECONDS).toISOString() <= nowIso;
      if (row.expires_at <= nowIso || abandoned) {
        await deleteClaim(db, claim, row.created_at);
        continue;
      }
      if (row.route !== route || row.body_hash !== bodyHash) {
        throw unprocessable('idempotency_key_reused', 'This Idempotency-Key was used with a different request; use a new key for a new request');
      }
      if (row.state === 'in_flight') throw conflict('idempotency_request_in_progress', 'A request with this Idempotency-Key is still being processed; retry shortly');
      const headers = JSON.parse(row.response_headers ?? '{}') as Record<string, string>;
      reply.headers(headers).header('idempotent-replayed', 'true');
      return reply.code(row.response_status ?? 200).send(row.response_body ?? '');
    }
    throw new AppError(409, 'idempotency_request_in_progress', 'Could not claim the Idempotency-Key; retry shortly');
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const claim = req.idempotencyClaim;
    if (!claim) return payload;
    req.idempotencyClaim = null;
    if (reply.statusCode >= 500) {
      await deleteClaim(db, claim);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const h of REPLAYED_HEADERS) {
      const v = reply.getHeader(h);
      if (v !== undefined) headers[h] = String(v);
    }
    await db
      .updateTable('idempotency_keys')
      .set({ state: 'done', response_status: reply.statusCode, response_headers: JSON.stringify(headers), response_body: typeof payload === 'string' ? payload : payload == null ? '' : String(payload) })
      .where('tenant_id', '=', claim.tenantId)
      .where('principal', '=', claim.principal)
      .where('key', '=', claim.key)
      .execute();
    return payload;
  });

  // A request that died without a response (client gone, crash in a hook) must not pin its key.
  app.addHook('onResponse', async (req) => {
    if (req.idempotencyClaim) await deleteClaim(db, req.idempotencyClaim);
  });
}

async function deleteClaim(db: Db, c: Claim, createdAt?: string): Promise<void> {
  let q = db.deleteFrom('idempotency_keys').where('tenant_id', '=', c.tenantId).where('principal', '=', c.principal).where('key', '=', c.key);
  if (createdAt) q = q.where('created_at', '=', createdAt);
  await q.execute();
}

/** Deletes expired keys; run periodically by the server. */
export async function purgeExpiredIdempotencyKeys(db: Db, clock: Clock): Promise<number> {
  const r = await db.deleteFrom('idempotency_keys').where('expires_at', '<=', clock.now().toISOString()).executeTakeFirst();
  return Number(r.numDeletedRows);
}


