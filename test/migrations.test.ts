import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { dialectOf } from '../src/db/database.ts';
import { migrateDown, migrateUp, migrationStatus } from '../src/db/migrator.ts';
import { engines, freshDatabase, type TestDb } from './helpers.ts';

const TABLES = [
  'api_keys', 'cart_lines', 'carts', 'categories', 'change_versions', 'daily_reports', 'collection_products', 'collections', 'customers', 'discount_usages', 'discounts', 'emails', 'export_chunks', 'export_files',
  'fulfillments', 'idempotency_keys', 'import_chunks', 'import_errors', 'imports', 'inventory_ledger', 'jobs', 'locations', 'nodes', 'order_counters', 'order_events', 'order_lines', 'orders',
  'outbox_events', 'password_resets', 'payment_actions', 'payments', 'processed_webhooks', 'products', 'refresh_tokens', 'refunds', 'reservations', 'roles', 'schedule_slots', 'sessions', 'shop_schedules',
  'shipping_methods', 'stock_levels', 'tax_rates', 'tenants', 'users', 'variants', 'webhook_attempts', 'webhook_deliveries', 'webhook_endpoints',
  'conversations', 'order_messages', 'realtime_channels', 'realtime_messages', 'dashboard_days', 'dashboard_products', 'dashboard_minutes',
  'contacts', 'contact_fields', 'contact_activities', 'contact_scores', 'contact_score_history', 'score_rules', 'segments', 'segment_members', 'contact_audit', 'marketing_connections', 'marketing_sync_runs', 'apps', 'broker_commands',
].sort();
/** Tables that belong to no tenant: the tenants themselves, provider events keyed by the provider's id, the job queue and the live nodes. */
const NOT_TENANT_OWNED = new Set(['tenants', 'processed_webhooks', 'jobs', 'schedule_slots', 'nodes']);

