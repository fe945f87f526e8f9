import type { FastifyBaseLogger } from 'fastify';
import type { Db } from './db/database.ts';
import { purgeExpiredIdempotencyKeys } from './http/idempotency.ts';
import type { Clock } from './lib/clock.ts';
import { Scheduler, type Schedule } from './modules/jobs/scheduler.ts';
import { Worker, type JobHandler } from './modules/jobs/worker.ts';
import type { ProviderRegistry } from './modules/payments/payments.service.ts';
import { expireReservations } from './workflows/order-actions.ts';

/** The deployment's own recurring work. */
export const SYSTEM_SCHEDULES: Schedule[] = [
  { name: 'reservations.expire', cron: '* * * * *', tenantId: null, job: { type: 'reservations.expire', queue: 'system', maxAttempts: 3 } },
  { name: 'idempotency.purge', cron: '17 * * * *', tenantId: null, job: { type: 'idempotency.purge', queue: 'system', maxAttempts: 3 } },
];

/** Every job type and what runs it. Each handler is idempotent on its job (see Worker). */
export function jobHandlers(deps: { providers: ProviderRegistry }): Map<string, JobHandler> {
  return new Map<string, JobHandler>([
    ['reservations.expire', async ({ db, clock, log }) => ({ cancelled: await expireReservations(db, clock, deps.providers, log) })],
    ['idempotency.purge', async ({ db, clock }) => ({ deleted: await purgeExpiredIdempotencyKeys(db, clock) })],
  ]);
}

export const QUEUES = { system: 1, default: 4 };

export interface Background {
  worker: Worker;
  scheduler: Scheduler;
  stop(): Promise<void>;
}

/** Workers and the scheduler: in the API process in embedded mode, or alone in `stockroom worker`. */
export function startBackground(o: { db: Db; clock: Clock; log: FastifyBaseLogger; providers: ProviderRegistry; pollMs?: number }): Background {
  const worker = new Worker({ db: o.db, clock: o.clock, log: o.log, handlers: jobHandlers(o), queues: QUEUES, pollMs: o.pollMs ?? 500 });
  const scheduler = new Scheduler({ db: o.db, clock: o.clock, log: o.log, schedules: SYSTEM_SCHEDULES });
  worker.start();
  scheduler.start(1000);
  return {
    worker,
    scheduler,
    async stop() {
      await scheduler.stop();
      await worker.stop();
    },
  };
}
