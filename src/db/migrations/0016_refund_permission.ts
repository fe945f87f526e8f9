import type { Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.

/**
 * Refunds get a permission of their own (`orders:refund`, docs/decisions.md 29). Whoever could refund before —
 * every custom role and secret API key holding `orders:write` — keeps that ability; the built-in roles take their
 * permissions from code (owner and admin have it, clerk does not).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await grant(db, 'orders:write', 'orders:refund', true);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await grant(db, 'orders:write', 'orders:refund', false);
}

async function grant(db: Kysely<unknown>, holders: string, permission: string, add: boolean): Promise<void> {
  const k = db as Kysely<Record<'roles' | 'api_keys', { tenant_id: string; id: string; permissions: string }>>;
  for (const table of ['roles', 'api_keys'] as const) {
    const rows = await k.selectFrom(table).select(['tenant_id', 'id', 'permissions']).where('permissions', 'like', `%${add ? holders : permission}%`).execute();
    for (const row of rows) {
      const list = JSON.parse(row.permissions) as string[];
      if (add && (!list.includes(holders) || list.includes(permission))) continue;
      const next = add ? [...list, permission] : list.filter((p) => p !== permission);
      await k.updateTable(table).set({ permissions: JSON.stringify(next) }).where('tenant_id', '=', row.tenant_id).where('id', '=', row.id).execute();
    }
  }
}
