import type { Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.

/** A counter per shop and topic, bumped in the transaction of every change (the catalogue page cache reads it). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('change_versions')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('change_versions_pk', ['tenant_id', 'topic'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('change_versions').execute();
}
