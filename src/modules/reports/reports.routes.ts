import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import type { Principal } from '../../context.ts';
import { authorizeExport } from '../../policy/index.ts';
import { Body, IdParams, Page, PageQuery } from '../../http/schemas.ts';
import { AppError, notFound } from '../../lib/errors.ts';
import { enqueue, getJob, JobSchema } from '../jobs/index.ts';
import { getShop } from '../tenants/index.ts';
import { EXPORT_KINDS, exportContent, exportFile, type ExportKind } from './exports.ts';
import { checkRange, lowStock, salesReport, storedDailyReports, topProducts } from './reports.service.ts';

const DateStr = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'A calendar date in the shop’s time zone' });
const Range = { from: DateStr, to: DateStr };
const Day = Type.Object({ date: Type.String(), orders: Type.Integer(), revenue: Type.Integer(), tax: Type.Integer(), discounts: Type.Integer(), refunds: Type.Integer(), net: Type.Integer(), average_order_value: Type.Integer() });
const Totals = Type.Object({
  orders: Type.Integer(),
  revenue: Type.Integer(),
  tax: Type.Integer(),
  discounts: Type.Integer(),
  refunds: Type.Integer(),
  net: Type.Integer(),
  average_order_value: Type.Integer(),
  recovered_orders: Type.Integer({ description: 'Orders from carts after their abandoned-cart reminder' }),
  recovered_revenue: Type.Integer({ description: 'Their revenue' }),
});
const ExportView = Type.Object({ job: JobSchema, filename: Type.Union([Type.String(), Type.Null()]), rows: Type.Union([Type.Integer(), Type.Null()]), download_url: Type.Union([Type.String(), Type.Null()], { description: 'Set when the export is done' }) }, { title: 'Export' });

export const reportsRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['reports'];
  const read = access.staff('reports:read');

  app.get(
    '/api/reports/sales',
    {
      config: { access: read },
      schema: { tags, summary: 'Sales per day in the shop’s time zone: orders, revenue, tax, discounts, refunds, net, average order value', operationId: 'salesReport', querystring: Type.Object(Range, { additionalProperties: false }), response: { 200: Type.Object({ currency: Type.String(), timezone: Type.String(), from: Type.String(), to: Type.String(), days: Type.Array(Day), totals: Totals }) } },
    },
    async (req) => {
      const ctx = deps.ctx(req);
      return salesReport(ctx.db, ctx.tenantId, await getShop(ctx), req.query.from, req.query.to);
    },
  );
  app.get(
    '/api/reports/top-products',
    {
      config: { access: read },
      schema: {
        tags,
        summary: 'Best-selling variants by revenue in a date range',
        operationId: 'topProducts',
        querystring: Type.Object({ ...Range, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(Type.Object({ product_id: Type.String(), variant_id: Type.String(), sku: Type.String(), title: Type.String(), quantity: Type.Integer(), revenue: Type.Integer(), orders: Type.Integer() })) }) },
      },
    },
    async (req) => {
      const ctx = deps.ctx(req);
      return { data: await topProducts(ctx.db, ctx.tenantId, (await getShop(ctx)).timezone, req.query.from, req.query.to, req.query.limit ?? 10) };
    },
  );
  app.get(
    '/api/reports/low-stock',
    {
      config: { access: read },
      schema: {
        tags,
        summary: 'Variants at or below their low-stock threshold, fewest first (cursor-paginated)',
        operationId: 'lowStockReport',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(Type.Object({ variant_id: Type.String(), sku: Type.String(), title: Type.String(), available: Type.Integer(), threshold: Type.Integer() }), 'LowStockVariant') },
      },
    },
    async (req) => lowStock(deps.ctx(req).db, deps.ctx(req).tenantId, { limit: req.query.limit ?? 20, cursor: req.query.cursor }),
  );
  app.get(
    '/api/reports/daily',
    { config: { access: read }, schema: { tags, summary: 'Daily sales as computed each night by the report job', operationId: 'dailyReports', querystring: Type.Object(Range, { additionalProperties: false }), response: { 200: Type.Object({ data: Type.Array(Day) }) } } },
    async (req) => ({ data: await storedDailyReports(deps.ctx(req), req.query.from, req.query.to) }),
  );

  // --- CSV exports, as background jobs
  // An export is readable only with the permission its kind needs (policy), not with reports:read alone.
  const view = async (principal: Principal, tenantId: string, jobId: string) => {
    const job = await getJob(deps.db, tenantId, jobId);
    if (job.type !== 'export.csv') throw notFound('Export');
    authorizeExport(principal, String(job.payload.kind));
    const file = job.status === 'succeeded' ? await exportFile(deps.db, tenantId, jobId) : undefined;
    return { job, filename: file?.filename ?? null, rows: file?.rows ?? null, download_url: file ? `/api/exports/${jobId}/download` : null };
  };
  app.post(
    '/api/exports',
    {
      config: { access: read },
      schema: {
        tags,
        summary: 'Start a CSV export of orders, customers or products; poll it for progress and the download link',
        operationId: 'createExport',
        body: Body({ kind: Type.Union(EXPORT_KINDS.map((k) => Type.Literal(k))), from: Type.Optional(DateStr), to: Type.Optional(DateStr) }, 'ExportRequest'),
        response: { 202: ExportView },
      },
    },
    async (req, reply) => {
      const ctx = deps.ctx(req);
      const kind = req.body.kind as ExportKind;
      authorizeExport(ctx.principal, kind);
      if ((req.body.from === undefined) !== (req.body.to === undefined)) throw new AppError('invalid', 'invalid_report_range', 'Send both from and to, or neither');
      if (req.body.from && req.body.to) checkRange(req.body.from, req.body.to, 'body');
      const id = await deps.tx(req, (c) => enqueue(c.db, c.clock, { tenantId: c.tenantId, queue: 'default', type: 'export.csv', payload: { kind, ...(req.body.from ? { from: req.body.from, to: req.body.to } : {}) }, maxAttempts: 3 }));
      return reply.code(202).header('location', `/api/exports/${id}`).send(await view(ctx.principal, ctx.tenantId, id as string));
    },
  );
  app.get('/api/exports/:id', { config: { access: read }, schema: { tags, summary: 'An export’s status, progress and download link', operationId: 'getExport', params: IdParams, response: { 200: ExportView } } }, async (req) =>
    view(req.principal, deps.ctx(req).tenantId, req.params.id),
  );
  app.get(
    '/api/exports/:id/download',
    { config: { access: read }, schema: { tags, summary: 'The finished CSV', operationId: 'downloadExport', params: IdParams, produces: ['text/csv'], response: { 200: { description: 'CSV file', content: { 'text/csv': { schema: { type: 'string' } } } } } } },
    async (req, reply) => {
      const tenantId = deps.ctx(req).tenantId;
      await view(req.principal, tenantId, req.params.id);
      const file = await exportFile(deps.db, tenantId, req.params.id);
      if (!file) throw new AppError('conflict', 'export_not_ready', 'The export has not finished yet');
      // Streamed chunk by chunk: the server never holds the whole file, however large.
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${file.filename}"`).send(Readable.from(exportContent(deps.db, tenantId, req.params.id)) as never);
    },
  );
};
