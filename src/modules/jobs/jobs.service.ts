import type { Ctx, Executor } from '../../context.ts';
import type { JobsTable, JobStatus } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { conflict, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { currentOrigin } from '../../lib/origin.ts';
import { decodeCursor, toPage, type Page } from '../../lib/pagination.ts';
import { jobsRepository as repo } from './jobs.repository.ts';

export interface Job {
  id: string;
  tenant_id: string | null;
  queue: string;
  type: string;
  payload: Record<string, unknown>;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_at: string;
  last_error: string | null;
  result: unknown;
  progress: number | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export const toJob = (r: JobsTable): Job => ({
  id: r.id,
  tenant_id: r.tenant_id || null,
  queue: r.queue,
  type: r.type,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  status: r.status,
  attempts: r.attempts,
  max_attempts: r.max_attempts,
  run_at: r.run_at,
  last_error: r.last_error,
  result: r.result === null ? null : (JSON.parse(r.result) as unknown),
  progress: r.progress,
  created_at: r.created_at,
  updated_at: r.updated_at,
  finished_at: r.finished_at,
});

export interface EnqueueInput {
  /** null for the deployment's own jobs. */
  tenantId: string | null;
  type: string;
  queue?: string | undefined;
  payload?: Record<string, unknown> | undefined;
  runAt?: Date | undefined;
  maxAttempts?: number | undefined;
  /** A job with the same key in the same shop is not enqueued twice. */
  dedupeKey?: string | undefined;
  /** Jobs with the same ordering key run one at a time, in the order they were enqueued (an order's emails). */
  orderingKey?: string | undefined;
}

/**
 * Enqueues a job on the given executor — pass the business transaction, and the job exists if and only if
 * the change it belongs to committed. Returns the job id, or null when the dedupe key already had a job.
 */
export async function enqueue(db: Executor, clock: Clock, input: EnqueueInput): Promise<string | null> {
  const now = clock.now().toISOString();
  const id = newId('job');
  const origin = currentOrigin();
  const inserted = await repo.insert(db, {
    tenant_id: input.tenantId ?? '',
    id,
    queue: input.queue ?? 'default',
    type: input.type,
    payload: JSON.stringify(input.payload ?? {}),
    status: 'queued',
    attempts: 0,
    max_attempts: input.maxAttempts ?? 8,
    run_at: (input.runAt ?? clock.now()).toISOString(),
    locked_by: null,
    lease_until: null,
    last_error: null,
    result: null,
    progress: null,
    dedupe_key: input.dedupeKey ?? null,
    ordering_key: input.orderingKey ?? null,
    request_id: origin.requestId,
    traceparent: origin.traceparent,
    created_at: now,
    updated_at: now,
    finished_at: null,
  });
  return inserted ? id : null;
}

/** Exponential backoff with full jitter: a random delay up to min(1 h, 2^attempt s). */
/** What waits in the queue now, per type: count and the age (seconds) of the oldest due job. */
export async function queueStats(db: Executor, clock: Clock): Promise<{ type: string; queued: number; oldestSeconds: number }[]> {
  const now = clock.now();
  return (await repo.queueStats(db, now.toISOString())).map((r) => ({ type: r.type, queued: Number(r.queued), oldestSeconds: r.oldest ? Math.max(0, (now.getTime() - Date.parse(String(r.oldest))) / 1000) : 0 }));
}

export function backoffMs(attempt: number, random = Math.random): number {
  const cap = Math.min(3_600_000, 1000 * 2 ** Math.min(attempt, 22));
  return Math.floor(cap / 2 + random() * (cap / 2));
}

// --- staff and operators ---------------------------------------------------------------------------

export async function listJobs(db: Executor, opts: { tenantId?: string | undefined; status?: JobStatus | undefined; type?: string | undefined; limit: number; cursor?: string | undefined }): Promise<Page<Job>> {
  return toPage((await repo.list(db, { ...opts, before: decodeCursor(opts.cursor) })).map(toJob), opts.limit);
}

export async function getJob(db: Executor, tenantId: string, id: string): Promise<Job> {
  const r = await repo.find(db, tenantId, id);
  if (!r) throw notFound('Job');
  return toJob(r);
}

/** A dead or cancelled job runs again now, with a fresh set of attempts. */
export async function retryJob(ctx: Pick<Ctx, 'db' | 'clock'>, tenantId: string, id: string): Promise<Job> {
  await getJob(ctx.db, tenantId, id);
  const now = ctx.clock.now().toISOString();
  if (!(await repo.transition(ctx.db, tenantId, id, ['dead', 'cancelled'], { status: 'queued', attempts: 0, run_at: now, last_error: null, finished_at: null, updated_at: now }))) {
    throw conflict('job_not_retryable', 'Only dead or cancelled jobs can be retried');
  }
  return getJob(ctx.db, tenantId, id);
}

/** A job that has not started yet is cancelled; a running one finishes first. */
export async function cancelJob(ctx: Pick<Ctx, 'db' | 'clock'>, tenantId: string, id: string): Promise<Job> {
  await getJob(ctx.db, tenantId, id);
  const now = ctx.clock.now().toISOString();
  if (!(await repo.transition(ctx.db, tenantId, id, ['queued'], { status: 'cancelled', finished_at: now, updated_at: now }))) {
    throw conflict('job_not_cancellable', 'Only queued jobs can be cancelled');
  }
  return getJob(ctx.db, tenantId, id);
}