for (const engine of engines()) {
  describe(`migrations [${engine.name}]`, () => {
    let tdb: TestDb;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'stockroom-mig-'));
      tdb = await freshDatabase(engine, dir);
    });
    after(async () => {
      await tdb.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const tables = async () =>
      (await tdb.db.introspection.getTables()).map((t) => t.name).filter((n) => !n.startsWith('kysely_') && !n.startsWith('products_fts')).sort();

    test('up creates every table, down removes them all, up again works', async () => {
      assert.equal(dialectOf(tdb.db), engine.name);
      assert.deepEqual(await tables(), []);
      const up = await migrateUp(tdb.db);
      assert.ok(up.length >= 1);
      assert.deepEqual(await tables(), TABLES);
      assert.ok((await migrationStatus(tdb.db)).every((m) => m.executedAt !== null));
      assert.deepEqual(await migrateUp(tdb.db), [], 'a second up has nothing to do');

      const CRM = ['contacts', 'contact_fields', 'contact_activities', 'contact_scores', 'contact_score_history', 'score_rules', 'segments', 'segment_members', 'contact_audit', 'marketing_connections', 'marketing_sync_runs'];
      const IMPORTS = ['imports', 'import_chunks', 'import_errors'];
      const REALTIME = ['conversations', 'order_messages', 'realtime_channels', 'realtime_messages', 'dashboard_days', 'dashboard_products', 'dashboard_minutes', ...CRM, 'apps', 'broker_commands', ...IMPORTS];
      const indexNames = async () => (await (engine.name === 'postgres' ? sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema()` : sql<{ name: string }>`select name from sqlite_schema where type = 'index'`).execute(tdb.db)).rows.map((r) => r.name);
      assert.ok((await indexNames()).includes('refunds_order_idx'));
      await migrateDown(tdb.db);
      assert.deepEqual(await tables(), TABLES, 'one step down undoes the newest migration only (the refund permission)');
      await migrateDown(tdb.db);
      assert.deepEqual(await tables(), TABLES, 'the next step undoes the order children indexes');
      assert.ok(!(await indexNames()).includes('refunds_order_idx') && !(await indexNames()).includes('fulfillments_order_idx'));
      await migrateDown(tdb.db);
      assert.deepEqual(await tables(), TABLES, 'the next step undoes the request origin columns');
      const cols = async (name: string) => ((await tdb.db.introspection.getTables()).find((x) => x.name === name)?.columns ?? []).map((c) => c.name);
      assert.ok(!(await cols('jobs')).includes('request_id') && !(await cols('outbox_events')).includes('traceparent'));
      await migrateDown(tdb.db);
      assert.deepEqual(await tables(), TABLES.filter((x) => !IMPORTS.includes(x)));
      await migrateDown(tdb.db);
      assert.deepEqual(await tables(), TABLES.filter((x) => x !== 'apps' && x !== 'broker_commands' && !IMPORTS.includes(x)));
      await migrateDown(tdb.db);
      assert.deepEqual(await tables(), TABLES.filter((x) => x !== 'apps' && x !== 'broker_commands' && !CRM.includes(x) && !IMPORTS.includes(x)));
      await migrateDown(tdb.db);
      assert.deepEqual(await tables(), TABLES.filter((x) => !REALTIME.includes(x)));
      await migrateDown(tdb.db);
      assert.deepEqual(await tables(), TABLES.filter((x) => !REALTIME.includes(x) && x !== 'nodes' && x !== 'payment_actions' && x !== 'export_chunks'));
      await migrateDown(tdb.db);
      assert.deepEqual(await tables(), TABLES.filter((x) => !REALTIME.includes(x) && x !== 'nodes' && x !== 'payment_actions' && x !== 'export_chunks' && x !== 'shop_schedules'));
      await migrateDown(tdb.db);
      await migrateDown(tdb.db);
      await migrateDown(tdb.db);
      await migrateDown(tdb.db);
      await migrateDown(tdb.db);
      await migrateDown(tdb.db);
      assert.deepEqual(await tables(), ['api_keys', 'customers', 'idempotency_keys', 'refresh_tokens', 'roles', 'sessions', 'tenants', 'users']);
      await migrateDown(tdb.db, true);
      assert.deepEqual(await tables(), []);
      assert.equal((await tdb.db.introspection.getTables()).filter((t) => t.name.startsWith('products_fts')).length, 0);
      assert.ok((await migrationStatus(tdb.db)).every((m) => m.executedAt === null));

      await migrateUp(tdb.db);
      assert.deepEqual(await tables(), TABLES);
    });

    test('tenant-owned tables have (tenant_id, id) primary keys and a tenant_id column', async () => {
      for (const t of await tdb.db.introspection.getTables()) {
        if (t.name.startsWith('kysely_') || t.name.startsWith('products_fts')) continue;
        if (NOT_TENANT_OWNED.has(t.name)) {
          assert.ok(t.name === 'tenants' || t.name === 'nodes' || t.columns.some((c) => c.name === 'tenant_id'), `${t.name} still records its tenant`);
          continue;
        }
        assert.ok(t.columns.some((c) => c.name === 'tenant_id' && !c.isNullable), `${t.name} has a non-null tenant_id`);
      }
    });

    test('the database refuses what the schema forbids (checks, unique keys, composite foreign keys)', async () => {
      const now = new Date().toISOString();
      await tdb.db.insertInto('tenants').values({ id: 'ten_a', name: 'A', slug: 'a-shop', status: 'active', currency: 'USD', timezone: 'UTC', tax_mode: 'exclusive', suspended_at: null, suspended_reason: null, version: 1, created_at: now, updated_at: now }).execute();
      await tdb.db.insertInto('tenants').values({ id: 'ten_b', name: 'B', slug: 'b-shop', status: 'active', currency: 'USD', timezone: 'UTC', tax_mode: 'exclusive', suspended_at: null, suspended_reason: null, version: 1, created_at: now, updated_at: now }).execute();
      await assert.rejects(
        tdb.db.insertInto('tenants').values({ id: 'ten_c', name: 'C', slug: 'c', status: 'bogus' as 'active', currency: 'USD', timezone: 'UTC', tax_mode: 'exclusive', suspended_at: null, suspended_reason: null, version: 1, created_at: now, updated_at: now }).execute(),
      );
      await assert.rejects(tdb.db.insertInto('tenants').values({ id: 'ten_d', name: 'D', slug: 'a-shop', status: 'active', currency: 'USD', timezone: 'UTC', tax_mode: 'exclusive', suspended_at: null, suspended_reason: null, version: 1, created_at: now, updated_at: now }).execute());
      await tdb.db.insertInto('roles').values({ tenant_id: 'ten_a', id: 'role_1', name: 'r', system_key: null, description: '', permissions: '[]', created_at: now, updated_at: now }).execute();
      // A user of tenant B cannot point at tenant A's role: the foreign key includes tenant_id.
      await assert.rejects(
        tdb.db.insertInto('users').values({ tenant_id: 'ten_b', id: 'usr_1', email: 'x@y.z', name: 'x', password_hash: 'h', role_id: 'role_1', status: 'active', last_login_at: null, version: 1, created_at: now, updated_at: now }).execute(),
      );
      await tdb.db.insertInto('users').values({ tenant_id: 'ten_a', id: 'usr_1', email: 'x@y.z', name: 'x', password_hash: 'h', role_id: 'role_1', status: 'active', last_login_at: null, version: 1, created_at: now, updated_at: now }).execute();
    });
  });
}
