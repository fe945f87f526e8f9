import type { Ctx, Executor } from '../../context.ts';
import type { TenantsTable } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { conflict, notFound, preconditionFailed } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { randomSecret } from '../../lib/crypto.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { tenantsRepository as repo } from './tenants.repository.ts';

export interface Tenant {
  id: string;
  name: string;
  slug: string;
  status: 'active' | 'suspended';
  currency: string;
  timezone: string;
  tax_mode: 'exclusive' | 'inclusive';
  suspended_at: string | null;
  suspended_reason: string | null;
  cart_reminder_hours: number;
  storefront_url: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

const toTenant = (r: TenantsTable): Tenant => ({ ...r, cart_reminder_hours: Number(r.cart_reminder_hours ?? 24), storefront_url: r.storefront_url ?? null });

export function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return s.length >= 3 ? s : `shop-${s || randomSecret(3).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
}

/** Creates the tenant row. A chosen slug that is taken is a 409; a derived one gets a random suffix. */
export async function createTenant(
  db: Executor,
  clock: Clock,
  input: { name: string; slug?: string | undefined; currency?: string | undefined; timezone?: string | undefined; tax_mode?: 'exclusive' | 'inclusive' | undefined },
): Promise<Tenant> {
  let slug = input.slug ?? slugify(input.name);
  if (await repo.slugExists(db, slug)) {
    if (input.slug) throw conflict('slug_taken', `The shop slug "${slug}" is taken`);
    slug = `${slug.slice(0, 33)}-${randomSecret(6).toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 6) || 'x'}`;
  }
  const now = clock.now().toISOString();
  const row: TenantsTable = {
    id: newId('tenant'),
    name: input.name,
    slug,
    status: 'active',
    currency: input.currency ?? 'USD',
    timezone: input.timezone ?? 'UTC',
    tax_mode: input.tax_mode ?? 'exclusive',
    suspended_at: null,
    suspended_reason: null,
    version: 1,
    created_at: now,
    updated_at: now,
  };
  await repo.insert(db, row);
  return toTenant(row);
}

export async function findTenantBySlug(db: Executor, slug: string): Promise<Tenant | undefined> {
  const r = await repo.findBySlug(db, slug);
  return r && toTenant(r);
}

export async function countTenants(db: Executor): Promise<number> {
  return repo.count(db);
}

// --- the shop, as its own staff see it -------------------------------------------------------

export async function getShop(ctx: Ctx): Promise<Tenant> {
  const r = await repo.findById(ctx.db, ctx.tenantId);
  if (!r) throw notFound('Shop');
  return toTenant(r);
}

export async function updateShop(
  ctx: Ctx,
  patch: { name?: string | undefined; timezone?: string | undefined; currency?: string | undefined; tax_mode?: 'exclusive' | 'inclusive' | undefined; cart_reminder_hours?: number | undefined; storefront_url?: string | null | undefined },
  expectedVersion: number | null = null,
): Promise<Tenant> {
  const current = await getShop(ctx);
  const next: Partial<TenantsTable> = { updated_at: ctx.clock.now().toISOString() };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.timezone !== undefined) next.timezone = patch.timezone;
  if (patch.currency !== undefined) next.currency = patch.currency;
  if (patch.tax_mode !== undefined) next.tax_mode = patch.tax_mode;
  if (patch.cart_reminder_hours !== undefined) next.cart_reminder_hours = patch.cart_reminder_hours;
  if (patch.storefront_url !== undefined) next.storefront_url = patch.storefront_url;
  if (!(await repo.update(ctx.db, current.id, next, expectedVersion))) throw preconditionFailed('version_mismatch', 'The shop changed since you read it (If-Match names an old version)');
  return getShop(ctx);
}

// --- platform operators ----------------------------------------------------------------------

export async function listTenants(db: Executor, opts: { limit: number; cursor?: string | undefined; status?: Tenant['status'] | undefined }) {
  const rows = await repo.list(db, { limit: opts.limit, after: decodeCursor(opts.cursor), status: opts.status });
  return toPage(rows.map(toTenant), opts.limit);
}

export async function getTenant(db: Executor, id: string): Promise<Tenant> {
  const r = await repo.findById(db, id);
  if (!r) throw notFound('Tenant');
  return toTenant(r);
}

export async function setTenantStatus(db: Executor, clock: Clock, id: string, status: Tenant['status'], reason?: string): Promise<Tenant> {
  const t = await getTenant(db, id);
  if (t.status === status) return t;
  const now = clock.now().toISOString();
  await repo.update(db, id, {
    status,
    updated_at: now,
    suspended_at: status === 'suspended' ? now : null,
    suspended_reason: status === 'suspended' ? (reason ?? null) : null,
  });
  return getTenant(db, id);
}
