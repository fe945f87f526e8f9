import type { Logger } from './lib/log.ts';
import type { Db } from './db/database.ts';
import { Pacer } from './lib/pacer.ts';
import { purgeExpiredIdempotencyKeys } from './http/idempotency.ts';
import type { Clock } from './lib/clock.ts';
import { PermanentFailure, RetryAfter, Scheduler, type Schedule, activeShopSchedules, Worker, type JobHandler } from './modules/jobs/index.ts';
import type { PaymentGateway } from './modules/payments/index.ts';
import { expireReservations, reconcilePayments } from './workflows/order-actions.ts';
import { consumeOne, dispatchEvents } from './workflows/dispatch-events.ts';
import type { EventConsumer, OutboxEvent } from './modules/events/index.ts';
import { pruneRealtime, realtimeConsumer } from './modules/realtime/index.ts';
import { TryLater, computeScores, crmConsumer, evaluateSegments, runSync, takeDueTasks, tenantsWithContacts } from './modules/crm/index.ts';
import { emitEvent } from './modules/events/index.ts';
import { COMMANDS, brokerConsumer, handleCommand, publishEvent, type Broker } from './modules/bridge/index.ts';
import { emailConsumer, type Mailer } from './modules/email/index.ts';
import { remindAbandonedCarts, sendTemplatedEmail } from './workflows/emails.ts';
import { sendResetCode } from './workflows/password-reset.ts';
import { computeDailyReports, runExport, type ExportKind } from './modules/reports/index.ts';
import { attemptDelivery, webhooksConsumer } from './modules/webhooks/index.ts';
import { giveUpImport, purgeImportFiles, runImport } from './modules/imports/index.ts';

/**
 * The registered consumers of domain events, each turning events into work of its own. Adding one (realtime, the
 * CRM timeline, a broker bridge) is a line here; it starts from now, or catches up with `stockroom events replay`.
 */
export const EVENT_CONSUMERS: readonly EventConsumer[] = [webhooksConsumer, emailConsumer, realtimeConsumer, crmConsumer];

/** The deployment's own recurring work. */
export const SYSTEM_SCHEDULES: Schedule[] = [
  { name: 'reservations.expire', cron: '* * * * *', tenantId: null, job: { type: 'reservations.expire', queue: 'system', maxAttempts: 3 } },
  { name: 'payments.reconcile', cron: '* * * * *', tenantId: null, job: { type: 'payments.reconcile', queue: 'system', maxAttempts: 3 } },
  { name: 'idempotency.purge', cron: '17 * * * *', tenantId: null, job: { type: 'idempotency.purge', queue: 'system', maxAttempts: 3 } },
  { name: 'reports.daily', cron: '5 * * * *', tenantId: null, job: { type: 'reports.daily', queue: 'system', maxAttempts: 3 } },
  { name: 'carts.remind', cron: '*/10 * * * *', tenantId: null, job: { type: 'carts.remind', queue: 'system', maxAttempts: 3 } },
  { name: 'crm.scores', cron: '11 * * * *', tenantId: null, job: { type: 'crm.scores', queue: 'system', maxAttempts: 3 } },
  { name: 'crm.task_reminders', cron: '* * * * *', tenantId: null, job: { type: 'crm.task_reminders', queue: 'system', maxAttempts: 3 } },
  { name: 'realtime.prune', cron: '23 * * * *', tenantId: null, job: { type: 'realtime.prune', queue: 'system', maxAttempts: 3 } },
  { name: 'imports.purge', cron: '41 3 * * *', tenantId: null, job: { type: 'imports.purge', queue: 'system', maxAttempts: 3 } },
];

export interface BackgroundDeps {
  gateway: PaymentGateway;
  /** Development only: let webhooks reach http and private addresses. */
  webhooksAllowPrivate: boolean;
  mailer: Mailer;
  /** Where links in emails point (one-click unsubscribe), and the secret that signs them. */
  links?: { publicUrl: string; consentSecret: string } | undefined;
  /** The message broker domain events go to (BROKER_URL), when there is one. */
  broker?: Broker | null | undefined;
  /** Hours of realtime channel history to keep (24 when not said). */
  realtimeHistoryHours?: number | undefined;
  /** Told of each committed outbox batch (the realtime relay: the nodes hear of new messages at once). */
  onEventsCommitted?: ((batch: readonly OutboxEvent[]) => Promise<void>) | undefined;
}

