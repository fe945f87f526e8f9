import type { Ctx, Executor } from '../../context.ts';
import type { ShopSchedulesTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { isValidTimeZone } from '../../lib/timezones.ts';
import { parseCron, type Schedule } from './scheduler.ts';

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
  next_run_at: r.status === 'active' ? (parseCron(r.cron, r.timezone).nextRun()?.toISOString() ?? null) : null,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

function check(cron: string, timezone: string): void {
  if (!isValidTimeZone(timezone)) throw invalid('invalid_timezone', 'Unknown time zone', [{ pointer: '/body/timezone', detail: 'not an IANA time zone' }]);
  parseCron(cron, timezone);
}

async function find(ctx: Ctx, id: string): Promise<ShopSchedulesTable> {
  const r = await ctx.db.selectFrom('shop_schedules').selectAll().where('tenant_id', '=', ctx.tenantId).where('id', '=', id).executeTakeFirst();
  if (!r) throw notFound('Schedule');
  return r;
}

export async function listSchedules(ctx: Ctx): Promise<ShopSchedule[]> {
  return (await ctx.db.selectFrom('shop_schedules').selectAll().where('tenant_id', '=', ctx.tenantId).orderBy('id').limit(1000).execute()).map(toSchedule);
}

export async function createSchedule(ctx: Ctx, shopTimezone: string, input: { name: string; cron: string; timezone?: string | undefined; task: string }): Promise<ShopSchedule> {
  const timezone = input.timezone ?? shopTimezone;
  check(input.cron, timezone);
  const now = ctx.clock.now().toISOString();
  const row: ShopSchedulesTable = { tenant_id: ctx.tenantId, id: newId('schedule'), name: input.name, cron: input.cron, timezone, task: input.task, status: 'active', created_at: now, updated_at: now };
  try {
    await ctx.db.insertInto('shop_schedules').values(row).execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('schedule_name_taken', `A schedule named "${input.name}" exists`);
    throw e;
  }
  return toSchedule(row);
}

export async function updateSchedule(ctx: Ctx, id: string, patch: { name?: string | undefined; cron?: string | undefined; timezone?: string | undefined; status?: 'active' | 'paused' | undefined }): Promise<ShopSchedule> {
  const cur = await find(ctx, id);
  const next = { ...cur, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)), updated_at: ctx.clock.now().toISOString() } as ShopSchedulesTable;
  check(next.cron, next.timezone);
  try {
    await ctx.db.updateTable('shop_schedules').set({ name: next.name, cron: next.cron, timezone: next.timezone, status: next.status, updated_at: next.updated_at }).where('tenant_id', '=', ctx.tenantId).where('id', '=', id).execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('schedule_name_taken', `A schedule named "${patch.name}" exists`);
    throw e;
  }
  return toSchedule(next);
}

export async function deleteSchedule(ctx: Ctx, id: string): Promise<void> {
  await find(ctx, id);
  await ctx.db.deleteFrom('shop_schedules').where('tenant_id', '=', ctx.tenantId).where('id', '=', id).execute();
}

/** Every active schedule of every active shop, for the scheduler (re-read on each tick). */
export async function activeShopSchedules(db: Executor): Promise<(Schedule & { since: Date })[]> {
  const rows = await db
    .selectFrom('shop_schedules as s')
    .innerJoin('tenants as t', 't.id', 's.tenant_id')
    .selectAll('s')
    .where('s.status', '=', 'active')
    .where('t.status', '=', 'active')
    .execute();
  return rows.flatMap((r) => {
    const job = SHOP_TASKS[r.task];
    return job ? [{ name: r.id, cron: r.cron, timezone: r.timezone, tenantId: r.tenant_id, job: { ...job, payload: { ...job.payload, schedule_name: r.name } }, since: new Date(r.updated_at) }] : [];
  });
}
