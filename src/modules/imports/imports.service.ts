import { parse as parseSync } from 'csv-parse/sync';
import type { Ctx, Executor, TenantPrincipal } from '../../context.ts';
import { actorOf } from '../../context.ts';
import type { Db } from '../../db/database.ts';
import type { ImportErrorsTable, ImportsTable } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { addSeconds } from '../../lib/clock.ts';
import { csvRow } from '../../lib/csv.ts';
import { AppError, conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { Logger } from '../../lib/log.ts';
import { decodeCursor, decodeKeyCursor, encodeKeyCursor, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { importProducts, type ImportProduct, type RowProblem } from '../catalog/index.ts';
import { importContacts, listFields, type ImportContact } from '../crm/index.ts';
import { emitEvent } from '../events/index.ts';
import { defaultLocationId, locationsByName } from '../inventory/index.ts';
import { enqueue } from '../jobs/index.ts';
import { getTenant } from '../tenants/index.ts';
import { importsRepository as repo } from './imports.repository.ts';
import { contactLine, contactRow, groupRows, productLine, productRow, readHeader, readRecords, type Header, type ProductRow } from './readers.ts';

export type ImportKind = ImportsTable['kind'];
export type ImportFormat = ImportsTable['format'];

export interface ImportView {
  id: string;
  kind: ImportKind;
  format: ImportFormat;
  mode: ImportsTable['mode'];
  status: ImportsTable['status'];
  filename: string;
  size_bytes: number;
  /** 0–100, by the bytes read. */
  percent: number;
  rows_done: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Rows not imported; each has its problems in the error report. */
  failed: number;
  error_count: number;
  error: string | null;
  /** The dry run this import applies (its file), if any. */
  dry_run_id: string | null;
  job_id: string | null;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  errors_url: string;
}

export const toView = (r: ImportsTable): ImportView => ({
  id: r.id,
  kind: r.kind,
  format: r.format,
  mode: r.mode,
  status: r.status,
  filename: r.filename,
  size_bytes: Number(r.size_bytes),
  percent: r.status === 'succeeded' ? 100 : Number(r.size_bytes) > 0 ? Math.min(99, Math.floor((Number(r.bytes_done) * 100) / Number(r.size_bytes))) : 0,
  rows_done: r.rows_done,
  created: r.created,
  updated: r.updated,
  unchanged: r.unchanged,
  failed: r.failed,
  error_count: r.error_count,
  error: r.error,
  dry_run_id: r.upload_id === r.id ? null : r.upload_id,
  job_id: r.job_id,
  created_by: r.created_by,
  created_at: r.created_at,
  started_at: r.started_at,
  finished_at: r.finished_at,
  errors_url: `/api/imports/${r.id}/errors.csv`,
});

/** The chunk size an upload is stored in. */
export const CHUNK_BYTES = 1024 * 1024;

export function formatOf(filename: string, mimetype: string | undefined, given: string | undefined): ImportFormat {
  if (given === 'csv' || given === 'ndjson') return given;
  if (/\.csv$/i.test(filename) || mimetype === 'text/csv') return 'csv';
  if (/\.(ndjson|jsonl)$/i.test(filename) || mimetype === 'application/x-ndjson' || mimetype === 'application/jsonl') return 'ndjson';
  throw invalid('unknown_format', 'Say the file’s format: a .csv or .ndjson name, or format=csv|ndjson', [{ pointer: '/query/format', detail: 'csv or ndjson' }]);
}

/**
 * Stores an uploaded file as the start of an import: streamed into chunks of the database (a worker on any node can
 * read it), never whole in memory; refused past `maxBytes` (413) or, for a CSV, when its header names columns the
 * kind does not take (422, each column named). Then one transaction queues the import's job.
 */
export async function createImport(
  ctx: Ctx & { db: Db },
  input: { kind: ImportKind; format: ImportFormat; filename: string; dryRun: boolean },
  file: AsyncIterable<Buffer>,
  limits: { maxBytes: number },
  /** false: no job runs it — the caller does (the CLI, which resumes it with `stockroom import resume`). */
  opts: { queue: boolean } = { queue: true },
): Promise<ImportView> {
  const now = ctx.clock.now().toISOString();
  const id = newId('import');
  await repo.insert(ctx.db, {
    tenant_id: ctx.tenantId,
    id,
    kind: input.kind,
    format: input.format,
    mode: input.dryRun ? 'dry_run' : 'apply',
    status: 'uploading',
    upload_id: id,
    filename: input.filename.slice(0, 200),
    size_bytes: 0,
    job_id: null,
    rows_done: 0,
    bytes_done: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    failed: 0,
    error_count: 0,
    checkpoint_row: 0,
    error: null,
    created_by: actorOf(ctx.principal),
    created_at: now,
    updated_at: now,
    started_at: null,
    finished_at: null,
  });
  try {
    const size = await storeFile(ctx, id, input, file, limits.maxBytes);
    return await ctx.db.transaction().execute(async (trx) => {
      const jobId = opts.queue ? await enqueue(trx, ctx.clock, { tenantId: ctx.tenantId, type: 'import.run', queue: 'imports', payload: { import_id: id }, maxAttempts: 10 }) : null;
      await repo.update(trx, ctx.tenantId, id, { status: 'queued', size_bytes: size, job_id: jobId, updated_at: ctx.clock.now().toISOString() });
      return toView((await repo.find(trx, ctx.tenantId, id)) as ImportsTable);
    });
  } catch (e) {
    await repo.deleteChunks(ctx.db, ctx.tenantId, id);
    await repo.delete(ctx.db, ctx.tenantId, id);
    throw e;
  }
}

async function storeFile(ctx: Ctx, id: string, input: { kind: ImportKind; format: ImportFormat }, file: AsyncIterable<Buffer>, maxBytes: number): Promise<number> {
  let size = 0;
  let seq = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const data = Buffer.concat(pending, pendingBytes);
    if (seq === 0 && input.format === 'csv') await checkCsvHeader(ctx, input.kind, data);
    await repo.insertChunk(ctx.db, { tenant_id: ctx.tenantId, upload_id: id, seq: seq++, data });
    pending = [];
    pendingBytes = 0;
  };
  for await (const part of file) {
    size += part.byteLength;
    if (size > maxBytes) throw new AppError('too_large', 'file_too_large', `An import file is at most ${maxBytes} bytes`);
    pending.push(part);
    pendingBytes += part.byteLength;
    if (pendingBytes >= CHUNK_BYTES) await flush();
  }
  await flush();
  if (size === 0) throw invalid('empty_file', 'The file is empty', [{ pointer: '/body/file', detail: 'no bytes' }]);
  return size;
}

/** A CSV's header, checked before the file is taken: an unknown column or location is named at once. */
async function checkCsvHeader(ctx: Ctx, kind: ImportKind, first: Buffer): Promise<void> {
  const end = first.indexOf(10);
  const text = first.subarray(0, end < 0 ? first.length : end).toString('utf8');
  let cells: string[];
  try {
    cells = ((parseSync(text, { bom: true, relax_column_count: true }) as string[][])[0] ?? []).map(String);
  } catch (e) {
    throw invalid('invalid_header', `The first line is not a CSV header: ${(e as Error).message}`, [{ pointer: '/body/file/1', detail: 'unreadable header' }]);
  }
  const { problems } = readHeader(kind, cells, await locationsByName(ctx.db, ctx.tenantId), 'default', new Set((await listFields(ctx)).map((f) => f.key)));
  if (problems.length) throw invalid('invalid_header', 'The file’s header names columns this import does not take', problems.map((p) => ({ pointer: `/body/file/header/${p.column}`, detail: `${p.code}: ${p.message}` })));
}

export async function getImport(ctx: Ctx, id: string): Promise<ImportView> {
  const r = await repo.find(ctx.db, ctx.tenantId, id);
  if (!r || r.status === 'uploading') throw notFound('Import');
  return toView(r);
}

export async function listImports(ctx: Ctx, page: PageRequest): Promise<Page<ImportView>> {
  const p = toPage(await repo.page(ctx.db, ctx.tenantId, page.limit, decodeCursor(page.cursor)), page.limit);
  return { ...p, data: p.data.map(toView) };
}

/** Applies a finished dry run: a new import of the same file (the dry run stays as it was, with its report). */
export async function applyDryRun(ctx: Ctx, id: string): Promise<ImportView> {
  const dry = await repo.find(ctx.db, ctx.tenantId, id);
  if (!dry || dry.status === 'uploading') throw notFound('Import');
  if (dry.mode !== 'dry_run') throw conflict('not_a_dry_run', 'Only a dry run can be applied; this import already wrote its rows');
  if (dry.status !== 'succeeded') throw conflict('dry_run_not_finished', 'The dry run has not finished');
  const first = await repo.chunksAfter(ctx.db, ctx.tenantId, dry.upload_id, -1, 1);
  if (first.length === 0) throw conflict('upload_expired', 'The dry run’s file is no longer kept; upload it again');
  const now = ctx.clock.now().toISOString();
  const newIdValue = newId('import');
  const jobId = await enqueue(ctx.db, ctx.clock, { tenantId: ctx.tenantId, type: 'import.run', queue: 'imports', payload: { import_id: newIdValue }, maxAttempts: 10 });
  const row: ImportsTable = { ...dry, id: newIdValue, mode: 'apply', status: 'queued', job_id: jobId, rows_done: 0, bytes_done: 0, created: 0, updated: 0, unchanged: 0, failed: 0, error_count: 0, checkpoint_row: 0, error: null, created_by: actorOf(ctx.principal), created_at: now, updated_at: now, started_at: null, finished_at: null };
  await repo.insert(ctx.db, row);
  return toView(row);
}

/** Stops an import between batches: what committed stays (re-running the file finishes it). */
export async function cancelImport(ctx: Ctx, id: string): Promise<ImportView> {
  const r = await repo.find(ctx.db, ctx.tenantId, id);
  if (!r || r.status === 'uploading') throw notFound('Import');
  const now = ctx.clock.now().toISOString();
  if (!(await repo.update(ctx.db, ctx.tenantId, id, { status: 'cancelled', finished_at: now, updated_at: now }, ['queued', 'running']))) throw conflict('import_finished', `The import has already ${r.status === 'cancelled' ? 'been cancelled' : 'finished'}`);
  return toView((await repo.find(ctx.db, ctx.tenantId, id)) as ImportsTable);
}

export async function importErrors(ctx: Ctx, id: string, page: PageRequest): Promise<Page<{ row: number; column: string; code: string; message: string }>> {
  await getImport(ctx, id);
  const after = decodeKeyCursor(page.cursor);
  const rows = await repo.errorsPage(ctx.db, ctx.tenantId, id, page.limit, after ? { row: after.key, column: after.id } : undefined);
  const has_more = rows.length > page.limit;
  const data = rows.slice(0, page.limit);
  const last = data.at(-1);
  return { data, has_more, next_cursor: has_more && last ? encodeKeyCursor(last.row, last.column) : null };
}

/** The error report as CSV (row, column, code, message), read a page at a time. */
export async function* errorReport(db: Executor, tenantId: string, id: string): AsyncGenerator<string> {
  yield csvRow(['row', 'column', 'code', 'message']);
  let after: { row: number; column: string } | undefined;
  for (;;) {
    const rows = await repo.errorsPage(db, tenantId, id, 1000, after);
    const page = rows.slice(0, 1000);
    if (page.length) yield page.map((r) => csvRow([r.row, r.column, r.code, r.message])).join('');
    if (rows.length <= 1000) return;
    const last = page.at(-1) as { row: number; column: string };
    after = { row: last.row, column: last.column };
  }
}

// --- the run ----------------------------------------------------------------------------------------------------

class Rollback extends Error {}
class Cancelled extends Error {}

export interface RunOptions {
  /** Rows per transaction (a product's rows are never split). */
  batchRows?: number;
  /** Told of the import after each batch (the job's progress, a CLI's progress bar). */
  onProgress?: (v: ImportView) => void | Promise<void>;
  /** Tests: called after each committed batch with its number (throw to crash there). */
  probe?: (batch: number) => void;
}

interface Batch {
  products: ImportProduct[];
  contacts: ImportContact[];
  problems: RowProblem[];
  rows: number;
  failed: number;
  lastLine: number;
}

const emptyBatch = (): Batch => ({ products: [], contacts: [], problems: [], rows: 0, failed: 0, lastLine: 0 });

/**
 * Runs an import to its end, a batch of rows per transaction: each batch's writes, its errors and the checkpoint
 * (its last row) commit together, so a run that dies is resumed from the last committed batch — nothing twice,
 * nothing skipped. A dry run does the very same writes and rolls each batch back, so its report is what the
 * import would do. A file that cannot be read at all fails the import with the reason. Idempotent on the import.
 */
export async function runImport(db: Db, clock: Clock, log: Logger, tenantId: string, id: string, opts: RunOptions = {}): Promise<ImportView> {
  const batchRows = opts.batchRows ?? 1000;
  const imp = await repo.find(db, tenantId, id);
  if (!imp) throw notFound('Import');
  if (imp.status === 'succeeded' || imp.status === 'failed' || imp.status === 'cancelled') return toView(imp);
  await repo.update(db, tenantId, id, { status: 'running', started_at: imp.started_at ?? clock.now().toISOString(), updated_at: clock.now().toISOString() }, ['queued', 'running']);
  const principal: TenantPrincipal = { kind: 'system', tenantId };
  const ctxOf = (x: Executor): Ctx => ({ tenantId, principal, db: x, clock, log });
  const tenant = await getTenant(db, tenantId);
  const locations = await locationsByName(db, tenantId);
  const defaultLocation = await defaultLocationId(db, clock, tenantId);
  const fields = new Set((await listFields(ctxOf(db))).map((f) => f.key));
  const checkpoint = imp.checkpoint_row;

  let bytes = 0;
  async function* chunks() {
    let after = -1;
    for (;;) {
      const part = await repo.chunksAfter(db, tenantId, imp!.upload_id, after, 4);
      if (part.length === 0) return;
      for (const c of part) yield c.data;
      after = (part.at(-1) as { seq: number }).seq;
    }
  }
  let header: Header | null = null;
  let group: ProductRow[] = [];
  let batch = emptyBatch();
  let batches = 0;
  let lastEvent = 0;

  const closeGroup = () => {
    if (group.length === 0) return;
    const problems = group.flatMap((r) => r.problems);
    if (problems.length) {
      batch.problems.push(...problems);
      batch.failed += group.length;
    } else batch.products.push(groupRows(group));
    group = [];
  };

  const flush = async (final: boolean) => {
    if (batch.rows === 0 && !final) return;
    const b = batch;
    batch = emptyBatch();
    const apply = async (trx: Executor) => {
      const cur = await repo.find(trx, tenantId, id);
      if (cur?.status === 'cancelled') throw new Cancelled();
      return imp.kind === 'products' ? importProducts(ctxOf(trx), b.products, { reference: id }) : importContacts(ctxOf(trx), b.contacts, { reference: id });
    };
    const record = async (trx: Executor, outcome: { created: number; updated: number; unchanged: number; failed: number; problems: RowProblem[] }) => {
      const problems = [...b.problems, ...outcome.problems];
      const at = clock.now().toISOString();
      await repo.insertErrors(trx, problems.map((p): ImportErrorsTable => ({ tenant_id: tenantId, import_id: id, row: p.row, column: p.column, code: p.code, message: p.message.slice(0, 500) })));
      await repo.advance(trx, tenantId, id, { rows: b.rows, bytes, created: outcome.created, updated: outcome.updated, unchanged: outcome.unchanged, failed: b.failed + outcome.failed, errors: problems.length, checkpoint: b.lastLine, at });
      if (Date.now() - lastEvent >= 1000 && !final) {
        lastEvent = Date.now();
        const v = toView((await repo.find(trx, tenantId, id)) as ImportsTable);
        await emitEvent(trx, tenantId, 'import.progress', id, eventOf(v), at);
      }
    };
    if (imp.mode === 'apply') {
      await db.transaction().execute(async (trx) => record(trx, await apply(trx)));
    } else {
      let outcome: Awaited<ReturnType<typeof apply>> | null = null;
      await db
        .transaction()
        .execute(async (trx) => {
          outcome = await apply(trx);
          throw new Rollback();
        })
        .catch((e: unknown) => {
          if (!(e instanceof Rollback)) throw e;
        });
      await db.transaction().execute((trx) => record(trx, outcome as unknown as Awaited<ReturnType<typeof apply>>));
    }
    batches++;
    opts.probe?.(batches);
    if (opts.onProgress) await opts.onProgress(toView((await repo.find(db, tenantId, id)) as ImportsTable));
  };

  const fail = async (message: string, problems: RowProblem[]) => {
    const at = clock.now().toISOString();
    await db.transaction().execute(async (trx) => {
      await repo.insertErrors(trx, problems.map((p) => ({ tenant_id: tenantId, import_id: id, ...p })));
      await repo.update(trx, tenantId, id, { status: 'failed', error: message, error_count: problems.length, finished_at: at, updated_at: at });
      await emitEvent(trx, tenantId, 'import.failed', id, eventOf(toView((await repo.find(trx, tenantId, id)) as ImportsTable)), at);
    });
    return toView((await repo.find(db, tenantId, id)) as ImportsTable);
  };

  try {
    for await (const r of readRecords(chunks(), imp.format, () => undefined)) {
      if (r.bytes !== undefined) bytes = r.bytes;
      if (imp.format === 'csv' && header === null) {
        if (!('cells' in r)) return await fail('The first line is not a CSV header', [{ row: r.line, column: '', code: 'invalid_header', message: 'unreadable' }]);
        const h = readHeader(imp.kind, r.cells, locations, defaultLocation, fields);
        if (h.problems.length) return await fail('The header names columns this import does not take', h.problems);
        header = h.header;
        continue;
      }
      if (r.line <= checkpoint) continue;
      if ('unreadable' in r) {
        closeGroup();
        batch.problems.push({ row: r.line, column: '', code: r.unreadable.code, message: r.unreadable.message });
        batch.failed++;
      } else if (imp.kind === 'products' && 'cells' in r) {
        const row = productRow(header as Header, r.cells, r.line, tenant.currency);
        if (group.length && (group[0] as ProductRow).handle !== row.handle) {
          closeGroup();
          if (batch.rows >= batchRows) await flush(false);
        }
        group.push(row);
      } else {
        const mapped = imp.kind === 'products' ? productLine((r as { json: unknown }).json, r.line, locations, defaultLocation) : 'cells' in r ? contactRow(header as Header, r.cells, r.line) : contactLine(r.json, r.line);
        if (mapped.item) (imp.kind === 'products' ? batch.products : batch.contacts).push(mapped.item as never);
        else {
          batch.problems.push(...mapped.problems);
          batch.failed++;
        }
      }
      batch.rows++;
      batch.lastLine = r.line;
      if (batch.rows >= batchRows && group.length === 0) await flush(false);
    }
    if (imp.format === 'csv' && header === null) return await fail('The file has no header row', [{ row: 1, column: '', code: 'invalid_header', message: 'no rows' }]);
    closeGroup();
    await flush(true);
  } catch (e) {
    if (e instanceof Cancelled) return toView((await repo.find(db, tenantId, id)) as ImportsTable);
    throw e;
  }

  const at = clock.now().toISOString();
  const done = await db.transaction().execute(async (trx) => {
    const errors = await repo.countErrors(trx, tenantId, id);
    if (!(await repo.update(trx, tenantId, id, { status: 'succeeded', bytes_done: imp.size_bytes, error_count: errors, finished_at: at, updated_at: at }, ['running']))) return null;
    const v = toView((await repo.find(trx, tenantId, id)) as ImportsTable);
    await emitEvent(trx, tenantId, 'import.completed', id, eventOf(v), at);
    return v;
  });
  // An applied file is not kept (a dry run's is, until it is applied or purged).
  if (imp.mode === 'apply' && !(await repo.uploadInUse(db, tenantId, imp.upload_id, id))) await repo.deleteChunks(db, tenantId, imp.upload_id);
  return done ?? toView((await repo.find(db, tenantId, id)) as ImportsTable);
}

/** Marks an import failed when its job gave up (the last attempt failed): the reason is on the import. */
export async function giveUpImport(db: Db, clock: Clock, tenantId: string, id: string, message: string): Promise<void> {
  const at = clock.now().toISOString();
  await db.transaction().execute(async (trx) => {
    if (!(await repo.update(trx, tenantId, id, { status: 'failed', error: message.slice(0, 500), finished_at: at, updated_at: at }, ['queued', 'running']))) return;
    await emitEvent(trx, tenantId, 'import.failed', id, eventOf(toView((await repo.find(trx, tenantId, id)) as ImportsTable)), at);
  });
}

/** Files of imports that finished more than `days` ago (a dry run never applied, a failed run) are not kept. */
export async function purgeImportFiles(db: Db, clock: Clock, days = 7): Promise<number> {
  const before = addSeconds(clock.now(), -days * 86_400).toISOString();
  const old = await repo.finishedUploads(db, before);
  let n = 0;
  for (const u of old) {
    if (await repo.uploadInUse(db, u.tenant_id, u.upload_id, '')) continue;
    await repo.deleteChunks(db, u.tenant_id, u.upload_id);
    n++;
  }
  return n;
}

const eventOf = (v: ImportView) => ({ import_id: v.id, kind: v.kind, mode: v.mode, status: v.status, percent: v.percent, rows_done: v.rows_done, created: v.created, updated: v.updated, unchanged: v.unchanged, failed: v.failed, error_count: v.error_count, error: v.error });
