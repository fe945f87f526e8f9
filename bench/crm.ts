// CRM scores at scale: one shop with 100,000 contacts whose timelines hold 1,000,000 orders (and their emails),
// scored by the same job production runs (RFM quintiles in one NTILE statement, lead scores from rules with decay,
// a page of 1,000 contacts per transaction, history for what changed), then a segment counted over the result.
// Time and peak memory, on embedded SQLite and (with --pg) on PostgreSQL. Writes its section of docs/benchmarks.md.
//   node bench/crm.ts [--contacts 100000] [--orders 1000000] [--pg postgres://…]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measure, withScratchDatabase, writeSection } from './section.ts';
import { sql } from 'kysely';
import { createDb, dialectOf, type Db } from '../src/db/database.ts';
import type { ContactActivitiesTable, ContactsTable } from '../src/db/schema.ts';
import { migrateUp } from '../src/db/migrator.ts';
import { systemClock } from '../src/lib/clock.ts';
import { ulid } from '../src/lib/ids.ts';
import { computeScores, evaluateSegments } from '../src/modules/crm/index.ts';
import { crmRepository } from '../src/modules/crm/crm.repository.ts';

const { values: args } = parseArgs({ options: { contacts: { type: 'string', default: '100000' }, orders: { type: 'string', default: '1000000' }, pg: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? '' }, out: { type: 'string', default: 'docs/benchmarks.md' } } });
const CONTACTS = Number(args.contacts);
const ORDERS = Number(args.orders);
const TENANT = `ten_${ulid()}`;

/** A fixed pseudo-random sequence per stream (mulberry32), so both engines score the same data. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One contact's orders: when and how much, the same on every call for the same contact. */
function ordersOf(c: number, n: number, now: number) {
  const r = prng(1000 + c);
  return Array.from({ length: n }, () => ({ when: new Date(now - Math.floor(r() * 730) * 86_400_000).toISOString(), total: 1000 + Math.floor(r() * 20_000) }));
}

async function fill(db: Db): Promise<void> {
  const now = Date.now();
  const at = new Date(now).toISOString();
  await db.insertInto('tenants').values({ id: TENANT, name: 'Bench', slug: `bench-${TENANT.slice(-8)}`, status: 'active', currency: 'EUR', timezone: 'Europe/Berlin', tax_mode: 'inclusive', suspended_at: null, suspended_reason: null, version: 1, created_at: at, updated_at: at }).execute();
  const rand = prng(42);
  // Orders spread over the contacts unevenly (a few big customers, many one-off ones, some leads without any).
  const perContact = Array.from({ length: CONTACTS }, () => 0);
  for (let i = 0; i < ORDERS; i++) perContact[Math.floor(CONTACTS * rand() ** 2)]++;
  const ids = Array.from({ length: CONTACTS }, () => `con_${ulid()}`);
  // The contacts first (with their order figures), then their timelines: the foreign key is checked against a
  // full, analysed table.
  for (let c0 = 0; c0 < CONTACTS; c0 += 1000) {
    const rows: ContactsTable[] = [];
    for (let c = c0; c < Math.min(CONTACTS, c0 + 1000); c++) {
      const orders = ordersOf(c, perContact[c] as number, now);
      const n = orders.length;
      const whens = orders.map((o) => o.when).sort();
      rows.push({ tenant_id: TENANT, id: ids[c] as string, email: `c${c}@bench.example`, first_name: '', last_name: '', phone: null, country: rand() < 0.5 ? 'DE' : 'AT', customer_id: null, source: n ? 'order' : 'newsletter', stage: n >= 2 ? 'repeat' : n === 1 ? 'customer' : 'lead', stage_override: null, tags: rand() < 0.05 ? '["vip"]' : '[]', custom: '{}', consent: rand() < 0.6 ? 'subscribed' : 'none', consent_source: null, consent_at: null, order_count: n, total_spent: orders.reduce((x, o) => x + o.total, 0), first_order_at: whens[0] ?? null, last_order_at: whens.at(-1) ?? null, erased_at: null, version: 1, created_at: at, updated_at: at });
    }
    await db.insertInto('contacts').values(rows).execute();
  }
  if (dialectOf(db) === 'postgres') await sql`analyze contacts`.execute(db);
  const acts: ContactActivitiesTable[] = [];
  for (let c = 0; c < CONTACTS; c++) {
    for (const o of ordersOf(c, perContact[c] as number, now)) {
      acts.push({ tenant_id: TENANT, id: `act_${ulid()}`, contact_id: ids[c] as string, type: 'order.created', summary: 'Placed an order', data: `{"total":${o.total}}`, actor: 'system', event_id: null, assignee_id: null, due_at: null, done_at: null, reminded_at: null, occurred_at: o.when, created_at: o.when });
    }
    while (acts.length >= 1000) await db.insertInto('contact_activities').values(acts.splice(0, 1000)).execute();
  }
  if (acts.length) await db.insertInto('contact_activities').values(acts).execute();
  if (dialectOf(db) === 'postgres') await sql`analyze`.execute(db);
  await db.insertInto('score_rules').values([
    { tenant_id: TENANT, id: `rule_${ulid()}`, name: 'Ordered', kind: 'activity', activity_type: 'order.created', attribute: null, value: null, points: 10, half_life_days: 90, created_at: at },
    { tenant_id: TENANT, id: `rule_${ulid()}`, name: 'VIP tag', kind: 'attribute', activity_type: null, attribute: 'tag', value: 'vip', points: 25, half_life_days: null, created_at: at },
    { tenant_id: TENANT, id: `rule_${ulid()}`, name: 'From Germany', kind: 'attribute', activity_type: null, attribute: 'country', value: 'DE', points: 3, half_life_days: null, created_at: at },
  ]).execute();
  await db.insertInto('segments').values({ tenant_id: TENANT, id: `seg_${ulid()}`, name: 'Top consented', filter: JSON.stringify({ min_orders: 10, min_m: 4, consent: ['subscribed'] }), member_count: 0, evaluated_at: null, created_at: at, updated_at: at }).execute();
}

