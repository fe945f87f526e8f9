import type { Logger } from '../../lib/log.ts';
import type { Db } from '../../db/database.ts';
import type { JobsTable } from '../../db/schema.ts';
import { addSeconds, type Clock } from '../../lib/clock.ts';
import { ulid } from '../../lib/ids.ts';
import { Pacer } from '../../lib/pacer.ts';
import { traced, withOrigin } from '../../lib/origin.ts';
import { backoffMs, toJob, type Job } from './jobs.service.ts';
import { jobsRepository as repo } from './jobs.repository.ts';

export interface JobContext {
  job: Job;
  db: Db;
  clock: Clock;
  log: Logger;
  /** 0–100, shown to staff while the job runs. */
  progress(percent: number): Promise<void>;
}

/**
 * A job handler. It may run more than once for the same job (a worker can die after the effect and before
 * recording success), so it must be idempotent on `job.id` — write its effect keyed by the job id, or check
 * whether it already happened.
 */
export type JobHandler = (ctx: JobContext) => Promise<unknown>;

/** Thrown by a handler: retry after exactly this long (a protocol's own retry schedule). */
export class RetryAfter extends Error {
  readonly ms: number;
  constructor(ms: number, message: string) {
    super(message);
    this.ms = ms;
  }
}

/** Thrown by a handler: no retry will help; dead-letter the job now. */
export class PermanentFailure extends Error {}

export interface WorkerOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  handlers: ReadonlyMap<string, JobHandler>;
  /** Queue name → how many jobs of it run at once in this worker. */
  queues: Record<string, number>;
  leaseSeconds?: number;
  pollMs?: number;
  id?: string;
}

/**
 * Claims and runs jobs until stopped. A handler that throws (or a job type without a handler) never stops the
 * worker: the job is retried with backoff and jitter, and after its last attempt it is dead-lettered with the
 * error. While a job runs its lease is extended; if the worker dies, the lease lapses and another worker takes
 * the job over.
 */
export class Worker {
  readonly id: string;
  private readonly o: Required<Omit<WorkerOptions, 'id'>>;
  private readonly running = new Map<string, Promise<void>>();
  private readonly perQueue = new Map<string, number>();
  private stopping = false;
  /** Queues whose last claim filled every free slot: more is likely waiting, so a freed slot claims at once. */
  private readonly backlog = new Set<string>();
  /**
   * Claims every poll interval, and at once when a slot of a queue with a backlog frees up (`wake`), so a busy
   * queue runs at the speed of its jobs, not one claim per poll.
   */
  private readonly claims: Pacer;

  constructor(opts: WorkerOptions) {
    this.id = opts.id ?? `wrk_${ulid()}`;
    this.o = { leaseSeconds: 60, pollMs: 500, ...opts };
    this.claims = new Pacer(
      async () => {
        await this.tick();
        return false;
      },
      this.o.pollMs,
      (err) => this.o.log.error({ err }, 'worker poll failed'));
  }

  start(): void {
    this.stopping = false;
    this.claims.start();
  }

  /** Stops claiming, waits for the jobs in hand to finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.claims.stop();
    await Promise.allSettled([...this.running.values()]);
  }

  /** One round: claim what there is room for in each queue and start it. Resolves once claimed (not finished). */
  async tick(): Promise<number> {
    let started = 0;
    for (const [queue, concurrency] of Object.entries(this.o.queues)) {
      const room = concurrency - (this.perQueue.get(queue) ?? 0);
      if (room <= 0 || this.stopping) continue;
      const now = this.o.clock.now();
      const jobs = await repo.claim(this.o.db, queue, room, this.id, now.toISOString(), addSeconds(now, this.o.leaseSeconds).toISOString());
      if (jobs.length === room) this.backlog.add(queue);
      else this.backlog.delete(queue);
      for (const row of jobs) {
        started++;
        this.perQueue.set(queue, (this.perQueue.get(queue) ?? 0) + 1);
        const p = this.run(row).finally(() => {
          this.running.delete(row.id);
          this.perQueue.set(queue, (this.perQueue.get(queue) ?? 1) - 1);
          if (this.backlog.has(queue)) this.claims.wake();
        });
        this.running.set(row.id, p);
      }
    }
    return started;
  }

  /** Waits for every job this worker has started. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private async run(row: JobsTable): Promise<void> {
    const { db, clock, log } = this.o;
    const job = toJob(row);
    const jlog = log.child({ job_id: job.id, job_type: job.type, attempt: job.attempts, ...(row.request_id ? { request_id: row.request_id } : {}) });
    const renew = setInterval(() => {
      repo.extendLease(db, row.tenant_id, row.id, this.id, addSeconds(clock.now(), this.o.leaseSeconds).toISOString()).catch((err: unknown) => jlog.warn({ err }, 'could not extend lease'));
    }, (this.o.leaseSeconds * 1000) / 3);
    try {
      const handler = this.o.handlers.get(job.type);
      if (!handler) throw new Error(`no handler for job type ${job.type}`);
      // Under the origin of whatever enqueued it: its request id, and a span in that request's trace.
      const result = await withOrigin(row, () =>
        traced(`job ${job.type}`, { 'stockroom.job.id': job.id, 'stockroom.job.attempt': job.attempts, 'stockroom.tenant': row.tenant_id }, () => handler({ job, db, clock, log: jlog, progress: (p) => repo.setProgress(db, row.tenant_id, row.id, this.id, Math.max(0, Math.min(100, Math.round(p))), clock.now().toISOString()) }), 'consumer'),
      );
      const now = clock.now().toISOString();
      const ok = await repo.finish(db, row.tenant_id, row.id, this.id, { status: 'succeeded', result: result === undefined ? null : JSON.stringify(result), progress: 100, finished_at: now, updated_at: now, last_error: null });
      if (!ok) jlog.warn('job finished after its lease was taken over');
    } catch (err) {
      const now = clock.now();
      const message = err instanceof Error ? err.message : String(err);
      const dead = row.attempts >= row.max_attempts || err instanceof PermanentFailure;
      const delay = err instanceof RetryAfter ? err.ms : backoffMs(row.attempts);
      await repo
        .finish(db, row.tenant_id, row.id, this.id, dead ? { status: 'dead', last_error: message, finished_at: now.toISOString(), updated_at: now.toISOString() } : { status: 'queued', last_error: message, run_at: new Date(now.getTime() + delay).toISOString(), updated_at: now.toISOString() })
        .catch((e: unknown) => jlog.error({ err: e }, 'could not record the job failure'));
      jlog[dead ? 'error' : 'warn']({ err: message }, dead ? 'job dead-lettered' : 'job failed; will retry');
    } finally {
      clearInterval(renew);
    }
  }
}
