import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/database.ts';
import { isUniqueViolation, readInFlight } from '../db/database.ts';
import { principalKey, type Executor, type RequestRecord } from '../context.ts';
import type { Clock } from '../lib/clock.ts';
import { addSeconds } from '../lib/clock.ts';
import { sha256 } from '../lib/crypto.ts';
import { AppError, invalid, isServerSide, malformed } from '../lib/errors.ts';
import { idempotencyRepository as repo, type KeyRef, type NodeRegistry } from '../modules/idempotency/index.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const KEY_RE = /^[\x21-\x7e]{1,255}$/;
/** Responses are kept this long; a key can be reused after. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/** How long a node may hold a request before a retry may take it over even though the node still beats. */
const LOCK_SECONDS = 60;
const REPLAYED_HEADERS = ['content-type', 'location', 'etag'];

interface Claim {
  ref: KeyRef;
  method: string;
  route: string;
  bodyHash: string;
  /** The row exists (claimed up front, or taken over); otherwise the first checkpoint inserts it. */
  exists: boolean;
  recovery: RequestRecord['recovery'];
  /** The answer was stored inside the business transaction: nothing left for onSend to write. */
  completed: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim: Claim | null;
  }
  interface FastifyContextConfig {
    /**
     * `recoverable`: the handler's workflow writes the key's recovery points and final answer inside its own
     * transactions (through `requestRecord`), so no claim is written up front (one commit fewer) and a retry after
     * a crash resumes the workflow. Default: the key is claimed before the handler and the answer stored after it.
     */
    idempotency?: 'recoverable';
  }
}

const tooEarly = () => new AppError('conflict', 'idempotency_request_in_progress', 'A request with this Idempotency-Key is still being processed; retry shortly', { retryAfterSeconds: 1 });

/**
 * `Idempotency-Key` on POST/PUT/PATCH/DELETE, stored in the database (idempotency_keys):
 *   same key + same body        → the stored response, replayed (header `Idempotent-Replayed: true`)
 *   same key + other body/route → 422 idempotency_key_reused
 *   same key, first still running on a live node → 409 idempotency_request_in_progress (Retry-After: 1)
 *   same key, first died (its node stopped beating, or its lock ran out) → taken over: the workflow resumes from
 *   the recovery point the first attempt committed, so a retry never repeats what already happened.
 * Keys are scoped to the principal (and tenant) that sent them and kept 24 h. 5xx responses are not kept, so the
 * client may retry them. Runs after authentication and validation (preHandler).
 */
