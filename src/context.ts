import type { Logger } from './lib/log.ts';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from './lib/clock.ts';
import type { Database } from './db/schema.ts';
import type { Permission } from './policy/permissions.ts';

export type Executor = Kysely<Database> | Transaction<Database>;

/** Who is calling. Told apart by credential, never by path. */
export type Principal =
  | { kind: 'user'; tenantId: string; userId: string; sessionId: string; roleKey: string | null; permissions: ReadonlySet<Permission> }
  | { kind: 'api_key'; tenantId: string; keyId: string; permissions: ReadonlySet<Permission> }
  | { kind: 'customer'; tenantId: string; customerId: string; sessionId: string }
  | { kind: 'shopper'; tenantId: string; keyId: string }
  | { kind: 'platform' }
  | { kind: 'anonymous' }
  /** Background work inside one shop (expiring reservations, provider webhooks). Never from a credential. */
  | { kind: 'system'; tenantId: string };

export type TenantPrincipal = Extract<Principal, { tenantId: string }>;

/** The first argument of every service call that acts inside one shop. */
export interface Ctx {
  tenantId: string;
  principal: TenantPrincipal;
  db: Executor;
  clock: Clock;
  log: Logger;
}

/** A stable string naming the principal, for rate limits, idempotency and audit. */
export function principalKey(p: Principal, ip: string): string {
  switch (p.kind) {
    case 'shopper':
      // Every anonymous shopper of a shop uses the same publishable key: tell them apart by address.
      return `${p.keyId}:${ip}`;
    case 'platform':
      return 'platform';
    case 'anonymous':
      return `ip:${ip}`;
    default:
      return actorOf(p);
  }
}

export function hasPermission(p: Principal, perm: Permission): boolean {
  return (p.kind === 'user' || p.kind === 'api_key') && p.permissions.has(perm);
}

/** Who did it, for ledgers and event logs: the user, key or customer id, or "system". */
export function actorOf(p: TenantPrincipal): string {
  switch (p.kind) {
    case 'user':
      return p.userId;
    case 'api_key':
      return p.keyId;
    case 'customer':
      return p.customerId;
    case 'shopper':
      return p.keyId;
    case 'system':
      return 'system';
  }
}

/**
 * A durable record of one client request (an `Idempotency-Key`), advanced inside the business transactions so
 * that a retry after a crash resumes where the first attempt got to — never a second order — and, once the
 * request is done, gets the very answer the first attempt gave. Transports implement it; workflows only call it.
 */
export interface RequestRecord {
  /** Where an earlier attempt of this request got to; null on the first attempt. */
  readonly recovery: { point: string; resourceId: string | null } | null;
  /** Saves a recovery point in the caller's transaction (it commits with the business write or not at all). */
  checkpoint(db: Executor, point: string, resourceId: string | null): Promise<void>;
  /** Stores the final answer in the caller's transaction: the request is done. */
  complete(db: Executor, result: unknown): Promise<void>;
}
