import type { Executor } from '../../context.ts';
import type { ImportErrorsTable, ImportsTable } from '../../db/schema.ts';

/** Imports, their uploaded files (in chunks) and error reports. Every query is scoped by tenant_id. */
export const importsRepository = {
  async insert(db: Executor, row: ImportsTable): Promise<void> {
    await db.insertInto('imports').values(row).execute();
  },
  async delete(db: Executor, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('imports').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  /** Uploads (imports reading their own file) that finished before `before`, across shops (the purge). */
  async finishedUploads(db: Executor, before: string) {
    return db.selectFrom('imports').select(['tenant_id', 'upload_id']).whereRef('id', '=', 'upload_id').where('finished_at', '<', before).execute();
  },
  async find(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('imports').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async page(db: Executor, tenantId: string, limit: number, before?: string) {
    let q = db.selectFrom('imports').selectAll().where('tenant_id', '=', tenantId).where('status', '!=', 'uploading').orderBy('id', 'desc').limit(limit + 1);
    if (before) q = q.where('id', '<', before);
    return q.execute();
  },
  async update(db: Executor, tenantId: string, id: string, patch: Partial<ImportsTable>, onlyIn?: readonly ImportsTable['status'][]): Promise<boolean> {
    let q = db.updateTable('imports').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id);
    if (onlyIn) q = q.where('status', 'in', onlyIn);
    return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
  },
  /** Adds a batch's counts and moves the checkpoint. */
  async advance(db: Executor, tenantId: string, id: string, d: { rows: number; bytes: number; created: number; updated: number; unchanged: number; failed: number; errors: number; checkpoint: number; at: string }): Promise<void> {
    await db
      .updateTable('imports')
      .set((eb) => ({
        rows_done: eb('rows_done', '+', d.rows),
        bytes_done: d.bytes,
        created: eb('created', '+', d.created),
        updated: eb('updated', '+', d.updated),
        unchanged: eb('unchanged', '+', d.unchanged),
        failed: eb('failed', '+', d.failed),
        error_count: eb('error_count', '+', d.errors),
        checkpoint_row: d.checkpoint,
        updated_at: d.at,
      }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  },

  // the file
  async insertChunk(db: Executor, row: { tenant_id: string; upload_id: string; seq: number; data: Uint8Array }): Promise<void> {
    await db.insertInto('import_chunks').values(row).execute();
  },
  async chunksAfter(db: Executor, tenantId: string, uploadId: string, after: number, limit: number) {
    return db.selectFrom('import_chunks').select(['seq', 'data']).where('tenant_id', '=', tenantId).where('upload_id', '=', uploadId).where('seq', '>', after).orderBy('seq').limit(limit).execute();
  },
  async deleteChunks(db: Executor, tenantId: string, uploadId: string): Promise<void> {
    await db.deleteFrom('import_chunks').where('tenant_id', '=', tenantId).where('upload_id', '=', uploadId).execute();
  },
  /** Whether another import still reads this upload (an apply after its dry run). */
  async uploadInUse(db: Executor, tenantId: string, uploadId: string, besides: string): Promise<boolean> {
    const r = await db.selectFrom('imports').select('id').where('tenant_id', '=', tenantId).where('upload_id', '=', uploadId).where('id', '!=', besides).where('status', 'in', ['queued', 'running']).executeTakeFirst();
    return r !== undefined;
  },

  // the error report
  async insertErrors(db: Executor, rows: readonly ImportErrorsTable[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      await db
        .insertInto('import_errors')
        .values(rows.slice(i, i + 500))
        .onConflict((oc) => oc.columns(['tenant_id', 'import_id', 'row', 'column']).doNothing())
        .execute();
    }
  },
  async errorsPage(db: Executor, tenantId: string, importId: string, limit: number, after?: { row: number; column: string }) {
    let q = db.selectFrom('import_errors').select(['row', 'column', 'code', 'message']).where('tenant_id', '=', tenantId).where('import_id', '=', importId).orderBy('row').orderBy('column').limit(limit + 1);
    if (after) q = q.where((eb) => eb.or([eb('row', '>', after.row), eb.and([eb('row', '=', after.row), eb('column', '>', after.column)])]));
    return q.execute();
  },
  async countErrors(db: Executor, tenantId: string, importId: string): Promise<number> {
    const r = await db.selectFrom('import_errors').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).where('import_id', '=', importId).executeTakeFirstOrThrow();
    return Number(r.n);
  },
  async clearErrors(db: Executor, tenantId: string, importId: string): Promise<void> {
    await db.deleteFrom('import_errors').where('tenant_id', '=', tenantId).where('import_id', '=', importId).execute();
  },
};