export function registerIdempotency(app: FastifyInstance, deps: { db: Db; clock: Clock; nodes: NodeRegistry }): void {
  const { db, clock, nodes } = deps;
  app.decorateRequest('idempotencyClaim', null);

  app.addHook('preHandler', async (req, reply) => {
    if (!STATE_CHANGING.has(req.method)) return;
    const raw = req.headers['idempotency-key'];
    if (raw === undefined) return;
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (typeof key !== 'string' || !KEY_RE.test(key)) throw malformed('invalid_idempotency_key', 'Idempotency-Key must be 1–255 visible ASCII characters');
    if (req.routeOptions.config.idempotent === false) return; // this route's answer holds a one-time secret: never stored

    const p = req.principal;
    // Anonymous shoppers all hold the shop's publishable key: their keys must be unguessable, and are scoped to
    // the address and the client (User-Agent) as well, so one shopper can never replay another's answer.
    if ((p.kind === 'shopper' || p.kind === 'anonymous') && key.length < 16) {
      throw malformed('idempotency_key_too_short', 'Without an account, send an unguessable Idempotency-Key of at least 16 characters (a random UUID)');
    }
    const scope = p.kind === 'shopper' || p.kind === 'anonymous' ? `${principalKey(p, req.ip)}:${sha256(String(req.headers['user-agent'] ?? '')).slice(0, 16)}` : principalKey(p, req.ip);
    const ref: KeyRef = { tenantId: 'tenantId' in p ? p.tenantId : '', principal: scope, key };
    const route = `${req.method} ${req.routeOptions.url ?? req.url}`;
    const bodyHash = sha256(`${req.url}\n${JSON.stringify(req.body ?? null)}`);
    const lazy = req.routeOptions.config.idempotency === 'recoverable';
    const claim: Claim = { ref, method: req.method, route, bodyHash, exists: false, recovery: null, completed: false };
    const now = clock.now();

    for (let attempt = 0; attempt < 3; attempt++) {
      if (!lazy) {
        try {
          await repo.insert(db, newRow(claim, now, nodes.id, 'in_flight'));
          req.idempotencyClaim = { ...claim, exists: true };
          return;
        } catch (e) {
          if (!isUniqueViolation(e)) throw e;
        }
      }
      // A twin's record may be in a group not yet committed: read it as the writer sees it.
      const row = await readInFlight(db, (x) => repo.find(x, ref));
      if (!row) {
        if (!lazy) continue; // deleted in between (a 5xx or expiry): try to claim again
        req.idempotencyClaim = claim;
        return;
      }
      const nowIso = now.toISOString();
      if (row.expires_at <= nowIso) {
        await repo.delete(db, ref, row.created_at);
        continue;
      }
      if (row.route !== route || row.body_hash !== bodyHash) {
        throw invalid('idempotency_key_reused', 'This Idempotency-Key was used with a different request; use a new key for a new request');
      }
      if (row.state === 'done') {
        const headers = JSON.parse(row.response_headers ?? '{}') as Record<string, string>;
        reply.headers(headers).header('idempotent-replayed', 'true');
        return reply.code(row.response_status ?? 200).send(row.response_body ?? '');
      }
      const held = row.locked_by !== null && row.locked_until !== null && row.locked_until > nowIso && (await nodes.alive(row.locked_by));
      if (held) throw tooEarly();
      if (await repo.takeOver(db, ref, row.locked_by, nodes.id, addSeconds(now, LOCK_SECONDS).toISOString())) {
        req.log.info({ idempotency_recovery: row.recovery_point, resource_id: row.resource_id, from_node: row.locked_by }, 'resuming a request whose first attempt did not finish');
        req.idempotencyClaim = { ...claim, exists: true, recovery: row.recovery_point ? { point: row.recovery_point, resourceId: row.resource_id } : null };
        return;
      }
    }
    throw tooEarly();
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const claim = req.idempotencyClaim;
    if (!claim) return payload;
    req.idempotencyClaim = null;
    if (reply.statusCode >= 500) {
      if (claim.exists) await repo.release(db, claim.ref, nodes.id);
      return payload;
    }
    if (claim.completed) return payload;
    const headers: Record<string, string> = {};
    for (const h of REPLAYED_HEADERS) {
      const v = reply.getHeader(h);
      if (v !== undefined) headers[h] = String(v);
    }
    const answer = { status: reply.statusCode, headers: JSON.stringify(headers), body: typeof payload === 'string' ? payload : payload == null ? '' : String(payload) };
    if (claim.exists && (await repo.complete(db, claim.ref, nodes.id, answer))) return payload;
    // A recoverable request that ended before its first checkpoint (a 4xx, or one whose checkpoint rolled back):
    // record its answer, unless another request with the same key holds the row (then this one lost a race and
    // its answer is not the key's).
    try {
      await repo.insert(db, { ...newRow(claim, clock.now(), null, 'done'), response_status: answer.status, response_headers: answer.headers, response_body: answer.body });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
    return payload;
  });

  // A request that died without a response (client gone, crash in a hook) must not pin its key.
  app.addHook('onResponse', async (req) => {
    const claim = req.idempotencyClaim;
    if (claim?.exists) await repo.release(db, claim.ref, nodes.id);
  });

  function newRow(c: Claim, now: Date, node: string | null, state: 'in_flight' | 'done') {
    return {
      tenant_id: c.ref.tenantId,
      principal: c.ref.principal,
      key: c.ref.key,
      method: c.method,
      route: c.route,
      body_hash: c.bodyHash,
      state,
      response_status: null,
      response_headers: null,
      response_body: null,
      created_at: now.toISOString(),
      expires_at: addSeconds(now, IDEMPOTENCY_TTL_SECONDS).toISOString(),
      recovery_point: null,
      resource_id: null,
      locked_by: node,
      locked_until: node ? addSeconds(now, LOCK_SECONDS).toISOString() : null,
    };
  }

  /**
   * For a recoverable route whose workflow failed before it wrote its first recovery point: if another request
   * with the same key holds the key now (the same request sent twice at once), that is the answer — 409 in
   * progress — rather than whatever the loser ran into (a spent cart).
   */
  app.decorate('idempotencyRace', async (req: FastifyRequest, reply: FastifyReply, err: unknown): Promise<unknown> => {
    const claim = req.idempotencyClaim;
    if (!claim || claim.exists || !(err instanceof AppError) || isServerSide(err)) return err;
    const row = await readInFlight(db, (x) => repo.find(x, claim.ref));
    if (!row || row.body_hash !== claim.bodyHash || row.route !== claim.route) return err;
    if (row.state === 'in_flight') return tooEarly();
    // The twin finished first: this request's answer is the one stored for the key.
    req.idempotencyClaim = null;
    reply.headers(JSON.parse(row.response_headers ?? '{}') as Record<string, string>).header('idempotent-replayed', 'true');
    return reply.code(row.response_status ?? 200).send(row.response_body ?? '');
  });

  /**
   * The request's record for a workflow (or undefined without an Idempotency-Key): recovery points and the final
   * answer are written in the workflow's own transactions. `answer` is how the route will reply to the result.
   */
  app.decorate('requestRecord', (req: FastifyRequest, reply: FastifyReply, answer: { status: number; headers?: (result: never) => Record<string, string> }): RequestRecord | undefined => {
    const claim = req.idempotencyClaim;
    if (!claim) return undefined;
    return {
      recovery: claim.recovery,
      async checkpoint(trx: Executor, point: string, resourceId: string | null) {
        if (claim.exists) {
          if (!(await repo.checkpoint(trx, claim.ref, nodes.id, point, resourceId))) throw tooEarly(); // taken over meanwhile
          return;
        }
        try {
          await repo.insert(trx, { ...newRow(claim, clock.now(), nodes.id, 'in_flight'), recovery_point: point, resource_id: resourceId });
        } catch (e) {
          // The same request, sent twice at once: the other one got here first; this transaction rolls back.
          if (isUniqueViolation(e)) throw tooEarly();
          throw e;
        }
        claim.exists = true;
      },
      async complete(trx: Executor, result: unknown) {
        reply.code(answer.status);
        const body = String(reply.serialize(result));
        const headers = JSON.stringify({ 'content-type': 'application/json; charset=utf-8', ...(answer.headers?.(result as never) ?? {}) });
        if (claim.exists) {
          if (!(await repo.complete(trx, claim.ref, nodes.id, { status: answer.status, headers, body }))) throw tooEarly();
        } else {
          try {
            await repo.insert(trx, { ...newRow(claim, clock.now(), null, 'done'), response_status: answer.status, response_headers: headers, response_body: body });
          } catch (e) {
            if (isUniqueViolation(e)) throw tooEarly();
            throw e;
          }
        }
        claim.completed = true;
      },
    };
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    requestRecord(req: FastifyRequest, reply: FastifyReply, answer: { status: number; headers?: (result: never) => Record<string, string> }): RequestRecord | undefined;
    /** The error to throw — or, when the same request finished first under the same key, `reply` with its answer sent. */
    idempotencyRace(req: FastifyRequest, reply: FastifyReply, err: unknown): Promise<unknown>;
  }
}

/** Deletes expired keys; run periodically by the server. */
export async function purgeExpiredIdempotencyKeys(db: Db, clock: Clock): Promise<number> {
  return repo.purgeExpired(db, clock.now().toISOString());
}
