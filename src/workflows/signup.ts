import type { Db } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import { insertApiKey } from '../modules/api-keys/index.ts';
import { checkPasswordStrength } from '../lib/passwords.ts';
import { defaultLocationId } from '../modules/inventory/index.ts';
import { createSystemRoles, insertUser, getUser, type User } from '../modules/staff/index.ts';
import { createTenant, type Tenant } from '../modules/tenants/index.ts';

export interface SignupInput {
  shop_name: string;
  shop_slug?: string | undefined;
  email: string;
  password: string;
  owner_name?: string | undefined;
  currency?: string | undefined;
  timezone?: string | undefined;
  tax_mode?: 'exclusive' | 'inclusive' | undefined;
}

export interface SignupResult {
  tenant: Tenant;
  owner: User;
  publishable_key: string;
}

/**
 * A new shop: tenant, built-in roles, owner, default stock location and a publishable key — all in one transaction,
 * so a failure at any step leaves no half-made shop.
 */
export async function signup(db: Db, clock: Clock, input: SignupInput): Promise<SignupResult> {
  checkPasswordStrength(input.password);
  return db.transaction().execute(async (trx) => {
    const tenant = await createTenant(trx, clock, { name: input.shop_name, slug: input.shop_slug, currency: input.currency, timezone: input.timezone, tax_mode: input.tax_mode });
    const roles = await createSystemRoles(trx, clock, tenant.id);
    const ownerId = await insertUser(trx, clock, tenant.id, { email: input.email, name: input.owner_name ?? input.email.split('@')[0] ?? 'Owner', password: input.password, roleId: roles.owner });
    await defaultLocationId(trx, clock, tenant.id);
    const pk = await insertApiKey(trx, clock, tenant.id, { type: 'publishable', name: 'Default publishable key', permissions: [], createdBy: ownerId });
    const owner = await getUser({ db: trx, tenantId: tenant.id }, ownerId);
    return { tenant, owner, publishable_key: pk.key as string };
  });
}
