import type { Executor } from '../../context.ts';
import type { SessionsTable } from '../../db/schema.ts';
import { prepared } from '../../db/database.ts';

/**
 * Sessions (one per login; a refresh-token family) and refresh tokens. Every query is scoped by tenant_id.
 * `findUserPrincipal`/`findCustomerPrincipal`/`findApiKey` are the per-request look-ups of authentication:
 * one indexed read that joins the identity rows it needs (tenant status, role, session), read-only.
 */
export const authRepository = {
  async insertSession(db: Executor, row: SessionsTable): Promise<void> {
    await db.insertInto('sessions').values(row).execute();
  },


  async revokeSession(db: Executor, tenantId: string, id: string, reason: string, at: string): Promise<void> {
    await db
      .updateTable('sessions')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  },

  async revokeSessionsOf(db: Executor, tenantId: string, subjectId: string, reason: string, at: string): Promise<void> {
    await db
      .updateTable('sessions')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('tenant_id', '=', tenantId)
      .where('subject_id', '=', subjectId)
      .where('revoked_at', 'is', null)
      .execute();
  },

  async insertRefreshToken(db: Executor, row: { tenant_id: string; id: string; session_id: string; token_hash: string; created_at: string; expires_at: string }): Promise<void> {
    await db.insertInto('refresh_tokens').values({ ...row, used_at: null }).execute();
  },

  async findRefreshToken(db: Executor, tenantId: string, hash: string) {
    return db
      .selectFrom('refresh_tokens as rt')
      .innerJoin('sessions as s', (j) => j.onRef('s.tenant_id', '=', 'rt.tenant_id').onRef('s.id', '=', 'rt.session_id'))
      .innerJoin('tenants as t', 't.id', 'rt.tenant_id')
      .select([
        'rt.id',
        'rt.session_id',
        'rt.expires_at',
        'rt.used_at',
        's.subject_type',
        's.subject_id',
        's.revoked_at',
        's.expires_at as session_expires_at',
        't.status as tenant_status',
      ])
      .where('rt.tenant_id', '=', tenantId)
      .where('rt.token_hash', '=', hash)
      .executeTakeFirst();
  },

  /** Marks a refresh token spent. False when it was already spent: a concurrent or replayed use. */
  async spendRefreshToken(db: Executor, tenantId: string, id: string, at: string): Promise<boolean> {
    const r = await db
      .updateTable('refresh_tokens')
      .set({ used_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  async findUserPrincipal(db: Executor, tenantId: string, userId: string, sessionId: string) {
    return db
      .selectFrom('users as u')
      .innerJoin('tenants as t', 't.id', 'u.tenant_id')
      .innerJoin('roles as r', (j) => j.onRef('r.tenant_id', '=', 'u.tenant_id').onRef('r.id', '=', 'u.role_id'))
      .innerJoin('sessions as s', (j) => j.onRef('s.tenant_id', '=', 'u.tenant_id').onRef('s.subject_id', '=', 'u.id'))
      .select(['u.id', 'u.status', 'r.system_key', 'r.permissions', 't.status as tenant_status', 's.revoked_at', 's.expires_at'])
      .where('u.tenant_id', '=', tenantId)
      .where('u.id', '=', userId)
      .where('s.id', '=', sessionId)
      .executeTakeFirst();
  },

  async findCustomerPrincipal(db: Executor, tenantId: string, customerId: string, sessionId: string) {
    return db
      .selectFrom('customers as c')
      .innerJoin('tenants as t', 't.id', 'c.tenant_id')
      .innerJoin('sessions as s', (j) => j.onRef('s.tenant_id', '=', 'c.tenant_id').onRef('s.subject_id', '=', 'c.id'))
      .select(['c.id', 'c.status', 't.status as tenant_status', 's.revoked_at', 's.expires_at'])
      .where('c.tenant_id', '=', tenantId)
      .where('c.id', '=', customerId)
      .where('s.id', '=', sessionId)
      .executeTakeFirst();
  },

  /** An active user's role, for rights that outlive a request (a schedule runs with its creator's). */
  async activeUserRole(db: Executor, tenantId: string, userId: string) {
    return db
      .selectFrom('users as u')
      .innerJoin('roles as r', (j) => j.onRef('r.tenant_id', '=', 'u.tenant_id').onRef('r.id', '=', 'u.role_id'))
      .select(['r.system_key', 'r.permissions'])
      .where('u.tenant_id', '=', tenantId)
      .where('u.id', '=', userId)
      .where('u.status', '=', 'active')
      .executeTakeFirst();
  },
  async liveSecretKey(db: Executor, tenantId: string, keyId: string) {
    return db.selectFrom('api_keys').select(['permissions']).where('tenant_id', '=', tenantId).where('id', '=', keyId).where('type', '=', 'secret').where('revoked_at', 'is', null).executeTakeFirst();
  },

  /** Every request with a key looks it up: compiled once. */
  async findApiKey(db: Executor, tenantId: string, hash: string) {
    return (await apiKeyByHash(db, tenantId, hash))[0];
  },
};

const apiKeyByHash = prepared((db: Executor, tenantId: string, hash: string) =>
  db
    .selectFrom('api_keys as k')
    .innerJoin('tenants as t', 't.id', 'k.tenant_id')
    .select(['k.id', 'k.type', 'k.permissions', 'k.revoked_at', 't.status as tenant_status'])
    .where('k.tenant_id', '=', tenantId)
    .where('k.token_hash', '=', hash),
);

