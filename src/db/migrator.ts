import { dialectOf } from './database.ts';
import { sql } from 'kysely';
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
import * as m0015 from './migrations/0015_order_children.ts';
import * as m0016 from './migrations/0016_refund_permission.ts';

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
  '0015_order_children': m0015,
  '0016_refund_permission': m0016,
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
  const done = unwrap(await migrator(db).migrateToLatest());
  if (dialectOf(db) === 'sqlite') await describeShape(db, done.length > 0);
  return done;
}

/** The row count synthetic statistics claim; a stat row with another count came from a real ANALYZE and is kept. */
const SHAPE_ROWS = 1_000_000;

/**
 * Tells SQLite's planner the shape of our data before there is any: every index starts with `tenant_id`, which
 * narrows little (a shop holds many rows), and each further column narrows a lot. Without statistics SQLite takes
 * `tenant_id = ?` for a selective match and picks the primary key (tenant_id, id) to save a sort — scanning a whole
 * shop's cart lines or payments to find one cart's. The synthetic rows in `sqlite_stat1` ("Manually Control Query
 * Plans Using SQLITE_STAT Tables" in SQLite's documentation) give every index its due; a real ANALYZE replaces them.
 */
export async function describeShape(db: AnyDb, schemaChanged: boolean): Promise<void> {
  const indexes = (await sql<{ name: string; tbl_name: string }>`select name, tbl_name from sqlite_schema where type = 'index' and tbl_name not like 'sqlite_%'`.execute(db)).rows;
  const statTable = (await sql<{ n: number }>`select count(*) as n from sqlite_schema where name = 'sqlite_stat1'`.execute(db)).rows[0]?.n;
  if (!statTable) await sql`analyze sqlite_schema`.execute(db); // makes sqlite_stat1 (nothing to count yet)
  const have = new Map((await sql<{ idx: string; stat: string }>`select idx, stat from sqlite_stat1`.execute(db)).rows.map((r) => [r.idx, r.stat]));
  // Nothing new since the last start: every index already has its row.
  if (!schemaChanged && indexes.every((ix) => have.has(ix.name))) return;
  let changed = false;
  for (const ix of indexes) {
    const existing = have.get(ix.name);
    if (existing && !existing.startsWith(`${SHAPE_ROWS} `)) continue;
    const cols = (await sql<{ name: string }>`select name from pragma_index_info(${ix.name})`.execute(db)).rows.map((r) => r.name);
    const unique = (await sql<{ unique: number; name: string }>`select "unique", name from pragma_index_list(${ix.tbl_name})`.execute(db)).rows.some((r) => r.name === ix.name && r.unique === 1);
    let rows = SHAPE_ROWS;
    const per = cols.map((c, i) => {
      // tenant_id: a tenth of the table; the next column: about ten rows (a cart's lines, a product's variants); then two.
      rows = i === 0 ? (c === 'tenant_id' ? SHAPE_ROWS / 10 : 10) : i === 1 ? (cols[0] === 'tenant_id' ? 10 : 2) : 2;
      return unique && i === cols.length - 1 ? 1 : rows;
    });
    const stat = [SHAPE_ROWS, ...per].join(' ');
    if (existing === stat) continue;
    changed = true;
    await sql`delete from sqlite_stat1 where idx = ${ix.name}`.execute(db);
    await sql`insert into sqlite_stat1 (tbl, idx, stat) values (${ix.tbl_name}, ${ix.name}, ${stat})`.execute(db);
  }
  if (changed) await sql`analyze sqlite_schema`.execute(db); // loads the rows just written
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