/** Every job type and what runs it. Each handler is idempotent on its job (see Worker). */
export function jobHandlers(deps: BackgroundDeps): Map<string, JobHandler> {
  return new Map<string, JobHandler>([
    ['reservations.expire', async ({ db, clock, log }) => ({ cancelled: await expireReservations(db, clock, deps.gateway, log) })],
    ['payments.reconcile', async ({ db, clock, log }) => reconcilePayments(db, clock, deps.gateway, log)],
    ['idempotency.purge', async ({ db, clock }) => ({ deleted: await purgeExpiredIdempotencyKeys(db, clock) })],
    ['email.send', async ({ db, clock, log, job }) => sendTemplatedEmail(db, clock, deps.mailer, log, job.tenant_id ?? '', job.payload, deps.links ?? null)],
    ['email.password_reset', async ({ db, clock, job }) => ({ outcome: await sendResetCode(db, clock, deps.mailer, job.id, job.tenant_id ?? '', job.payload as { subject_type: 'user' | 'customer'; subject_id: string; to: string }) })],
    ['reports.daily', async ({ db, clock }) => ({ shops: await computeDailyReports(db, clock) })],
    ['export.csv', async ({ db, clock, job, progress }) => runExport(db, clock, job.tenant_id ?? '', job.id, job.payload as { kind: ExportKind; from?: string; to?: string }, progress)],
    ['carts.remind', async ({ db, clock }) => ({ reminders: await remindAbandonedCarts(db, clock) })],
    ['crm.scores', async ({ db, clock }) => crmScoresJob(db, clock)],
    [
      'crm.marketing_sync',
      async ({ db, clock, job }) => {
        try {
          return await runSync(db, clock, job.tenant_id ?? '', String(job.payload.run_id), { allowPrivate: deps.webhooksAllowPrivate, lastAttempt: job.attempts >= job.max_attempts });
        } catch (e) {
          if (e instanceof TryLater) throw new RetryAfter(e.afterMs, e.message);
          throw new PermanentFailure((e as Error).message);
        }
      },
    ],
    ['crm.task_reminders', async ({ db, clock }) => ({ reminded: await remindTasks(db, clock) })],
    ['realtime.prune', async ({ db, clock }) => pruneRealtime(db, clock, deps.realtimeHistoryHours ?? 24)],
    ['event.consume', async ({ db, clock, job }) => consumeOne(db, clock, consumersOf(deps), job.tenant_id ?? '', job.payload as { consumer: string; event_id: string })],
    [
      'broker.publish',
      async ({ db, job }) => {
        if (!deps.broker) throw new PermanentFailure('BROKER_URL is not set on this worker');
        try {
          return await publishEvent(db, deps.broker, job.tenant_id ?? '', String(job.payload.event_id));
        } catch (e) {
          // The broker is down or did not confirm: later, backing off to a minute; the outbox and this job keep the event.
          throw new RetryAfter(Math.min(60_000, 500 * 2 ** Math.min(job.attempts, 7)), (e as Error).message);
        }
      },
    ],
    [
      'import.run',
      async ({ db, clock, log, job, progress }) => {
        const tenantId = job.tenant_id ?? '';
        const id = String(job.payload.import_id);
        try {
          const v = await runImport(db, clock, log, tenantId, id, { onProgress: (p) => progress(p.percent) });
          return { import_id: v.id, status: v.status, rows: v.rows_done, created: v.created, updated: v.updated, unchanged: v.unchanged, failed: v.failed };
        } catch (e) {
          // Retried from the last committed batch; after the last attempt the import says why it stopped.
          if (job.attempts >= job.max_attempts) await giveUpImport(db, clock, tenantId, id, (e as Error).message);
          throw e;
        }
      },
    ],
    ['imports.purge', async ({ db, clock }) => ({ files: await purgeImportFiles(db, clock) })],
    ['webhook.deliver', async ({ db, clock, job }) => attemptDelivery(db, clock, job.tenant_id ?? '', String(job.payload.delivery_id), job.attempts, { allowPrivate: deps.webhooksAllowPrivate })],
  ]);
}

