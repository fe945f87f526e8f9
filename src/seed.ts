import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import type { Clock } from './lib/clock.ts';
import { randomSecret, sha256 } from './lib/crypto.ts';
import { publishableKeyOf } from './modules/api-keys/index.ts';
import { countTenants, findTenantBySlug } from './modules/tenants/index.ts';
import { signup } from './workflows/signup.ts';
import { isUniqueViolation } from './db/database.ts';
import { AppError } from './lib/errors.ts';
import { seedDemoCatalogue } from './seed-catalogue.ts';

export interface DemoCredentials {
  shop: string;
  email: string;
  password: string;
  publishable_key: string;
  created: boolean;
}

export const DEMO_SLUG = 'demo';
export const DEMO_EMAIL = 'owner@demo.stockroom.test';

/**
 * Where the demo shop's credentials are kept: one file per database, so trying scale-out in the same checkout
 * (DATABASE_URL=postgres://…) never overwrites the embedded database's password, or the other way round.
 */
export function demoCredentialsFile(config: Config): string {
  if (config.database.dialect === 'sqlite') return join(config.dataDir, 'demo-credentials.json');
  const u = new URL(config.database.url);
  u.password = '';
  return join(config.dataDir, `demo-credentials.${sha256(u.toString()).slice(0, 12)}.json`);
}

/**
 * The demo shop: created on the first start (no shop exists yet), with a random owner password that
 * is kept in DATA_DIR/demo-credentials.json (mode 0600) so later starts can print it again.
 * Returns null when the database already has shops but no demo shop.
 */
export async function seedDemo(db: Db, config: Config, clock: Clock, force = false): Promise<DemoCredentials | null> {
  const file = demoCredentialsFile(config);
  const existing = await findTenantBySlug(db, DEMO_SLUG);
  if (existing) {
    if (!existsSync(file)) return null;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials;
    return { ...saved, publishable_key: (await publishableKeyOf(db, existing.id)) ?? saved.publishable_key, created: false };
  }
  if (!force && (await countTenants(db)) > 0) return null;
  const password = `demo-${randomSecret(9)}`;
  let r: Awaited<ReturnType<typeof signup>>;
  try {
    r = await signup(db, clock, { shop_name: 'Demo Shop', shop_slug: DEMO_SLUG, email: DEMO_EMAIL, password, owner_name: 'Demo Owner', currency: 'EUR', timezone: 'Europe/Berlin', tax_mode: 'inclusive' });
  } catch (e) {
    // Another node seeded it at the same moment (several API nodes starting on a fresh database).
    if (isUniqueViolation(e) || (e instanceof AppError && e.code === 'slug_taken')) return seedDemo(db, config, clock, force);
    throw e;
  }
  await seedDemoCatalogue(db, clock, r.tenant.id);
  const creds: DemoCredentials = { shop: DEMO_SLUG, email: DEMO_EMAIL, password, publishable_key: r.publishable_key, created: true };
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return creds;
}
