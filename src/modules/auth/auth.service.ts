import type { Db } from '../../db/database.ts';
import type { Executor, Principal } from '../../context.ts';
import { addSeconds, type Clock } from '../../lib/clock.ts';
import { AppError, unauthenticated } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { findCustomerCredentials } from '../customers/index.ts';
import { findUserCredentials, recordLogin } from '../staff/index.ts';
import { findTenantBySlug } from '../tenants/index.ts';
import { authRepository as repo } from './auth.repository.ts';
import { mintCredential, parseCredential } from '../../lib/credentials.ts';
import { verifyPassword } from '../../lib/passwords.ts';
import { parsePermissions, rolePermissions, type Permission } from '../../policy/permissions.ts';
import type { LoginThrottle } from './throttle.ts';
import type { TokenService } from './tokens.ts';

export interface TokenPair {
  token_type: 'Bearer';
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_at: string;
}

const invalidCredentials = () => unauthenticated('invalid_credentials', 'Email or password is wrong');
const invalidToken = () => unauthenticated('invalid_token', 'The access token is not valid');
const tenantSuspended = () => new AppError('forbidden', 'tenant_suspended', 'This shop is suspended; contact the platform operator');

export interface AuthDeps {
  db: Db;
  clock: Clock;
  tokens: TokenService;
  throttle: LoginThrottle;
  refreshTtlSeconds: number;
}

/**
 * How long a node trusts a publishable key it looked up: revoking one (or suspending its shop) takes effect on every
 * node within this time. Publishable keys only read the storefront; secret keys and tokens are checked every time.
 */
export const PUBLISHABLE_KEY_TTL_MS = 1000;
const PUBLISHABLE_CACHE_MAX = 10_000;

export class AuthService {
  private readonly d: AuthDeps;
  private readonly shoppers = new Map<string, { principal: Principal; until: number }>();
  constructor(deps: AuthDeps) {
    this.d = deps;
  }

  /** Staff log in to one shop, named by its slug. Failures never say whether the shop or account exists. */
  async loginStaff(input: { shop: string; email: string; password: string }, ip: string): Promise<TokenPair> {
    const { db } = this.d;
    const tenant = await findTenantBySlug(db, input.shop.trim().toLowerCase());
    const account = `staff:${tenant?.id ?? input.shop}:${input.email.trim().toLowerCase()}`;
    await this.d.throttle.check(account, ip);
    const user = tenant ? await findUserCredentials(db, tenant.id, input.email) : undefined;
    const ok = await verifyPassword(user?.password_hash ?? null, input.password);
    if (!tenant || !user || !ok) {
      await this.d.throttle.fail(account, ip);
      throw invalidCredentials();
    }
    await this.d.throttle.succeed(account, ip);
    if (tenant.status !== 'active') throw tenantSuspended();
    if (user.status !== 'active') throw new AppError('forbidden', 'account_disabled', 'This account is disabled');
    const pair = await this.startSession(db, tenant.id, 'user', user.id);
    await recordLogin(db, tenant.id, user.id, this.d.clock.now().toISOString());
    return pair;
  }

  /** Customers log in to the shop whose publishable key they present. */
  async loginCustomer(tenantId: string, input: { email: string; password: string }, ip: string): Promise<{ tokens: TokenPair; customerId: string }> {
    const { db } = this.d;
    const account = `customer:${tenantId}:${input.email.trim().toLowerCase()}`;
    await this.d.throttle.check(account, ip);
    const c = await findCustomerCredentials(db, tenantId, input.email);
    const ok = await verifyPassword(c?.password_hash ?? null, input.password);
    if (!c || !ok) {
      await this.d.throttle.fail(account, ip);
      throw invalidCredentials();
    }
    await this.d.throttle.succeed(account, ip);
    if (c.status !== 'active') throw new AppError('forbidden', 'account_disabled', 'This account is disabled');
    return { tokens: await this.startSession(db, tenantId, 'customer', c.id), customerId: c.id };
  }

  /** A new session (refresh-token family) with its first refresh token and an access token. */
  async startSession(db: Executor, tenantId: string, subjectType: 'user' | 'customer', subjectId: string): Promise<TokenPair> {
    const now = this.d.clock.now();
    const sessionId = newId('session');
    const expiresAt = addSeconds(now, this.d.refreshTtlSeconds).toISOString();
    await repo.insertSession(db, { tenant_id: tenantId, id: sessionId, subject_type: subjectType, subject_id: subjectId, created_at: now.toISOString(), expires_at: expiresAt, revoked_at: null, revoked_reason: null });
    return this.issue(db, tenantId, sessionId, subjectType, subjectId, expiresAt);
  }

