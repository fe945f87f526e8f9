import { Cron } from 'croner';
import type { Logger } from '../../lib/log.ts';
import type { Db } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { invalid } from '../../lib/errors.ts';
import { ulid } from '../../lib/ids.ts';
import { enqueue } from './jobs.service.ts';
import { jobsRepository as repo } from './jobs.repository.ts';

export interface Schedule {
  name: string;
  /** Five or six-field cron expression (croner). */
  cron: string;
  timezone?: string | undefined;
  /** null for the deployment's own schedules. */
  tenantId: string | null;
  job: { type: string; queue?: string | undefined; payload?: Record<string, unknown> | undefined; maxAttempts?: number | undefined };
}

/** A parsed cron expression, or a coded 422 naming what is wrong with it. */
export function parseCron(expr: string, timezone = 'UTC'): Cron {
  try {
    return new Cron(expr, { paused: true, timezone });
  } catch (e) {
    throw invalid('invalid_cron', `Not a cron expression: ${(e as Error).message}`, [{ pointer: '/body/cron', detail: 'does not parse' }]);
  }
}

export interface SchedulerOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  schedules: Schedule[];
  id?: string;
  /** On start, slots this far back are still fired (a node restarting within a minute misses nothing). */
  catchUpSeconds?: number;
  /** Schedules that change at run time (shops' own), re-read every tick; `since` is when each was created. */
  dynamic?: () => Promise<(Schedule & { since: Date })[]>;
}

/**
 * Fires schedules. Any number of nodes may run a scheduler: each due slot is claimed by inserting its
 * (shop, schedule, slot time) row — the one insert that succeeds enqueues the job, in the same transaction —
 * so every slot runs exactly once across the deployment.
 */
export class Scheduler {
  readonly id: string;
  private readonly crons: { s: Schedule; cron: Cron }[];
  private last: Date;
  private readonly startedAt: Date;
  private readonly dynamicState = new Map<string, { expr: string; cron: Cron; last: Date }>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<unknown> | null = null;
  private readonly o: SchedulerOptions;

  constructor(o: SchedulerOptions) {
    this.o = o;
    this.id = o.id ?? `sch_${ulid()}`;
    this.crons = o.schedules.map((s) => ({ s, cron: parseCron(s.cron, s.timezone) }));
    this.last = new Date(o.clock.now().getTime() - (o.catchUpSeconds ?? 60) * 1000);
    this.startedAt = this.last;
  }

  /** Claims every slot due since the last tick. Returns how many this node claimed. */
  async tick(): Promise<number> {
    const now = this.o.clock.now();
    let claimed = 0;
    const due: { s: Schedule; cron: Cron; last: Date; done: (at: Date) => void }[] = this.crons.map((c) => ({ ...c, last: this.last, done: () => {} }));
    if (this.o.dynamic) {
      const seen = new Set<string>();
      for (const s of await this.o.dynamic()) {
        const key = `${s.tenantId ?? ''}:${s.name}`;
        seen.add(key);
        let st = this.dynamicState.get(key);
        if (!st || st.expr !== `${s.cron}|${s.timezone ?? ''}`) {
          try {
            st = { expr: `${s.cron}|${s.timezone ?? ''}`, cron: parseCron(s.cron, s.timezone), last: new Date(Math.max(this.startedAt.getTime(), s.since.getTime())) };
          } catch (err) {
            this.o.log.warn({ err, schedule: key }, 'skipping a schedule whose cron does not parse');
            continue;
          }
          this.dynamicState.set(key, st);
        }
        const state = st;
        due.push({ s, cron: state.cron, last: state.last, done: (at) => (state.last = at) });
      }
      for (const key of [...this.dynamicState.keys()]) if (!seen.has(key)) this.dynamicState.delete(key);
    }
    for (const { s, cron, last, done } of due) {
      let slot = cron.nextRun(last);
      while (slot && slot.getTime() <= now.getTime()) {
        const slotAt = slot.toISOString();
        const won = await this.o.db.transaction().execute(async (trx) => {
          const jobId = await enqueue(trx, this.o.clock, { tenantId: s.tenantId, type: s.job.type, queue: s.job.queue, payload: { ...s.job.payload, schedule: s.name, slot_at: slotAt }, maxAttempts: s.job.maxAttempts, dedupeKey: `schedule:${s.name}:${slotAt}` });
          if (!jobId) return false;
          if (!(await repo.claimSlot(trx, { tenant_id: s.tenantId ?? '', schedule: s.name, slot_at: slotAt, job_id: jobId, claimed_by: this.id, created_at: now.toISOString() }))) throw new SlotTaken();
          return true;
        }).catch((e: unknown) => {
          if (e instanceof SlotTaken) return false;
          throw e;
        });
        if (won) claimed++;
        slot = cron.nextRun(slot);
      }
      done(now);
    }
    this.last = now;
    return claimed;
  }

  start(intervalMs = 1000): void {
    const loop = () => {
      this.ticking = this.tick()
        .catch((err: unknown) => this.o.log.error({ err }, 'scheduler tick failed'))
        .finally(() => {
          this.ticking = null;
          this.timer = setTimeout(loop, intervalMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
  }
}

class SlotTaken extends Error {}
