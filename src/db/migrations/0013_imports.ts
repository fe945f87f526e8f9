import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../database.ts';

// Frozen in time: never edit a migration that has shipped; add a new one.

/**
 * Imports (docs/integration.md): an uploaded file kept in chunks (so any worker can read it, a line at a time),
 * the import's state and checkpoint, and its row/column error report.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = dialectOf(db) === 'postgres';
  const ts = pg ? 'timestamptz' : 'text';
  const big = pg ? 'bigint' : 'integer';
  await db.schema
    .createTable('imports')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('products', 'contacts')`))
    .addColumn('format', 'text', (c) => c.notNull().check(sql`format in ('csv', 'ndjson')`))
    .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('dry_run', 'apply')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('uploading', 'queued', 'running', 'succeeded', 'failed', 'cancelled')`))
    // The import whose upload this one reads (an apply after a dry run reads the dry run's file).
    .addColumn('upload_id', 'text', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('size_bytes', big, (c) => c.notNull())
    .addColumn('job_id', 'text')
    .addColumn('rows_done', 'integer', (c) => c.notNull())
    .addColumn('bytes_done', big, (c) => c.notNull())
    .addColumn('created', 'integer', (c) => c.notNull())
    .addColumn('updated', 'integer', (c) => c.notNull())
    .addColumn('unchanged', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('error_count', 'integer', (c) => c.notNull())
    // The last data row whose batch committed: a resumed run skips up to here.
    .addColumn('checkpoint_row', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('updated_at', ts, (c) => c.notNull())
    .addColumn('started_at', ts)
    .addColumn('finished_at', ts)
    .addPrimaryKeyConstraint('imports_pk', ['tenant_id', 'id'])
    .addForeignKeyConstraint('imports_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema
    .createTable('import_chunks')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('upload_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', pg ? 'bytea' : 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_chunks_pk', ['tenant_id', 'upload_id', 'seq'])
    .addForeignKeyConstraint('import_chunks_tenant_fk', ['tenant_id'], 'tenants', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema
    .createTable('import_errors')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('import_id', 'text', (c) => c.notNull())
    .addColumn('row', 'integer', (c) => c.notNull())
    .addColumn('column', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_errors_pk', ['tenant_id', 'import_id', 'row', 'column'])
    .addForeignKeyConstraint('import_errors_import_fk', ['tenant_id', 'import_id'], 'imports', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('import_errors').execute();
  await db.schema.dropTable('import_chunks').execute();
  await db.schema.dropTable('imports').execute();
}