  private async issue(db: Executor, tenantId: string, sessionId: string, subjectType: 'user' | 'customer', subjectId: string, sessionExpiresAt: string): Promise<TokenPair> {
    const now = this.d.clock.now();
    const rt = mintCredential('rt', tenantId);
    await repo.insertRefreshToken(db, { tenant_id: tenantId, id: newId('refreshToken'), session_id: sessionId, token_hash: rt.hash, created_at: now.toISOString(), expires_at: sessionExpiresAt });
    const access = await this.d.tokens.sign({ sub: subjectId, tid: tenantId, sid: sessionId, typ: subjectType }, now);
    return { token_type: 'Bearer', access_token: access, expires_in: this.d.tokens.ttlSeconds, refresh_token: rt.token, refresh_expires_at: sessionExpiresAt };
  }

  /**
   * Rotates a refresh token: the presented one is spent, a new one is issued in the same family.
   * Presenting a spent token again means it leaked (or a client is confused): the whole family is revoked.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const { db } = this.d;
    const parsed = parseCredential(refreshToken);
    if (!parsed || parsed.prefix !== 'rt') throw unauthenticated('invalid_refresh_token', 'The refresh token is invalid');
    const now = this.d.clock.now().toISOString();
    return db.transaction().execute(async (trx) => {
      const row = await repo.findRefreshToken(trx, parsed.tenantId, parsed.hash);
      if (!row) throw unauthenticated('invalid_refresh_token', 'The refresh token is invalid');
      if (row.tenant_status !== 'active') throw tenantSuspended();
      if (row.revoked_at !== null) throw unauthenticated('session_revoked', 'This session has ended; log in again');
      if (row.used_at !== null || !(await repo.spendRefreshToken(trx, parsed.tenantId, row.id, now))) throw new ReuseDetected();
      if (row.expires_at <= now || row.session_expires_at <= now) throw unauthenticated('session_expired', 'This session has expired; log in again');
      // The account may have been disabled or deleted since.
      const alive =
        row.subject_type === 'user'
          ? await repo.findUserPrincipal(trx, parsed.tenantId, row.subject_id, row.session_id)
          : await repo.findCustomerPrincipal(trx, parsed.tenantId, row.subject_id, row.session_id);
      if (!alive || alive.status !== 'active') throw unauthenticated('session_revoked', 'This session has ended; log in again');
      return this.issue(trx, parsed.tenantId, row.session_id, row.subject_type, row.subject_id, row.session_expires_at);
    }).catch(async (e: unknown) => {
      // The revocation must outlive the failed transaction: write it on its own.
      if (e instanceof ReuseDetected) {
        const row = await repo.findRefreshToken(db, parsed.tenantId, parsed.hash);
        if (row) await repo.revokeSession(db, parsed.tenantId, row.session_id, 'refresh_token_reused', now);
        throw unauthenticated('refresh_token_reused', 'This refresh token was already used; the session is revoked — log in again');
      }
      throw e;
    });
  }

  /** Ends the session of the presented refresh token (or of the caller's access token). */
  async logout(tenantId: string, sessionId: string): Promise<void> {
    await repo.revokeSession(this.d.db, tenantId, sessionId, 'logout', this.d.clock.now().toISOString());
  }

  async sessionOfRefreshToken(refreshToken: string): Promise<{ tenantId: string; sessionId: string } | null> {
    const parsed = parseCredential(refreshToken);
    if (!parsed || parsed.prefix !== 'rt') return null;
    const row = await repo.findRefreshToken(this.d.db, parsed.tenantId, parsed.hash);
    return row ? { tenantId: parsed.tenantId, sessionId: row.session_id } : null;
  }

  /** Ends every session of a subject (password change, account disabled). */
  async revokeAllSessions(db: Executor, tenantId: string, subjectId: string, reason: string): Promise<void> {
    await repo.revokeSessionsOf(db, tenantId, subjectId, reason, this.d.clock.now().toISOString());
  }

  // --- per-request authentication --------------------------------------------------------------

