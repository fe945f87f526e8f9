import type { Kysely } from 'kysely';

// Frozen in time: never edit a migration that has shipped; add a new one.

/**
 * Where work came from (docs/integration.md, tracing): the request id and the W3C trace context of the request
 * that wrote an outbox event or enqueued a job, so webhooks, broker messages, emails and jobs carry them on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['outbox_events', 'jobs']) {
    await db.schema.alterTable(table).addColumn('request_id', 'text').execute();
    await db.schema.alterTable(table).addColumn('traceparent', 'text').execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['outbox_events', 'jobs']) {
    await db.schema.alterTable(table).dropColumn('traceparent').execute();
    await db.schema.alterTable(table).dropColumn('request_id').execute();
  }
}