/** Runs `fn`, sampling the process's RSS every 20 ms: seconds and the peak growth over the start. */
interface Row {
  engine: string;
  fill: number;
  scores: number;
  scoresPeak: number;
  again: number;
  changed: number;
  segments: number;
  count: number;
  countMs: number;
  members: number;
}

async function run(engine: string, db: Db): Promise<Row> {
  await migrateUp(db);
  const f = await measure(() => fill(db));
  const s = await measure(() => computeScores(db, systemClock, TENANT));
  const again = await measure(() => computeScores(db, systemClock, TENANT));
  const seg = await measure(() => db.transaction().execute((trx) => evaluateSegments(trx, systemClock, TENANT)));
  const t0 = performance.now();
  const count = await crmRepository.countContacts(db, TENANT, { min_orders: 10, min_m: 4, consent: ['subscribed'] });
  const countMs = performance.now() - t0;
  const scored = Number((await sql<{ n: number }>`select count(*) as n from contact_scores where tenant_id = ${TENANT}`.execute(db)).rows[0]?.n);
  if (scored !== CONTACTS) throw new Error(`${engine}: ${scored} scored of ${CONTACTS}`);
  return { engine, fill: f.seconds, scores: s.seconds, scoresPeak: s.peakMb, again: again.seconds, changed: again.result.changed, segments: seg.seconds, count, countMs, members: seg.result.entered };
}

const rows: Row[] = [];
const dir = mkdtempSync(join(tmpdir(), 'stockroom-crmbench-'));
const lite = createDb({ dialect: 'sqlite', file: join(dir, 'crm.db') });
try {
  rows.push(await run('SQLite (embedded, synchronous=FULL)', lite));
} finally {
  await lite.destroy();
  rmSync(dir, { recursive: true, force: true });
}
if (args.pg) {
  await withScratchDatabase(args.pg as string, 'stockroom_crmbench', async (url) => {
    const db = createDb({ dialect: 'postgres', url, poolMax: 4 });
    try {
      rows.push(await run('PostgreSQL', db));
    } finally {
      await db.destroy();
    }
  });
}

const f1 = (x: number) => x.toFixed(1);
const section = `<!-- bench/crm.ts: start -->
## CRM: scores and segments at scale

\`node bench/crm.ts${args.pg ? ' --pg URL' : ''}\`: one shop with ${CONTACTS.toLocaleString('en')} contacts whose timelines hold ${ORDERS.toLocaleString('en')} orders (spread
unevenly: a few big customers, many one-off buyers, some leads), three lead-score rules (an activity with a 90-day
half-life, two attributes) and one segment. The scores job is the one production runs: RFM quintiles in one NTILE
statement, lead scores a page of 1,000 contacts per transaction, history only for scores that changed. Peak memory
is the benchmark process's RSS growth while the job runs. Last run: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'},
${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.

| engine | fill (s) | scores, first run (s) | peak memory (MiB) | scores, again (s) · changed | segment evaluation (s) · members | segment count (ms) |
|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.engine} | ${f1(r.fill)} | ${f1(r.scores)} | ${f1(r.scoresPeak)} | ${f1(r.again)} · ${r.changed} | ${f1(r.segments)} · ${r.members} | ${r.countMs.toFixed(0)} (${r.count}) |`).join('\n')}

The job reads the contacts' order figures, which the CRM's event consumer keeps as orders happen, and their
timeline entries for the activity rules; it does not read the orders table. Memory stays flat with the shop's size
(a page at a time); only the RFM pass holds one row per customer (id and three figures).
<!-- bench/crm.ts: end -->`;

writeSection(args.out as string, 'crm', section);
