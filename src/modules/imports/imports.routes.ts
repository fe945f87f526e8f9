import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { IdParams, Page, PageOnlyQuery, Timestamp, NullableTimestamp, pageRequest } from '../../http/schemas.ts';
import { malformed } from '../../lib/errors.ts';
import { authorizeImport } from '../../policy/index.ts';
import { applyDryRun, cancelImport, createImport, errorReport, formatOf, getImport, importErrors, listImports, type ImportKind } from './imports.service.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const ImportSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.Union([Type.Literal('products'), Type.Literal('contacts')]),
    format: Type.Union([Type.Literal('csv'), Type.Literal('ndjson')]),
    mode: Type.Union([Type.Literal('dry_run'), Type.Literal('apply')]),
    status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled'), Type.Literal('uploading')]),
    filename: Type.String(),
    size_bytes: Type.Integer(),
    percent: Type.Integer({ description: 'How far through the file, by bytes read' }),
    rows_done: Type.Integer(),
    created: Type.Integer({ description: 'Rows that made a new product variant or contact' }),
    updated: Type.Integer({ description: 'Rows that changed something' }),
    unchanged: Type.Integer({ description: 'Rows already as the file says' }),
    failed: Type.Integer({ description: 'Rows not imported; see the error report' }),
    error_count: Type.Integer(),
    error: Nullable(Type.String({ description: 'Why the whole import failed (an unreadable file)' })),
    dry_run_id: Nullable(Type.String({ description: 'The dry run this import applies' })),
    job_id: Nullable(Type.String()),
    created_by: Type.String(),
    created_at: Timestamp,
    started_at: NullableTimestamp,
    finished_at: NullableTimestamp,
    errors_url: Type.String({ description: 'The error report as CSV (row, column, code, message)' }),
  },
  { title: 'Import' },
);
const ImportError = Type.Object({ row: Type.Integer({ description: 'The row of the file (CSV: the header is row 1; NDJSON: the line)' }), column: Type.String({ description: 'The CSV column or JSON pointer; empty for the whole row' }), code: Type.String(), message: Type.String() }, { title: 'ImportError' });

/**
 * Imports over REST: upload a CSV or NDJSON file (multipart, field `file`) as a dry run or for real, follow its
 * progress (here, on the job, or on the realtime `imports` channel), read its error report, apply a dry run,
 * cancel. Starting one needs `imports:write` and the write permissions of what it imports (policy).
 */
export const importsRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['imports'];
  const maxBytes = deps.config.importMaxBytes;
  // Multipart only here; the file streams into the database as it arrives (never whole in memory).
  await app.register(multipart, { limits: { fileSize: maxBytes + 1, files: 1, fields: 0, parts: 1, headerPairs: 100 } });

  app.post(
    '/api/imports',
    {
      config: { access: access.staff('imports:write') },
      schema: {
        tags,
        summary: 'Upload a file of products or contacts (multipart/form-data, field "file"); a dry run reports what it would do',
        description: `CSV (a header row; products: handle, title, description, status, category, images, option1_name … option3_value, sku, variant_title, price, compare_at_price, weight_grams, stock, stock:<location>, attribute:<key>; contacts: email, first_name, last_name, phone, country, tags, email_marketing, custom:<field>) or NDJSON (one product or contact per line in the API's shape). At most ${maxBytes} bytes. Answers 202; follow the import for progress and its error report. An Idempotency-Key makes a retried upload answer with the first import.`,
        operationId: 'createImport',
        consumes: ['multipart/form-data'],
        querystring: Type.Object(
          {
            kind: Type.Union([Type.Literal('products'), Type.Literal('contacts')]),
            dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Check every row and report; write nothing' })),
            format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { description: 'When the file name does not say (.csv, .ndjson, .jsonl)' })),
          },
          { additionalProperties: false },
        ),
        response: { 202: ImportSchema },
      },
    },
    async (req, reply) => {
      const ctx = deps.ctx(req);
      const kind = req.query.kind as ImportKind;
      authorizeImport(ctx.principal, kind);
      if (!req.isMultipart()) throw malformed('multipart_required', 'Send the file as multipart/form-data in a field named "file"', [{ pointer: '/body/file', detail: 'required' }]);
      const part = await req.file();
      if (!part) throw malformed('file_required', 'Send the file in a field named "file"', [{ pointer: '/body/file', detail: 'required' }]);
      const format = formatOf(part.filename, part.mimetype, req.query.format);
      const view = await createImport(ctx, { kind, format, filename: part.filename || `import.${format}`, dryRun: req.query.dry_run ?? false }, part.file, { maxBytes });
      return reply.code(202).header('location', `/api/imports/${view.id}`).send(view);
    },
  );
  app.get('/api/imports', { config: { access: access.staff('imports:read') }, schema: { tags, summary: 'The shop’s imports, newest first', operationId: 'listImports', querystring: PageOnlyQuery, response: { 200: Page(ImportSchema, 'Import') } } }, async (req) =>
    listImports(deps.ctx(req), pageRequest(req.query)),
  );
  app.get('/api/imports/:id', { config: { access: access.staff('imports:read') }, schema: { tags, summary: 'An import: status, progress, counts', operationId: 'getImport', params: IdParams, response: { 200: ImportSchema } } }, async (req) => getImport(deps.ctx(req), req.params.id));
  app.get(
    '/api/imports/:id/errors',
    { config: { access: access.staff('imports:read') }, schema: { tags, summary: 'The import’s problems, by row and column', operationId: 'listImportErrors', params: IdParams, querystring: PageOnlyQuery, response: { 200: Page(ImportError, 'ImportError') } } },
    async (req) => importErrors(deps.ctx(req), req.params.id, pageRequest(req.query)),
  );
  app.get(
    '/api/imports/:id/errors.csv',
    { config: { access: access.staff('imports:read') }, schema: { tags, summary: 'The error report as a CSV download', operationId: 'downloadImportErrors', params: IdParams, produces: ['text/csv'], response: { 200: { description: 'CSV file', content: { 'text/csv': { schema: { type: 'string' } } } } } } },
    async (req, reply) => {
      const ctx = deps.ctx(req);
      await getImport(ctx, req.params.id);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${req.params.id}-errors.csv"`).send(Readable.from(errorReport(deps.db, ctx.tenantId, req.params.id)) as never);
    },
  );
  app.post(
    '/api/imports/:id/apply',
    { config: { access: access.staff('imports:write') }, schema: { tags, summary: 'Import for real what a finished dry run checked (the same file)', operationId: 'applyImport', params: IdParams, response: { 202: ImportSchema } } },
    async (req, reply) => {
      const ctx = deps.ctx(req);
      authorizeImport(ctx.principal, (await getImport(ctx, req.params.id)).kind);
      const view = await deps.tx(req, (c) => applyDryRun(c, req.params.id));
      return reply.code(202).header('location', `/api/imports/${view.id}`).send(view);
    },
  );
  app.post('/api/imports/:id/cancel', { config: { access: access.staff('imports:write') }, schema: { tags, summary: 'Stop an import between batches (what committed stays)', operationId: 'cancelImport', params: IdParams, response: { 200: ImportSchema } } }, async (req) =>
    deps.tx(req, (c) => cancelImport(c, req.params.id)),
  );
};