  /** An access JWT → user or customer principal. Permissions and tenant status are read fresh, every request. */
  async principalFromAccessToken(token: string): Promise<Principal> {
    const now = this.d.clock.now();
    const claims = await this.d.tokens.verify(token, now);
    if (claims === 'expired') throw unauthenticated('token_expired', 'The access token has expired; get a new one with the refresh token');
    if (!claims) throw invalidToken();
    const nowIso = now.toISOString();
    if (claims.typ === 'user') {
      const row = await repo.findUserPrincipal(this.d.db, claims.tid, claims.sub, claims.sid);
      if (!row || row.status !== 'active' || row.revoked_at !== null || row.expires_at <= nowIso) throw invalidToken();
      if (row.tenant_status !== 'active') throw tenantSuspended();
      return { kind: 'user', tenantId: claims.tid, userId: row.id, sessionId: claims.sid, roleKey: row.system_key, permissions: new Set(rolePermissions(row.system_key, row.permissions)) };
    }
    const row = await repo.findCustomerPrincipal(this.d.db, claims.tid, claims.sub, claims.sid);
    if (!row || row.status !== 'active' || row.revoked_at !== null || row.expires_at <= nowIso) throw invalidToken();
    if (row.tenant_status !== 'active') throw tenantSuspended();
    return { kind: 'customer', tenantId: claims.tid, customerId: row.id, sessionId: claims.sid };
  }

  /**
   * The credentials a client presents — a bearer (access JWT, secret or publishable key) and/or a publishable key —
   * as one principal: what every transport (REST headers, a realtime connection's auth message) calls.
   */
  async principalFromCredentials(c: { token?: string | null | undefined; publishableKey?: string | null | undefined }): Promise<Principal> {
    const token = c.token || null;
    const pk = c.publishableKey?.trim() || null;
    if (token) {
      const p = token.startsWith('sk_') || token.startsWith('pk_') ? await this.principalFromKey(token) : await this.principalFromAccessToken(token);
      if (pk && 'tenantId' in p) {
        const shop = await this.principalFromKey(pk);
        if (shop.kind !== 'shopper' || !('tenantId' in shop) || shop.tenantId !== p.tenantId) throw unauthenticated('credential_mismatch', 'The publishable key and the token belong to different shops');
      }
      return p;
    }
    if (pk) {
      if (!pk.startsWith('pk_')) throw unauthenticated('invalid_api_key', 'X-Publishable-Key takes a publishable key (pk_…)');
      return this.principalFromKey(pk);
    }
    throw unauthenticated('authentication_required', 'This needs a credential: Authorization: Bearer <token or key>, or X-Publishable-Key');
  }

  /** `sk_…` → API-key principal with its scoped permissions; `pk_…` → anonymous shopper of that shop. */
  async principalFromKey(key: string): Promise<Principal> {
    const now = Date.now();
    const hit = key.startsWith('pk_') ? this.shoppers.get(key) : undefined;
    if (hit && hit.until > now) return hit.principal;
    const principal = await this.lookUpKey(key);
    if (principal.kind === 'shopper') {
      if (this.shoppers.size >= PUBLISHABLE_CACHE_MAX) this.shoppers.delete(this.shoppers.keys().next().value as string);
      this.shoppers.set(key, { principal, until: now + PUBLISHABLE_KEY_TTL_MS });
    }
    return principal;
  }

  /** Forgets the publishable keys this node trusts (a key was revoked or a shop suspended here): at once on this node. */
  forgetKeys(): void {
    this.shoppers.clear();
  }

  private async lookUpKey(key: string): Promise<Principal> {
    const parsed = parseCredential(key);
    const invalid = () => unauthenticated('invalid_api_key', 'The API key is invalid or revoked');
    if (!parsed || parsed.prefix === 'rt' || parsed.prefix === 'pr') throw invalid();
    const row = await repo.findApiKey(this.d.db, parsed.tenantId, parsed.hash);
    if (!row || row.revoked_at !== null || row.type !== (parsed.prefix === 'sk' ? 'secret' : 'publishable')) throw invalid();
    if (row.tenant_status !== 'active') throw tenantSuspended();
    return row.type === 'secret'
      ? { kind: 'api_key', tenantId: parsed.tenantId, keyId: row.id, permissions: new Set(parsePermissions(row.permissions)) }
      : { kind: 'shopper', tenantId: parsed.tenantId, keyId: row.id };
  }
}

class ReuseDetected extends Error {}

/**
 * The permissions a user or secret key holds now, for work that runs later in its name (a shop's schedule);
 * null when the user is disabled or gone, or the key revoked.
 */
export async function currentPermissions(db: Executor, tenantId: string, actor: string): Promise<ReadonlySet<Permission> | null> {
  if (actor.startsWith('usr_')) {
    const r = await repo.activeUserRole(db, tenantId, actor);
    return r ? new Set(rolePermissions(r.system_key, r.permissions)) : null;
  }
  if (actor.startsWith('key_')) {
    const k = await repo.liveSecretKey(db, tenantId, actor);
    return k ? new Set(parsePermissions(k.permissions)) : null;
  }
  return null;
}
