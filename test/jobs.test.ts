import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { createDb, type Db } from '../src/db/database.ts';
import { migrateUp } from '../src/db/migrator.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { AppError } from '../src/lib/errors.ts';
import { jobsRepository } from '../src/modules/jobs/jobs.repository.ts';
import { enqueue } from '../src/modules/jobs/jobs.service.ts';
import { Scheduler, parseCron } from '../src/modules/jobs/scheduler.ts';
import { Worker, type JobHandler } from '../src/modules/jobs/worker.ts';
import { PASSWORD, PLATFORM_SECRET, call, createShop, engines, freshDatabase, login, problemOf, startApp, type TestApp, type TestDb } from './helpers.ts';

const log = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;

for (const engine of engines()) {
  describe(`job queue, workers and schedules [${engine.name}]`, () => {
    let dir: string;
    let tdb: TestDb;
    let db: Db;
    const clock = new ManualClock('2026-03-01T10:00:30.000Z');
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'stockroom-jobs-'));
      tdb = await freshDatabase(engine, dir);
      db = tdb.db;
      await migrateUp(db);
      await sql`create table test_effects (job_id text primary key, worker text not null, n integer not null)`.execute(db);
    });
    after(async () => {
      await tdb.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** An idempotent effect: one row per job, however often the handler runs. */
    const effect: JobHandler = async ({ job, db: d }) => {
      await sql`insert into test_effects (job_id, worker, n) values (${job.id}, ${String(job.payload.who ?? '')}, 1) on conflict (job_id) do nothing`.execute(d);
      return { ok: true };
    };
    const effects = async (ids?: string[]) => {
      const rows = await sql<{ job_id: string; worker: string }>`select job_id, worker from test_effects`.execute(db);
      return ids ? rows.rows.filter((r) => ids.includes(r.job_id)) : rows.rows;
    };
    const job = (id: string) => db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const worker = (handlers: Record<string, JobHandler>, o: { db?: Db; id?: string; leaseSeconds?: number } = {}) =>
      new Worker({ db: o.db ?? db, clock, log, handlers: new Map(Object.entries(handlers)), queues: { default: 4 }, leaseSeconds: o.leaseSeconds ?? 30, id: o.id });

    test('a job enqueued in a transaction that rolls back does not exist', async () => {
      let id: string | null = null;
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          id = await enqueue(trx, clock, { tenantId: null, type: 'effect' });
          throw new Error('business rule failed');
        }),
      );
      assert.ok(id);
      assert.equal(await db.selectFrom('jobs').select('id').where('id', '=', id!).executeTakeFirst(), undefined);
    });

    test('a worker runs queued jobs and records their results', async () => {
      const id = (await enqueue(db, clock, { tenantId: null, type: 'effect', payload: { who: 'w1' } }))!;
      const w = worker({ effect });
      assert.equal(await w.tick(), 1);
      await w.idle();
      const j = await job(id);
      assert.equal(j.status, 'succeeded');
      assert.deepEqual(JSON.parse(j.result!), { ok: true });
      assert.equal((await effects([id])).length, 1);
    });

    test('a backlog runs at the speed of its jobs: a freed slot claims the next at once, not at the next poll', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await enqueue(db, clock, { tenantId: null, type: 'effect', payload: { who: 'backlog' } }))!);
      // One claim per minute at most by polling: 20 jobs through 4 slots would take 5 polls (4 minutes).
      const w = new Worker({ db, clock, log, handlers: new Map([['effect', effect]]), queues: { default: 4 }, pollMs: 60_000 });
      w.start();
      try {
        for (let i = 0; i < 200 && (await effects(ids)).length < 20; i++) await new Promise((r) => setTimeout(r, 25));
      } finally {
        await w.stop();
      }
      assert.equal((await effects(ids)).length, 20, 'every job ran within seconds');
      const statuses = await db.selectFrom('jobs').select('status').where('id', 'in', ids).execute();
      assert.ok(statuses.every((s) => s.status === 'succeeded'));
    });

    test('jobs with one ordering key run one at a time, in the order they were enqueued, even while the first retries', async () => {
      const ran: string[] = [];
      let failFirst = true;
      const step: JobHandler = async ({ job: j }) => {
        const name = String(j.payload.name);
        if (name === 'confirmation' && failFirst) {
          failFirst = false;
          throw new Error('SMTP busy');
        }
        ran.push(name);
        return { ok: true };
      };
      const ids = [];
      for (const name of ['confirmation', 'shipped', 'delivered']) ids.push((await enqueue(db, clock, { tenantId: null, type: 'step', payload: { name }, orderingKey: 'email:ord_1' }))!);
      const other = (await enqueue(db, clock, { tenantId: null, type: 'step', payload: { name: 'other order' }, orderingKey: 'email:ord_2' }))!;
      const w = worker({ step });
      assert.equal(await w.tick(), 2, 'the first of each key; the later ones wait');
      await w.idle();
      assert.deepEqual(ran, ['other order']);
      assert.equal((await job(ids[0]!)).status, 'queued', 'the confirmation failed and waits for its retry');
      assert.equal(await w.tick(), 0, 'shipped may not overtake the confirmation while it retries');
      clock.advance(3_600_000);
      for (let i = 0; i < 5 && ran.length < 4; i++) {
        await w.tick();
        await w.idle();
      }
      assert.deepEqual(ran, ['other order', 'confirmation', 'shipped', 'delivered']);
      assert.equal((await job(other)).status, 'succeeded');
    });

    test('a job that always fails is retried with backoff, then dead-lettered with its last error; the worker carries on', async () => {
      const bad = (await enqueue(db, clock, { tenantId: null, type: 'explode', maxAttempts: 3 }))!;
      const w = worker({ explode: async () => { throw new Error('boom: upstream said no'); }, effect });
      for (let attempt = 1; attempt <= 3; attempt++) {
        assert.equal(await w.tick(), 1, `attempt ${attempt} claimed`);
        await w.idle();
        const j = await job(bad);
        assert.equal(j.attempts, attempt);
        if (attempt < 3) {
          assert.equal(j.status, 'queued');
          assert.ok(j.run_at > clock.now().toISOString(), 'the retry waits (backoff)');
          assert.equal(await w.tick(), 0, 'not before its time');
          clock.advance(2 * 3600_000);
        }
      }
      const dead = await job(bad);
      assert.equal(dead.status, 'dead');
      assert.match(dead.last_error!, /boom/);
      const next = (await enqueue(db, clock, { tenantId: null, type: 'effect' }))!;
      await w.tick();
      await w.idle();
      assert.equal((await job(next)).status, 'succeeded', 'the worker survived the throwing handler');
      const unknown = (await enqueue(db, clock, { tenantId: null, type: 'no-such-type', maxAttempts: 1 }))!;
      await w.tick();
      await w.idle();
      assert.match((await job(unknown)).last_error!, /no handler/);
    });

    test('a worker killed mid-job: its lease lapses, another worker runs the job, and the effect happens once', async () => {
      const id = (await enqueue(db, clock, { tenantId: null, type: 'effect', payload: { who: 'crashed' } }))!;
      // Worker A claims the job, performs the effect, and dies before recording success.
      const claimed = await jobsRepository.claim(db, 'default', 1, 'wrk_a', clock.now().toISOString(), new Date(clock.now().getTime() + 30_000).toISOString());
      assert.deepEqual(claimed.map((j) => j.id), [id]);
      await sql`insert into test_effects (job_id, worker, n) values (${id}, 'crashed', 1)`.execute(db);
      const b = worker({ effect }, { id: 'wrk_b' });
      assert.equal(await b.tick(), 0, 'the lease still holds');
      clock.advance(31_000);
      assert.equal(await b.tick(), 1, 'the lapsed lease is taken over');
      await b.idle();
      const j = await job(id);
      assert.equal(j.status, 'succeeded');
      assert.equal(j.attempts, 2);
      assert.equal((await effects([id])).length, 1, 'the effect happened once');
      assert.equal(await jobsRepository.finish(db, '', id, 'wrk_a', { status: 'succeeded' }), false, 'the dead worker cannot overwrite the outcome');
    });

    test('two workers on separate connections never run the same job; every job runs once', async () => {
      const second = createDb(tdb.database);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 40; i++) ids.push((await enqueue(db, clock, { tenantId: null, type: 'slow', payload: { i } }))!);
        const running = new Set<string>();
        let overlap = 0;
        const slow: JobHandler = async ({ job: j, db: d }) => {
          if (running.has(j.id)) overlap++;
          running.add(j.id);
          await new Promise((r) => setTimeout(r, 5));
          await sql`insert into test_effects (job_id, worker, n) values (${j.id}, ${d === db ? 'one' : 'two'}, 1)`.execute(d);
          running.delete(j.id);
        };
        const w1 = worker({ slow }, { id: 'wrk_one' });
        const w2 = worker({ slow }, { db: second, id: 'wrk_two' });
        for (let round = 0; round < 30; round++) {
          await Promise.all([w1.tick(), w2.tick()]);
          await Promise.all([w1.idle(), w2.idle()]);
        }
        assert.equal(overlap, 0);
        const rows = await effects(ids);
        assert.equal(rows.length, 40, 'every job ran (a second run would have hit the primary key and failed the job)');
        const statuses = await db.selectFrom('jobs').select(['status', 'attempts']).where('id', 'in', ids).execute();
        assert.ok(statuses.every((s) => s.status === 'succeeded' && s.attempts === 1), JSON.stringify(statuses.filter((s) => s.status !== 'succeeded' || s.attempts !== 1)));
        const by = new Set(rows.map((r) => r.worker));
        assert.equal(by.size, 2, 'both workers took part');
      } finally {
        await second.destroy();
      }
    });

    test('a schedule slot fires once with two scheduler nodes', async () => {
      const schedules = [{ name: 'test.every-minute', cron: '* * * * *', tenantId: null, job: { type: 'effect' } }];
      clock.advance(60_000 - (clock.now().getTime() % 60_000) + 5_000); // 5 s past a minute
      // On PostgreSQL the nodes have their own connections. SQLite nodes are processes sharing one file; inside one
      // test process a second connection would block the first one's thread in SQLite's busy handler, so they share it.
      const other = engine.name === 'postgres' ? createDb(tdb.database) : db;
      try {
        const a = new Scheduler({ db, clock, log, schedules, id: 'node-a', catchUpSeconds: 30 });
        const b = new Scheduler({ db: other, clock, log, schedules, id: 'node-b', catchUpSeconds: 30 });
        const [ca, cb] = await Promise.all([a.tick(), b.tick()]);
        assert.equal(ca + cb, 1);
        clock.advance(60_000);
        const [ca2, cb2] = await Promise.all([a.tick(), b.tick()]);
        assert.equal(ca2 + cb2, 1);
        const slots = await db.selectFrom('schedule_slots').selectAll().where('schedule', '=', 'test.every-minute').execute();
        assert.equal(slots.length, 2);
        const jobs = await db.selectFrom('jobs').select('id').where('type', '=', 'effect').where('dedupe_key', 'like', 'schedule:test.every-minute:%').execute();
        assert.equal(jobs.length, 2);
      } finally {
        if (other !== db) await other.destroy();
      }
    });

    test('a cron expression that does not parse is a coded 422', () => {
      assert.throws(() => parseCron('61 * * * *'), (e: unknown) => e instanceof AppError && e.code === 'invalid_cron' && e.kind === 'invalid');
      assert.throws(() => parseCron('every tuesday'), (e: unknown) => e instanceof AppError && e.code === 'invalid_cron');
      assert.ok(parseCron('0 6 * * 1-5', 'Europe/Berlin'));
    });
  });

  describe(`jobs API [${engine.name}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(engine);
    });
    after(() => t.close());

    test('staff list, cancel and retry their shop’s jobs; another shop’s jobs are 404; operators see all', async () => {
      const shop = await createShop(t.app);
      const other = await createShop(t.app);
      const queued = (await enqueue(t.db, { now: () => new Date() }, { tenantId: shop.tenantId, type: 'report.export', payload: { kind: 'orders' } }))!;
      const list = await call(t.app, { url: '/api/jobs', token: shop.token });
      assert.deepEqual((list.json.data ?? []).map((j) => j.id), [queued]);
      assert.deepEqual((await call(t.app, { url: '/api/jobs', token: other.token })).json.data, []);
      assert.equal(problemOf(await call(t.app, { url: `/api/jobs/${queued}`, token: other.token })).status, 404);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/jobs/${queued}/cancel`, token: other.token })).status, 404);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/jobs/${queued}/retry`, token: shop.token })).code, 'job_not_retryable');
      const cancelled = await call(t.app, { method: 'POST', url: `/api/jobs/${queued}/cancel`, token: shop.token });
      assert.equal(cancelled.json.status, 'cancelled');
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/jobs/${queued}/cancel`, token: shop.token })).code, 'job_not_cancellable');
      const retried = await call(t.app, { method: 'POST', url: `/api/jobs/${queued}/retry`, token: shop.token });
      assert.equal(retried.json.status, 'queued');
      assert.equal(retried.json.attempts, 0);
      const all = await call(t.app, { url: `/api/platform/jobs?tenant_id=${shop.tenantId}`, token: PLATFORM_SECRET });
      assert.deepEqual((all.json.data ?? []).map((j) => j.id), [queued]);
      assert.equal(problemOf(await call(t.app, { url: '/api/platform/jobs', token: shop.token })).status, 401);
    });

    test('jobs:read shows that work happens, not to whom: personal data in payloads only for who may read it', async () => {
      const shop = await createShop(t.app);
      const id = (await enqueue(t.db, { now: () => new Date() }, { tenantId: shop.tenantId, type: 'email.send', payload: { template: 'order_confirmation', to: 'ann@example.com', email: 'ann@example.com', order_id: 'ord_x', shipping_address: { name: 'Ann', city: 'Berlin' } } }))!;
      const role = await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name: 'Ops', permissions: ['jobs:read'] } });
      assert.equal((await call(t.app, { method: 'POST', url: '/api/users', token: shop.token, body: { email: 'ops@example.com', name: 'Ops', password: PASSWORD, role_id: role.json.id } })).statusCode, 201);
      const ops = (await login(t.app, shop.slug, 'ops@example.com')).json.access_token as string;
      for (const job of [(await call(t.app, { url: '/api/jobs', token: ops })).json.data?.find((j) => j.id === id), (await call(t.app, { url: `/api/jobs/${id}`, token: ops })).json]) {
        assert.deepEqual(job?.payload, { template: 'order_confirmation', to: '[redacted]', email: '[redacted]', order_id: 'ord_x', shipping_address: '[redacted]' });
      }
      assert.doesNotMatch((await call(t.app, { url: `/api/platform/jobs?tenant_id=${shop.tenantId}`, token: PLATFORM_SECRET })).body, /ann@example\.com/);
      assert.equal(((await call(t.app, { url: `/api/jobs/${id}`, token: shop.token })).json.payload as { to: string }).to, 'ann@example.com', 'the owner may read customers and staff');
    });

    test('shops schedule their own tasks; bad cron and time zones are refused; each slot enqueues one job', async () => {
      const shop = await createShop(t.app);
      const other = await createShop(t.app);
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/schedules', token: shop.token, body: { name: 'weekly', cron: '61 * * * *', task: 'export_orders' } })), { status: 422, code: 'invalid_cron' });
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/schedules', token: shop.token, body: { name: 'weekly', cron: 'every monday!', task: 'export_orders' } })), { status: 422, code: 'invalid_cron' });
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/schedules', token: shop.token, body: { name: 'weekly', cron: '0 6 * * 1', timezone: 'Mars/Olympus', task: 'export_orders' } })), { status: 422, code: 'invalid_timezone' });
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/schedules', token: shop.token, body: { name: 'weekly', cron: '0 6 * * 1', task: 'rm_rf' } })).code, 'validation_failed');
      const s = await call(t.app, { method: 'POST', url: '/api/schedules', token: shop.token, body: { name: 'every minute', cron: '* * * * *', task: 'export_products' } });
      assert.equal(s.statusCode, 201, s.body);
      assert.ok(s.json.next_run_at);
      assert.equal(problemOf(await call(t.app, { method: 'PATCH', url: `/api/schedules/${s.json.id}`, token: other.token, body: { status: 'paused' } })).status, 404);
      assert.deepEqual((await call(t.app, { url: '/api/schedules', token: other.token })).json.data, []);

      const { activeShopSchedules } = await import('../src/modules/jobs/schedules.service.ts');
      const clock = new ManualClock(new Date(Date.now() + 61_000));
      const scheduler = new Scheduler({ db: t.db, clock, log, schedules: [], dynamic: () => activeShopSchedules(t.db, clock) });
      assert.ok((await scheduler.tick()) >= 1);
      const jobs = await call(t.app, { url: '/api/jobs?type=export.csv', token: shop.token });
      assert.ok((jobs.json.data ?? []).length >= 1);
      assert.equal((jobs.json.data?.[0]?.payload as { kind: string }).kind, 'products');
      assert.equal(await scheduler.tick(), 0, 'the same slot does not fire twice');
      await call(t.app, { method: 'PATCH', url: `/api/schedules/${s.json.id}`, token: shop.token, body: { status: 'paused' } });
      clock.advance(120_000);
      assert.equal(await scheduler.tick(), 0, 'a paused schedule does not fire');
    });

    test('a schedule needs the permissions of its task, runs with its creator’s rights, and pauses when the creator loses them', async () => {
      const shop = await createShop(t.app);
      const role = async (name: string, permissions: string[]) => (await call(t.app, { method: 'POST', url: '/api/roles', token: shop.token, body: { name, permissions } })).json.id as string;
      const jobsOnly = await role('Jobs', ['jobs:read', 'jobs:write']);
      const exporter = await role('Exporter', ['jobs:read', 'jobs:write', 'reports:read', 'customers:read']);
      const user = async (email: string, roleId: string) => {
        const u = await call(t.app, { method: 'POST', url: '/api/users', token: shop.token, body: { email, name: email, password: PASSWORD, role_id: roleId } });
        return { id: u.json.id as string, token: (await login(t.app, shop.slug, email)).json.access_token as string };
      };
      const ops = await user('jobs@example.com', jobsOnly);
      const ex = await user('exporter@example.com', exporter);
      // jobs:write alone cannot schedule an export of customers every second and then read what it made.
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/schedules', token: ops.token, body: { name: 'sneaky', cron: '* * * * * *', task: 'export_customers' } })), { status: 403, code: 'permission_denied' });
      const s = await call(t.app, { method: 'POST', url: '/api/schedules', token: ex.token, body: { name: 'nightly customers', cron: '* * * * *', task: 'export_customers' } });
      assert.equal(s.statusCode, 201, s.body);

      const { activeShopSchedules } = await import('../src/modules/jobs/schedules.service.ts');
      const clock = new ManualClock(new Date(Date.now() + 61_000));
      const mine = async () => (await activeShopSchedules(t.db, clock)).filter((x) => x.tenantId === shop.tenantId);
      assert.equal((await mine()).length, 1, 'runs while its creator may export customers');
      // The creator loses customers:read: the schedule pauses itself instead of running.
      await call(t.app, { method: 'PATCH', url: `/api/roles/${exporter}`, token: shop.token, body: { permissions: ['jobs:read', 'jobs:write', 'reports:read'] } });
      assert.equal((await mine()).length, 0);
      const paused = (await call(t.app, { url: '/api/schedules', token: shop.token })).json.data?.find((x) => x.id === s.json.id);
      assert.equal(paused?.status, 'paused');
      assert.equal(paused?.paused_reason, 'creator_lost_permission');
      // Resuming needs the task's permissions too, and makes the resumer its owner.
      assert.deepEqual(problemOf(await call(t.app, { method: 'PATCH', url: `/api/schedules/${s.json.id}`, token: ops.token, body: { status: 'active' } })), { status: 403, code: 'permission_denied' });
      const resumed = await call(t.app, { method: 'PATCH', url: `/api/schedules/${s.json.id}`, token: shop.token, body: { status: 'active' } });
      assert.equal(resumed.json.status, 'active');
      assert.equal(resumed.json.paused_reason, null);
      assert.equal((await mine()).length, 1);
    });
  });
}
