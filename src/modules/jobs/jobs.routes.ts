import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { Body, IdParams, Name, NoContent, Page, PageQuery, Timestamp, PageOnlyQuery, pageRequest } from '../../http/schemas.ts';
import type { Principal } from '../../context.ts';
import { jobFor } from '../../policy/index.ts';
import { getShop } from '../tenants/index.ts';
import { SHOP_TASKS, createSchedule, deleteSchedule, listSchedules, updateSchedule } from './schedules.service.ts';
import { cancelJob, getJob, listJobs, retryJob } from './jobs.service.ts';
import { JobSchema, JobStatusSchema } from './jobs.schemas.ts';

const ListQuery = Type.Object({ ...PageQuery, status: Type.Optional(JobStatusSchema), type: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false });

/** A shop's staff see and steer their shop's jobs; operators see every job and steer the deployment's own. */
export const jobsRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['jobs'];
  // Jobs are shown through the policy: personal data in payloads only to those who may read it.
  const shown = <P extends { data: Parameters<typeof jobFor>[1][] }>(req: { principal: Principal }, page: P): P => ({ ...page, data: page.data.map((j) => jobFor(req.principal, j)) });
  app.get('/api/jobs', { config: { access: access.staff('jobs:read') }, schema: { tags, summary: 'The shop’s background jobs', operationId: 'listJobs', querystring: ListQuery, response: { 200: Page(JobSchema, 'Job') } } }, async (req) =>
    shown(req, await listJobs(deps.db, { tenantId: deps.ctx(req).tenantId, status: req.query.status, type: req.query.type, limit: req.query.limit ?? 20, cursor: req.query.cursor })),
  );
  app.get('/api/jobs/:id', { config: { access: access.staff('jobs:read') }, schema: { tags, summary: 'Read a job (status, attempts, last error, progress)', operationId: 'getJob', params: IdParams, response: { 200: JobSchema } } }, async (req) =>
    jobFor(req.principal, await getJob(deps.db, deps.ctx(req).tenantId, req.params.id)),
  );
  app.post('/api/jobs/:id/retry', { config: { access: access.staff('jobs:write') }, schema: { tags, summary: 'Run a dead or cancelled job again', operationId: 'retryJob', params: IdParams, response: { 200: JobSchema } } }, async (req) =>
    jobFor(req.principal, await retryJob(deps, deps.ctx(req).tenantId, req.params.id)),
  );
  app.post('/api/jobs/:id/cancel', { config: { access: access.staff('jobs:write') }, schema: { tags, summary: 'Cancel a job that has not started', operationId: 'cancelJob', params: IdParams, response: { 200: JobSchema } } }, async (req) =>
    jobFor(req.principal, await cancelJob(deps, deps.ctx(req).tenantId, req.params.id)),
  );

  app.get(
    '/api/platform/jobs',
    {
      config: { access: access.platform() },
      schema: { tags: ['platform'], summary: 'Every job of every shop and of the deployment', operationId: 'platformListJobs', querystring: Type.Object({ ...ListQuery.properties, tenant_id: Type.Optional(Type.String({ maxLength: 64, description: 'A shop, or "system" for the deployment’s own jobs' })) }, { additionalProperties: false }), response: { 200: Page(JobSchema, 'Job') } },
    },
    async (req) => shown(req, await listJobs(deps.db, { tenantId: req.query.tenant_id === 'system' ? '' : req.query.tenant_id, status: req.query.status, type: req.query.type, limit: req.query.limit ?? 20, cursor: req.query.cursor })),
  );
  app.post('/api/platform/jobs/:id/retry', { config: { access: access.platform() }, schema: { tags: ['platform'], summary: 'Run a dead or cancelled job of the deployment again', operationId: 'platformRetryJob', params: IdParams, response: { 200: JobSchema } } }, async (req) =>
    jobFor(req.principal, await retryJob(deps, '', req.params.id)),
  );
};

const ScheduleSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    cron: Type.String(),
    timezone: Type.String(),
    task: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('paused')]),
    paused_reason: Type.Union([Type.String(), Type.Null()], { description: 'creator_lost_permission: the schedule runs with its creator’s rights, and they no longer allow its task; resuming it makes the resumer its owner' }),
    next_run_at: Type.Union([Timestamp, Type.Null()]),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Schedule' },
);
const Task = Type.Union(Object.keys(SHOP_TASKS).map((k) => Type.Literal(k)));
const Cron = Type.String({ minLength: 9, maxLength: 100, description: 'Cron expression (5 or 6 fields), e.g. "0 6 * * 1" for Mondays at 06:00' });

/** A shop's own schedules: each slot runs once across all nodes. */
export const schedulesRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['jobs'];
  app.get('/api/schedules', { config: { access: access.staff('jobs:read') }, schema: { tags, summary: 'The shop’s schedules', operationId: 'listSchedules', querystring: PageOnlyQuery, response: { 200: Page(ScheduleSchema, 'Schedule') } } }, async (req) =>
    listSchedules(deps.ctx(req), pageRequest(req.query)),
  );
  app.post(
    '/api/schedules',
    {
      config: { access: access.staff('jobs:write') },
      schema: { tags, summary: 'Run a task on a cron schedule (in the shop’s time zone unless given); needs the permissions of its task, and runs with them', operationId: 'createSchedule', body: Body({ name: Name(100), cron: Cron, timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), task: Task }, 'ScheduleCreate'), response: { 201: ScheduleSchema } },
    },
    async (req, reply) => {
      const shop = await getShop(deps.ctx(req)); // read before the transaction: SQLite has one connection
      return reply.code(201).send(await deps.tx(req, (c) => createSchedule(c, shop.timezone, req.body)));
    },
  );
  app.patch(
    '/api/schedules/:id',
    {
      config: { access: access.staff('jobs:write') },
      schema: { tags, summary: 'Change, pause or resume a schedule', operationId: 'updateSchedule', params: IdParams, body: Body({ name: Type.Optional(Name(100)), cron: Type.Optional(Cron), timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('paused')])) }, 'ScheduleUpdate'), response: { 200: ScheduleSchema } },
    },
    async (req) => deps.tx(req, (c) => updateSchedule(c, req.params.id, req.body)),
  );
  app.delete('/api/schedules/:id', { config: { access: access.staff('jobs:write') }, schema: { tags, summary: 'Delete a schedule', operationId: 'deleteSchedule', params: IdParams, response: { 204: NoContent } } }, async (req, reply) => {
    await deps.tx(req, (c) => deleteSchedule(c, req.params.id));
    return reply.code(204).send(null);
  });
};
