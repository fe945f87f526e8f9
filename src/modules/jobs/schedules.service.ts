import { actorOf, type Ctx, type Executor } from '../../context.ts';
import type { Clock } from '../../lib/clock.ts';
import { authorizeTask, mayRunTask } from '../../policy/index.ts';
import { currentPermissions } from '../auth/index.ts';
import type { ShopSchedulesTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { isValidTimeZone } from '../../lib/timezones.ts';
import { parseCron, type Schedule } from './scheduler.ts';
import { schedulesRepository as repo } from './schedules.repository.ts';
import { decodeCursor, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';

/** The most schedules one shop may have (a list is never cut off silently: creating more is refused). */
export const MAX_SCHEDULES = 100;

/** What a shop can schedule, and the job each slot enqueues. */
export const SHOP_TASKS: Record<string, Schedule['job']> = {
  export_orders: { type: 'export.csv', queue: 'default', payload: { kind: 'orders' }, maxAttempts: 3 },
  export_customers: { type: 'export.csv', queue: 'default', payload: { kind: 'customers' }, maxAttempts: 3 },
  export_products: { type: 'export.csv', queue: 'default', payload: { kind: 'products' }, maxAttempts: 3 },
};

export interface ShopSchedule {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  task: string;
  status: 'active' | 'paused';
  /** Why it paused itself: `creator_lost_permission` when its creator may no longer run the task. */
  paused_reason: string | null;
  next_run_at: string | null;
  created_at: string;
  updated_at: string;
}

const toSchedule = (r: ShopSchedulesTable): ShopSchedule => ({
  id: r.id,
  name: r.name,
  cron: r.cron,
  timezone: r.timezone,
  task: r.task,
  status: r.status,
  paused_reason: r.status === 'paused' ? r.paused_reason : null,
  next_run_at: r.status === 'active' ? (parseCron(r.cron, r.timezone).nextRun()?.toISOString() ?? null) : null,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

function check(cron: string, timezone: string): void {
  if (!isValidTimeZone(timezone)) throw invalid('invalid_timezone', 'Unknown time zone', [{ pointer: '/body/timezone', detail: 'not an IANA time zone' }]);
  parseCron(cron, timezone);
}

async function find(ctx: Ctx, id: string): Promise<ShopSchedulesTable> {
  const r = await repo.find(ctx.db, ctx.tenantId, id);
  if (!r) throw notFound('Schedule');
  return r;
}

/** A page of the shop's schedules, in creation order. */
export async function listSchedules(ctx: Ctx, page: PageRequest): Promise<Page<ShopSchedule>> {
  const p = toPage(await repo.list(ctx.db, ctx.tenantId, page.limit, decodeCursor(page.cursor)), page.limit);
  return { ...p, data: p.data.map(toSchedule) };
}

export async function createSchedule(ctx: Ctx, shopTimezone: string, input: { name: string; cron: string; timezone?: string | undefined; task: string }): Promise<ShopSchedule> {
  authorizeTask(ctx.principal, input.task);
  const timezone = input.timezone ?? shopTimezone;
  check(input.cron, timezone);
  const now = ctx.clock.now().toISOString();
  const row: ShopSchedulesTable = { tenant_id: ctx.tenantId, id: newId('schedule'), name: input.name, cron: input.cron, timezone, task: input.task, status: 'active', created_by: actorOf(ctx.principal), paused_reason: null, created_at: now, updated_at: now };
  try {
    if ((await repo.count(ctx.db, ctx.tenantId)) >= MAX_SCHEDULES) throw conflict('too_many_schedules', `A shop has at most ${MAX_SCHEDULES} schedules; delete one first`);
    await repo.insert(ctx.db, row);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('schedule_name_taken', `A schedule named "${input.name}" exists`);
    throw e;
  }
  return toSchedule(row);
}

export async function updateSchedule(ctx: Ctx, id: string, patch: { name?: string | undefined; cron?: string | undefined; timezone?: string | undefined; status?: 'active' | 'paused' | undefined }): Promise<ShopSchedule> {
  const cur = await find(ctx, id);
  if (patch.status === 'active' && cur.status === 'paused') authorizeTask(ctx.principal, cur.task);
  const next = { ...cur, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)), updated_at: ctx.clock.now().toISOString() } as ShopSchedulesTable;
  check(next.cron, next.timezone);
  try {
    // Whoever resumes a schedule takes it over: it runs with their rights from now on.
    const resumed = patch.status === 'active' && cur.status === 'paused' ? { created_by: actorOf(ctx.principal), paused_reason: null } : {};
    Object.assign(next, resumed);
    await repo.update(ctx.db, ctx.tenantId, id, { name: next.name, cron: next.cron, timezone: next.timezone, status: next.status, updated_at: next.updated_at, ...resumed });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('schedule_name_taken', `A schedule named "${patch.name}" exists`);
    throw e;
  }
  return toSchedule(next);
}

export async function deleteSchedule(ctx: Ctx, id: string): Promise<void> {
  await find(ctx, id);
  await repo.delete(ctx.db, ctx.tenantId, id);
}

/**
 * Every active schedule of every active shop, for the scheduler (re-read on each tick). A schedule runs with its
 * creator's rights: one whose creator was disabled, revoked or lost a permission the task needs pauses itself
 * (`paused_reason: creator_lost_permission`) instead of running.
 */
export async function activeShopSchedules(db: Executor, clock: Clock): Promise<(Schedule & { since: Date })[]> {
  const rows = await repo.activeOfActiveShops(db);
  const out: (Schedule & { since: Date })[] = [];
  for (const r of rows) {
    const job = SHOP_TASKS[r.task];
    if (!job) continue;
    if (r.created_by !== null) {
      const rights = await currentPermissions(db, r.tenant_id, r.created_by);
      if (!rights || !mayRunTask(rights, r.task)) {
        await repo.pause(db, r.tenant_id, r.id, 'creator_lost_permission', clock.now().toISOString());
        continue;
      }
    }
    out.push({ name: r.id, cron: r.cron, timezone: r.timezone, tenantId: r.tenant_id, job: { ...job, payload: { ...job.payload, schedule_name: r.name } }, since: new Date(r.updated_at) });
  }
  return out;
}