/** Scores and segments of every shop with contacts: a transaction per page of contacts, then per shop's segments. */
export async function crmScoresJob(db: Db, clock: Clock): Promise<{ shops: number; contacts: number; entered: number; left: number }> {
  let contacts = 0;
  let entered = 0;
  let left = 0;
  const shops = await tenantsWithContacts(db);
  for (const tenantId of shops) {
    contacts += (await computeScores(db, clock, tenantId)).contacts;
    const s = await db.transaction().execute((trx) => evaluateSegments(trx, clock, tenantId));
    entered += s.entered;
    left += s.left;
  }
  return { shops: shops.length, contacts, entered, left };
}

/** Tasks that fell due: each announced once (`crm.task_due`: webhooks, the console) and marked reminded. */
export async function remindTasks(db: Db, clock: Clock): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const now = clock.now().toISOString();
    const due = await takeDueTasks(trx, now);
    for (const t of due) await emitEvent(trx, t.tenantId, 'crm.task_due', t.id, { task_id: t.id, contact_id: t.contact_id, assignee_id: t.assignee_id, title: t.summary, due_at: t.due_at }, now);
    return due.length;
  });
}

export const QUEUES = { system: 1, default: 4, webhooks: 8, email: 16, broker: 2, imports: 1 };

/** The consumers of this process's publisher: the registered ones, and the broker bridge when BROKER_URL is set. */
export function consumersOf(deps: Pick<BackgroundDeps, 'broker'>): readonly EventConsumer[] {
  return deps.broker ? [...EVENT_CONSUMERS, brokerConsumer] : EVENT_CONSUMERS;
}

/**
 * Hands committed outbox events on: at once when woken (a request that may have written events just finished —
 * here or, through Redis, on any node), every half second otherwise, and again at once while batches are full.
 */
export class OutboxPump {
  private readonly pacer: Pacer;
  constructor(o: { db: Db; clock: Clock; log: Logger; intervalMs?: number; consumers?: readonly EventConsumer[]; onCommitted?: ((batch: readonly OutboxEvent[]) => Promise<void>) | undefined }) {
    const consumers = o.consumers ?? EVENT_CONSUMERS;
    // A full batch (100) means more is waiting: the next one at once.
    this.pacer = new Pacer(async () => (await dispatchEvents(o.db, o.clock, consumers, o.log, 100, o.onCommitted)) === 100, o.intervalMs ?? 500, (err) => o.log.error({ err }, 'outbox dispatch failed'));
  }
  start(): void {
    this.pacer.start();
  }
  /** Runs the next batch now (or right after the one running): new events are likely. */
  wake(): void {
    this.pacer.wake();
  }
  async stop(): Promise<void> {
    await this.pacer.stop();
  }
}

export interface Background {
  worker: Worker;
  scheduler: Scheduler;
  pump: OutboxPump;
  stop(): Promise<void>;
}

/** Workers and the scheduler: in the API process in embedded mode, or alone in `stockroom worker`. */
export function startBackground(o: BackgroundDeps & { db: Db; clock: Clock; log: Logger; pollMs?: number }): Background {
  const worker = new Worker({ db: o.db, clock: o.clock, log: o.log, handlers: jobHandlers(o), queues: QUEUES, pollMs: o.pollMs ?? 500 });
  const scheduler = new Scheduler({ db: o.db, clock: o.clock, log: o.log, schedules: SYSTEM_SCHEDULES, dynamic: () => activeShopSchedules(o.db, o.clock) });
  const pump = new OutboxPump({ ...o, onCommitted: o.onEventsCommitted, consumers: consumersOf(o) });
  // Commands from the broker (inventory adjustments from a warehouse service), each applied once.
  if (o.broker) o.broker.consume(COMMANDS, async (m) => void (await handleCommand(o.db, o.clock, o.log, m))).catch((err: unknown) => o.log.error({ err }, 'broker commands: could not subscribe'));
  pump.start();
  worker.start();
  scheduler.start(1000);
  return {
    worker,
    scheduler,
    pump,
    async stop() {
      await scheduler.stop();
      await pump.stop();
      await worker.stop();
    },
  };
}
