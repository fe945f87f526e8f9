import { actorOf, type Ctx, type Executor } from '../../context.ts';
import type { ApiKeysTable } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { conflict, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page } from '../../lib/pagination.ts';
import { mintCredential } from '../../lib/credentials.ts';
import { parsePermissions, type Permission } from '../../policy/permissions.ts';
import { assertCanGrant } from '../staff/index.ts';
import { apiKeysRepository as repo } from './api-keys.repository.ts';

export interface ApiKey {
  id: string;
  type: 'secret' | 'publishable';
  name: string;
  /** The whole key for publishable keys; for secret keys only in the response that creates them. */
  key: string | null;
  redacted: string;
  permissions: Permission[];
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
}

const toApiKey = (r: ApiKeysTable): ApiKey => ({
  id: r.id,
  type: r.type,
  name: r.name,
  key: r.token,
  redacted: `${r.type === 'secret' ? 'sk' : 'pk'}_…${r.last4}`,
  permissions: parsePermissions(r.permissions),
  created_by: r.created_by,
  created_at: r.created_at,
  revoked_at: r.revoked_at,
});

/** Mints a key. Secret keys are stored as a hash only: the plaintext lives in the returned object alone. */
export async function insertApiKey(
  db: Executor,
  clock: Clock,
  tenantId: string,
  input: { type: 'secret' | 'publishable'; name: string; permissions: Permission[]; createdBy: string | null },
): Promise<ApiKey> {
  const minted = mintCredential(input.type === 'secret' ? 'sk' : 'pk', tenantId);
  const row: ApiKeysTable = {
    tenant_id: tenantId,
    id: newId('apiKey'),
    type: input.type,
    name: input.name,
    token_hash: minted.hash,
    token: input.type === 'publishable' ? minted.token : null,
    last4: minted.last4,
    permissions: JSON.stringify(input.type === 'secret' ? [...new Set(input.permissions)].sort() : []),
    created_by: input.createdBy,
    created_at: clock.now().toISOString(),
    revoked_at: null,
  };
  await repo.insert(db, row);
  return { ...toApiKey(row), key: minted.token };
}


export async function createApiKey(ctx: Ctx, input: { type: 'secret' | 'publishable'; name: string; permissions?: Permission[] | undefined }): Promise<ApiKey> {
  const permissions = input.type === 'secret' ? (input.permissions ?? []) : [];
  if (input.type === 'secret') assertCanGrant(ctx.principal, permissions);
  return insertApiKey(ctx.db, ctx.clock, ctx.tenantId, { type: input.type, name: input.name, permissions, createdBy: actorOf(ctx.principal) });
}

export async function listApiKeys(ctx: Ctx, opts: { limit: number; cursor?: string | undefined; type?: 'secret' | 'publishable' | undefined; include_revoked?: boolean | undefined }): Promise<Page<ApiKey>> {
  const rows = await repo.list(ctx.db, ctx.tenantId, {
    limit: opts.limit,
    after: decodeCursor(opts.cursor),
    type: opts.type,
    includeRevoked: opts.include_revoked ?? false,
  });
  return toPage(rows.map(toApiKey), opts.limit);
}

export async function getApiKey(ctx: Ctx, id: string): Promise<ApiKey> {
  const r = await repo.find(ctx.db, ctx.tenantId, id);
  if (!r) throw notFound('API key');
  return toApiKey(r);
}

/** Revocation is immediate: the next request with the key is refused. A key cannot revoke itself by accident. */
export async function revokeApiKey(ctx: Ctx, id: string): Promise<ApiKey> {
  const key = await getApiKey(ctx, id);
  if (ctx.principal.kind === 'api_key' && ctx.principal.keyId === id) throw conflict('cannot_revoke_self', 'A key cannot revoke itself; use another credential');
  if (key.type === 'secret') assertCanGrant(ctx.principal, key.permissions);
  await repo.revoke(ctx.db, ctx.tenantId, id, ctx.clock.now().toISOString());
  return getApiKey(ctx, id);
}

/** The key printed for the demo shop and returned at signup. */
export async function publishableKeyOf(db: Executor, tenantId: string): Promise<string | null> {
  return (await repo.firstActivePublishable(db, tenantId))?.token ?? null;
}
