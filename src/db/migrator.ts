import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run on any schema
type AnyDb = Kysely<any>;
import { Migrator, NO_MIGRATIONS, type Migration, type MigrationResultSet } from 'kysely/migration';
import * as m0001 from './migrations/0001_foundation.ts';
import * as m0002 from './migrations/0002_commerce.ts';
import * as m0003 from './migrations/0003_change_versions.ts';
import * as m0004 from './migrations/0004_jobs.ts';
import * as m0005 from './migrations/0005_webhooks.ts';
import * as m0006 from './migrations/0006_email.ts';
import * as m0007 from './migrations/0007_reports.ts';
import * as m0008 from './migrations/0008_shop_schedules.ts';
import * as m0009 from './migrations/0009_outside_calls.ts';
import * as m0010 from './migrations/0010_realtime.ts';
import * as m0011 from './migrations/0011_crm.ts';
import * as m0012 from './migrations/0012_integration.ts';
import * as m0013 from './migrations/0013_imports.ts';
import * as m0014 from './migrations/0014_origin.ts';

/** Every migration, in order. Explicit, so a reader can follow it and a bundler can see it. */
const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_commerce': m0002,
  '0003_change_versions': m0003,
  '0004_jobs': m0004,
  '0005_webhooks': m0005,
  '0006_email': m0006,
  '0007_reports': m0007,
  '0008_shop_schedules': m0008,
  '0009_outside_calls': m0009,
  '0010_realtime': m0010,
  '0011_crm': m0011,
  '0012_integration': m0012,
  '0013_imports': m0013,
  '0014_origin': m0014,
};

export function migrator(db: AnyDb): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
}

function unwrap(r: MigrationResultSet): string[] {
  if (r.error) {
    const failed = r.results?.find((x) => x.status === 'Error');
    const err = r.error instanceof Error ? r.error : new Error(String(r.error));
    err.message = `migration ${failed?.migrationName ?? '?'} failed: ${err.message}`;
    throw err;
  }
  return (r.results ?? []).map((x) => `${x.direction === 'Up' ? 'up' : 'down'} ${x.migrationName}`);
}

export async function migrateUp(db: AnyDb): Promise<string[]> {
  return unwrap(await migrator(db).migrateToLatest());
}

/** Down one step, or all the way with `all`. */
export async function migrateDown(db: AnyDb, all = false): Promise<string[]> {
  const m = migrator(db);
  return unwrap(all ? await m.migrateTo(NO_MIGRATIONS) : await m.migrateDown());
}

export async function migrationStatus(db: AnyDb): Promise<{ name: string; executedAt: string | null }[]> {
  const list = await migrator(db).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt ? new Date(m.executedAt).toISOString() : null }));
}
