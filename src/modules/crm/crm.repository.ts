import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Executor } from '../../context.ts';
import { dialectOf, inList } from '../../db/database.ts';
import type { Consent, ContactActivitiesTable, ContactAuditTable, ContactFieldsTable, ContactScoresTable, ContactStage, ContactsTable, Database, ScoreRulesTable, SegmentsTable } from '../../db/schema.ts';

/** Contacts, their timeline, fields, scores, rules, segments and audit. Every query is scoped by tenant_id. */
export const crmRepository = {
  // --- contacts
  async insertContact(db: Executor, row: ContactsTable): Promise<void> {
    await db.insertInto('contacts').values(row).execute();
  },
  async insertContacts(db: Executor, rows: readonly ContactsTable[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('contacts').values(rows.slice(i, i + 500)).execute();
  },
  async contactsByEmails(db: Executor, tenantId: string, emails: readonly string[]) {
    if (emails.length === 0) return [];
    return db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where(inList(db, 'email', emails)).execute();
  },
  async findContact(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async findByEmail(db: Executor, tenantId: string, email: string) {
    return db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('email', '=', email).executeTakeFirst();
  },
  async findByCustomer(db: Executor, tenantId: string, customerId: string) {
    return db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('customer_id', '=', customerId).executeTakeFirst();
  },
  async updateContact(db: Executor, tenantId: string, id: string, patch: Partial<ContactsTable>, expectedVersion?: number): Promise<boolean> {
    let q = db.updateTable('contacts').set({ ...patch, version: sql<number>`version + 1` }).where('tenant_id', '=', tenantId).where('id', '=', id);
    if (expectedVersion !== undefined) q = q.where('version', '=', expectedVersion);
    return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
  },
  /** Counts an order in (or, with negative amounts, a refund out): atomic increments, stage derived in SQL. */
  async addOrder(db: Executor, tenantId: string, id: string, at: string, count: number, amount: number): Promise<void> {
    await db
      .updateTable('contacts')
      .set({
        order_count: sql<number>`order_count + ${count}`,
        total_spent: sql<number>`total_spent + ${amount}`,
        first_order_at: count > 0 ? sql<string>`coalesce(first_order_at, ${at})` : sql<string | null>`first_order_at`,
        last_order_at: count > 0 ? at : sql<string | null>`last_order_at`,
        stage: count > 0 ? sql<ContactsTable['stage']>`case when order_count + ${count} >= 2 then 'repeat' else 'customer' end` : sql<ContactsTable['stage']>`stage`,
        updated_at: at,
        version: sql<number>`version + 1`,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  },
  async deleteContact(db: Executor, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('contacts').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async listContacts(db: Executor, tenantId: string, filter: ContactFilter, limit: number, before?: string) {
    let q = matching(db, tenantId, filter).selectAll('c').orderBy('c.id', 'desc').limit(limit + 1);
    if (before) q = q.where('c.id', '<', before);
    return q.execute();
  },
  async countContacts(db: Executor, tenantId: string, filter: ContactFilter): Promise<number> {
    const r = await matching(db, tenantId, filter)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  },
  async matchingIds(db: Executor, tenantId: string, filter: ContactFilter) {
    return (await matching(db, tenantId, filter).select('c.id').execute()).map((r) => r.id);
  },
  /** Lapsed: customers whose last order is older than the cut-off (and who were not set by hand). */
  async markLapsed(db: Executor, tenantId: string, before: string, at: string): Promise<number> {
    const r = await db
      .updateTable('contacts')
      .set({ stage: 'lapsed', updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('stage', 'in', ['customer', 'repeat'])
      .where('last_order_at', '<', before)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  },

  async orderEmail(db: Executor, tenantId: string, orderId: string): Promise<string | null> {
    return (await db.selectFrom('orders').select('email').where('tenant_id', '=', tenantId).where('id', '=', orderId).executeTakeFirst())?.email ?? null;
  },

  // --- fields
  async fields(db: Executor, tenantId: string) {
    return db.selectFrom('contact_fields').selectAll().where('tenant_id', '=', tenantId).orderBy('key').execute();
  },
  async insertField(db: Executor, row: ContactFieldsTable): Promise<void> {
    await db.insertInto('contact_fields').values(row).execute();
  },
  async deleteField(db: Executor, tenantId: string, key: string): Promise<boolean> {
    return Number((await db.deleteFrom('contact_fields').where('tenant_id', '=', tenantId).where('key', '=', key).executeTakeFirst()).numDeletedRows) === 1;
  },

  // --- timeline
  async insertActivity(db: Executor, row: ContactActivitiesTable): Promise<boolean> {
    const r = await db
      .insertInto('contact_activities')
      .values(row)
      .onConflict((oc) => oc.columns(['tenant_id', 'contact_id', 'event_id']).where('event_id', 'is not', null).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  },
  async activities(db: Executor, tenantId: string, contactId: string, opts: { types?: readonly string[] | undefined; limit: number; before?: string | undefined }) {
    let q = db.selectFrom('contact_activities').selectAll().where('tenant_id', '=', tenantId).where('contact_id', '=', contactId).orderBy('id', 'desc').limit(opts.limit + 1);
    if (opts.types?.length) q = q.where('type', 'in', opts.types);
    if (opts.before) q = q.where('id', '<', opts.before);
    return q.execute();
  },
  async findActivity(db: Executor, tenantId: string, contactId: string, id: string) {
    return db.selectFrom('contact_activities').selectAll().where('tenant_id', '=', tenantId).where('contact_id', '=', contactId).where('id', '=', id).executeTakeFirst();
  },
  async updateActivity(db: Executor, tenantId: string, id: string, patch: Partial<ContactActivitiesTable>): Promise<void> {
    await db.updateTable('contact_activities').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async moveActivities(db: Executor, tenantId: string, from: string, to: string): Promise<void> {
    // Events logged on both keep the surviving contact's entry.
    await db.deleteFrom('contact_activities').where('tenant_id', '=', tenantId).where('contact_id', '=', from).where('event_id', 'in', (eb) => eb.selectFrom('contact_activities').select('event_id').where('tenant_id', '=', tenantId).where('contact_id', '=', to).where('event_id', 'is not', null)).execute();
    await db.updateTable('contact_activities').set({ contact_id: to }).where('tenant_id', '=', tenantId).where('contact_id', '=', from).execute();
  },
  async eraseActivities(db: Executor, tenantId: string, contactId: string): Promise<number> {
    return Number((await db.deleteFrom('contact_activities').where('tenant_id', '=', tenantId).where('contact_id', '=', contactId).executeTakeFirst()).numDeletedRows);
  },
  async dueTasks(db: Executor, now: string, limit: number) {
    return db.selectFrom('contact_activities').selectAll().where('type', '=', 'task').where('done_at', 'is', null).where('reminded_at', 'is', null).where('due_at', '<=', now).limit(limit).execute();
  },

  // --- scores
  /** Recency, frequency and monetary quintiles of every contact with an order, in one statement (NTILE on both engines). */
  async rfm(db: Executor, tenantId: string, now: string) {
    return sql<{ id: string; recency_days: number; frequency: number; monetary: number; r: number; f: number; m: number }>`
      select id, recency_days, frequency, monetary,
        ntile(5) over (order by recency_days desc, id) as r,
        ntile(5) over (order by frequency, id) as f,
        ntile(5) over (order by monetary, id) as m
      from (
        select id, order_count as frequency, total_spent as monetary,
          ${dayDiff(db, now)} as recency_days
        from contacts where tenant_id = ${tenantId} and order_count > 0 and erased_at is null
      ) t`
      .execute(db)
      .then((r) => r.rows.map((x) => ({ ...x, recency_days: Number(x.recency_days), frequency: Number(x.frequency), monetary: Number(x.monetary), r: Number(x.r), f: Number(x.f), m: Number(x.m) })));
  },
  async contactsForScoring(db: Executor, tenantId: string, limit: number, after?: string) {
    let q = db.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('erased_at', 'is', null).orderBy('id').limit(limit);
    if (after) q = q.where('id', '>', after);
    return q.execute();
  },
  /** Scores of a page of contacts in one statement; history gets a row only for the scores that changed. */
  async upsertScores(db: Executor, rows: readonly ContactScoresTable[], changed: readonly ContactScoresTable[]): Promise<void> {
    if (rows.length) {
      await db
        .insertInto('contact_scores')
        .values([...rows])
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'contact_id']).doUpdateSet((eb) => ({
            recency_days: eb.ref('excluded.recency_days'),
            frequency: eb.ref('excluded.frequency'),
            monetary: eb.ref('excluded.monetary'),
            r: eb.ref('excluded.r'),
            f: eb.ref('excluded.f'),
            m: eb.ref('excluded.m'),
            rfm: eb.ref('excluded.rfm'),
            lead_score: eb.ref('excluded.lead_score'),
            explanation: eb.ref('excluded.explanation'),
            computed_at: eb.ref('excluded.computed_at'),
          })),
        )
        .execute();
    }
    if (changed.length) {
      await db
        .insertInto('contact_score_history')
        .values(changed.map((r) => ({ tenant_id: r.tenant_id, contact_id: r.contact_id, computed_at: r.computed_at, rfm: r.rfm, lead_score: r.lead_score })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  },
  async scoresOf(db: Executor, tenantId: string, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return db.selectFrom('contact_scores').select(['contact_id', 'rfm', 'lead_score']).where('tenant_id', '=', tenantId).where('contact_id', 'in', ids).execute();
  },
  async activityTimesOf(db: Executor, tenantId: string, types: readonly string[], ids: readonly string[]) {
    if (types.length === 0 || ids.length === 0) return [];
    return db.selectFrom('contact_activities').select(['contact_id', 'type', 'occurred_at']).where('tenant_id', '=', tenantId).where('type', 'in', types).where('contact_id', 'in', ids).execute();
  },
  async score(db: Executor, tenantId: string, contactId: string) {
    return db.selectFrom('contact_scores').selectAll().where('tenant_id', '=', tenantId).where('contact_id', '=', contactId).executeTakeFirst();
  },
  async scoreHistory(db: Executor, tenantId: string, contactId: string, limit: number) {
    return db.selectFrom('contact_score_history').select(['computed_at', 'rfm', 'lead_score']).where('tenant_id', '=', tenantId).where('contact_id', '=', contactId).orderBy('computed_at', 'desc').limit(limit).execute();
  },
  async rules(db: Executor, tenantId: string) {
    return db.selectFrom('score_rules').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
  },
  async insertRule(db: Executor, row: ScoreRulesTable): Promise<void> {
    await db.insertInto('score_rules').values(row).execute();
  },
  async deleteRule(db: Executor, tenantId: string, id: string): Promise<boolean> {
    return Number((await db.deleteFrom('score_rules').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()).numDeletedRows) === 1;
  },
  async tenantsWithContacts(db: Executor) {
    return (await db.selectFrom('contacts').select('tenant_id').distinct().execute()).map((r) => r.tenant_id);
  },

  // --- segments
  async insertSegment(db: Executor, row: SegmentsTable): Promise<void> {
    await db.insertInto('segments').values(row).execute();
  },
  async findSegment(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('segments').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async listSegments(db: Executor, tenantId: string, limit: number, after?: string) {
    let q = db.selectFrom('segments').selectAll().where('tenant_id', '=', tenantId).orderBy('id').limit(limit + 1);
    if (after) q = q.where('id', '>', after);
    return q.execute();
  },
  async allSegments(db: Executor, tenantId: string) {
    return db.selectFrom('segments').selectAll().where('tenant_id', '=', tenantId).execute();
  },
  async updateSegment(db: Executor, tenantId: string, id: string, patch: Partial<SegmentsTable>): Promise<void> {
    await db.updateTable('segments').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async deleteSegment(db: Executor, tenantId: string, id: string): Promise<boolean> {
    return Number((await db.deleteFrom('segments').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()).numDeletedRows) === 1;
  },
  async memberIds(db: Executor, tenantId: string, segmentId: string) {
    return (await db.selectFrom('segment_members').select('contact_id').where('tenant_id', '=', tenantId).where('segment_id', '=', segmentId).execute()).map((r) => r.contact_id);
  },
  async addMembers(db: Executor, tenantId: string, segmentId: string, ids: readonly string[], at: string): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      if (chunk.length) await db.insertInto('segment_members').values(chunk.map((contact_id) => ({ tenant_id: tenantId, segment_id: segmentId, contact_id, since: at }))).onConflict((oc) => oc.doNothing()).execute();
    }
  },
  async removeMembers(db: Executor, tenantId: string, segmentId: string, ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      if (chunk.length) await db.deleteFrom('segment_members').where('tenant_id', '=', tenantId).where('segment_id', '=', segmentId).where('contact_id', 'in', chunk).execute();
    }
  },

  // --- audit
  async insertAudit(db: Executor, row: ContactAuditTable): Promise<void> {
    await db.insertInto('contact_audit').values(row).execute();
  },
  async audit(db: Executor, tenantId: string, contactId: string) {
    return db.selectFrom('contact_audit').selectAll().where('tenant_id', '=', tenantId).where('contact_id', '=', contactId).orderBy('id').execute();
  },
};

/** Whole days from the last order to `now`, on either engine. */
function dayDiff(db: Executor, now: string) {
  return dialectOf(db) === 'postgres' ? sql`coalesce(floor(extract(epoch from (${now}::timestamptz - last_order_at)) / 86400)::int, 100000)` : sql`coalesce(cast(julianday(${now}) - julianday(last_order_at) as integer), 100000)`;
}

/**
 * A saved filter over contacts (segments, and the contacts list): every condition must hold. Tags and custom field
 * keys are validated by the service (tags: a-z, 0-9, space . : -; keys: a-z, 0-9, _), so they are safe in the JSON
 * tests below, which run on both engines.
 */
export interface ContactFilter {
  stage?: ContactStage[] | undefined;
  tags_any?: string[] | undefined;
  tags_all?: string[] | undefined;
  consent?: Consent[] | undefined;
  country?: string[] | undefined;
  email?: string | undefined;
  min_total_spent?: number | undefined;
  max_total_spent?: number | undefined;
  min_orders?: number | undefined;
  max_orders?: number | undefined;
  last_order_after?: string | undefined;
  last_order_before?: string | undefined;
  min_lead_score?: number | undefined;
  /** RFM quintiles at least these (1–5). */
  min_r?: number | undefined;
  min_f?: number | undefined;
  min_m?: number | undefined;
  /** `type` is filled in from the field's definition when the filter is saved. */
  custom?: { key: string; type?: 'text' | 'number' | 'date' | 'boolean' | 'choice' | undefined; op: 'eq' | 'gt' | 'lt'; value: string | number | boolean }[] | undefined;
}

type Eb = ExpressionBuilder<Database & { c: Database['contacts']; s: Database['contact_scores'] }, 'c' | 's'>;

function matching(db: Executor, tenantId: string, f: ContactFilter) {
  const pg = dialectOf(db) === 'postgres';
  return db
    .selectFrom('contacts as c')
    .leftJoin('contact_scores as s', (j) => j.onRef('s.tenant_id', '=', 'c.tenant_id').onRef('s.contact_id', '=', 'c.id'))
    .where('c.tenant_id', '=', tenantId)
    .where('c.erased_at', 'is', null)
    .where((eb) => eb.and(conditions(eb as unknown as Eb, f, pg)) as never);
}

function conditions(eb: Eb, f: ContactFilter, pg: boolean): Expression<SqlBool>[] {
  const out: Expression<SqlBool>[] = [];
  const tag = (t: string) => eb('c.tags', 'like', `%${JSON.stringify(t)}%`);
  if (f.stage?.length) out.push(eb.or([eb('c.stage_override', 'in', f.stage), eb.and([eb('c.stage_override', 'is', null), eb('c.stage', 'in', f.stage)])]));
  if (f.tags_any?.length) out.push(eb.or(f.tags_any.map(tag)));
  for (const t of f.tags_all ?? []) out.push(tag(t));
  if (f.consent?.length) out.push(eb('c.consent', 'in', f.consent));
  if (f.country?.length) out.push(eb('c.country', 'in', f.country));
  if (f.email) out.push(eb('c.email', '=', f.email.toLowerCase()));
  if (f.min_total_spent !== undefined) out.push(eb('c.total_spent', '>=', f.min_total_spent));
  if (f.max_total_spent !== undefined) out.push(eb('c.total_spent', '<=', f.max_total_spent));
  if (f.min_orders !== undefined) out.push(eb('c.order_count', '>=', f.min_orders));
  if (f.max_orders !== undefined) out.push(eb('c.order_count', '<=', f.max_orders));
  if (f.last_order_after) out.push(eb('c.last_order_at', '>=', f.last_order_after));
  if (f.last_order_before) out.push(eb('c.last_order_at', '<', f.last_order_before));
  if (f.min_lead_score !== undefined) out.push(eb('s.lead_score', '>=', f.min_lead_score));
  if (f.min_r !== undefined) out.push(eb('s.r', '>=', f.min_r));
  if (f.min_f !== undefined) out.push(eb('s.f', '>=', f.min_f));
  if (f.min_m !== undefined) out.push(eb('s.m', '>=', f.min_m));
  for (const c of f.custom ?? []) {
    const raw = pg ? sql<string>`(c.custom::jsonb ->> ${c.key})` : sql<string>`json_extract(c.custom, ${`$.${c.key}`})`;
    const op = c.op === 'eq' ? '=' : c.op === 'gt' ? '>' : '<';
    if (c.type === 'number') out.push(sql<SqlBool>`cast(${raw} as ${sql.raw(pg ? 'numeric' : 'real')}) ${sql.raw(op)} ${Number(c.value)}`);
    else if (c.type === 'boolean') out.push(pg ? sql<SqlBool>`${raw} = ${String(c.value)}` : sql<SqlBool>`${raw} = ${c.value ? 1 : 0}`);
    else out.push(sql<SqlBool>`${raw} ${sql.raw(op)} ${String(c.value)}`);
  }
  return out;
}
