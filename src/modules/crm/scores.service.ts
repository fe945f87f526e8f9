import type { Ctx, Executor } from '../../context.ts';
import type { ContactScoresTable, ContactsTable, ScoreRulesTable } from '../../db/schema.ts';
import type { Db } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { assertRoom } from '../../lib/limits.ts';
import { crmRepository as repo } from './crm.repository.ts';

/** A customer whose last order is older than this is `lapsed`. */
export const LAPSED_AFTER_DAYS = 180;
const PAGE = 1000;

export interface ScoreRule {
  id: string;
  name: string;
  kind: 'activity' | 'attribute';
  activity_type: string | null;
  attribute: string | null;
  value: string | null;
  points: number;
  half_life_days: number | null;
  created_at: string;
}

const toRule = (r: ScoreRulesTable): ScoreRule => ({ id: r.id, name: r.name, kind: r.kind, activity_type: r.activity_type, attribute: r.attribute, value: r.value, points: Number(r.points), half_life_days: r.half_life_days === null ? null : Number(r.half_life_days), created_at: r.created_at });
const ATTRIBUTE = /^(tag|country|consent|stage|source|custom\.[a-z][a-z0-9_]{0,39})$/;

export async function listRules(ctx: Ctx): Promise<ScoreRule[]> {
  return (await repo.rules(ctx.db, ctx.tenantId)).map(toRule);
}

/**
 * A lead-score rule: an activity on the timeline (e.g. `order.created`, `email.sent`, `chat.message`, `note`) or an
 * attribute (`tag`, `country`, `consent`, `stage`, `source`, `custom.<key>`) equal to a value gives points;
 * activity points decay with the given half-life in days (none: they never fade).
 */
export async function createRule(ctx: Ctx, input: { name: string; kind: 'activity' | 'attribute'; activity_type?: string | undefined; attribute?: string | undefined; value?: string | undefined; points: number; half_life_days?: number | undefined }): Promise<ScoreRule> {
  if (input.kind === 'activity' && !input.activity_type) throw invalid('invalid_rule', 'An activity rule names the activity type', [{ pointer: '/body/activity_type', detail: 'required' }]);
  if (input.kind === 'attribute' && (!input.attribute || !ATTRIBUTE.test(input.attribute) || input.value === undefined)) throw invalid('invalid_rule', 'An attribute rule names tag, country, consent, stage, source or custom.<key>, and a value', [{ pointer: '/body/attribute', detail: 'attribute and value' }]);
  assertRoom((await repo.rules(ctx.db, ctx.tenantId)).length, 'score_rules');
  const row: ScoreRulesTable = { tenant_id: ctx.tenantId, id: newId('scoreRule'), name: input.name, kind: input.kind, activity_type: input.kind === 'activity' ? (input.activity_type ?? null) : null, attribute: input.kind === 'attribute' ? (input.attribute ?? null) : null, value: input.kind === 'attribute' ? (input.value ?? null) : null, points: input.points, half_life_days: input.kind === 'activity' ? (input.half_life_days ?? null) : null, created_at: ctx.clock.now().toISOString() };
  await repo.insertRule(ctx.db, row);
  return toRule(row);
}

export async function deleteRule(ctx: Ctx, id: string): Promise<void> {
  if (!(await repo.deleteRule(ctx.db, ctx.tenantId, id))) throw notFound('Rule');
}

function attributeOf(c: ContactsTable, attribute: string): string[] {
  if (attribute === 'tag') return JSON.parse(c.tags) as string[];
  if (attribute === 'country') return c.country ? [c.country] : [];
  if (attribute === 'consent') return [c.consent];
  if (attribute === 'stage') return [c.stage_override ?? c.stage];
  if (attribute === 'source') return [c.source];
  const v = (JSON.parse(c.custom) as Record<string, unknown>)[attribute.slice('custom.'.length)];
  return v === undefined || v === null ? [] : [String(v)];
}

/**
 * Scores every contact of a shop: RFM quintiles (recency, frequency, monetary — one NTILE statement over the shop's
 * customers) and the lead score from the shop's rules, each with its explanation; a page of contacts per
 * transaction, history kept for the scores that changed. Also moves customers without an order for 180 days to
 * `lapsed`.
 */
export async function computeScores(db: Db, clock: Clock, tenantId: string): Promise<{ contacts: number; changed: number }> {
  const now = clock.now();
  const nowIso = now.toISOString();
  await repo.markLapsed(db, tenantId, new Date(now.getTime() - LAPSED_AFTER_DAYS * 86_400_000).toISOString(), nowIso);
  const rfm = new Map((await repo.rfm(db, tenantId, nowIso)).map((r) => [r.id, r]));
  const rules = await repo.rules(db, tenantId);
  const activityRules = rules.filter((r) => r.kind === 'activity');
  const types = [...new Set(activityRules.map((r) => r.activity_type as string))];
  let contacts = 0;
  let changed = 0;
  for (let after: string | undefined; ; ) {
    const page = await repo.contactsForScoring(db, tenantId, PAGE, after);
    if (page.length === 0) break;
    after = (page.at(-1) as ContactsTable).id;
    await db.transaction().execute(async (trx) => {
      const ids = page.map((c) => c.id);
      const acts = await repo.activityTimesOf(trx, tenantId, types, ids);
      const byContact = new Map<string, { type: string; occurred_at: string }[]>();
      for (const a of acts) byContact.set(a.contact_id, [...(byContact.get(a.contact_id) ?? []), a]);
      const before = new Map((await repo.scoresOf(trx, tenantId, ids)).map((s) => [s.contact_id, s]));
      const rows: ContactScoresTable[] = page.map((c) => scoreOf(c, rfm.get(c.id), rules, byContact.get(c.id) ?? [], now));
      const moved = rows.filter((r) => {
        const b = before.get(r.contact_id);
        return !b || b.rfm !== r.rfm || Number(b.lead_score) !== r.lead_score;
      });
      await repo.upsertScores(trx, rows, moved);
      changed += moved.length;
    });
    contacts += page.length;
    if (page.length < PAGE) break;
  }
  return { contacts, changed };
}

function scoreOf(c: ContactsTable, q: { recency_days: number; frequency: number; monetary: number; r: number; f: number; m: number } | undefined, rules: readonly ScoreRulesTable[], acts: readonly { type: string; occurred_at: string }[], now: Date): ContactScoresTable {
  const lead: { rule_id: string; name: string; points: number; detail: string }[] = [];
  for (const rule of rules) {
    if (rule.kind === 'attribute') {
      if (attributeOf(c, rule.attribute as string).includes(rule.value as string)) lead.push({ rule_id: rule.id, name: rule.name, points: Number(rule.points), detail: `${rule.attribute} is ${rule.value}` });
      continue;
    }
    const matching = acts.filter((a) => a.type === rule.activity_type);
    if (matching.length === 0) continue;
    let points = 0;
    for (const a of matching) {
      const ageDays = (now.getTime() - Date.parse(a.occurred_at)) / 86_400_000;
      points += rule.half_life_days ? Number(rule.points) * 0.5 ** (Math.max(0, ageDays) / Number(rule.half_life_days)) : Number(rule.points);
    }
    lead.push({ rule_id: rule.id, name: rule.name, points: Math.round(points), detail: `${matching.length} × ${rule.activity_type}${rule.half_life_days ? `, halving every ${rule.half_life_days} days` : ''}` });
  }
  const leadScore = lead.reduce((a, l) => a + l.points, 0);
  const r = q?.r ?? 0;
  const f = q?.f ?? 0;
  const m = q?.m ?? 0;
  return {
    tenant_id: c.tenant_id,
    contact_id: c.id,
    recency_days: q ? q.recency_days : null,
    frequency: q?.frequency ?? 0,
    monetary: q?.monetary ?? 0,
    r,
    f,
    m,
    rfm: `${r}${f}${m}`,
    lead_score: leadScore,
    explanation: JSON.stringify({ rfm: q ? { recency_days: q.recency_days, frequency: q.frequency, monetary: q.monetary, quintiles: 'per shop, 5 = best (most recent, most orders, most spent)' } : { none: 'no orders yet' }, lead }),
    computed_at: now.toISOString(),
  };
}

/** A contact's scores with their explanation and history. */
export async function scoresOf(ctx: Ctx, contactId: string) {
  const c = await repo.findContact(ctx.db, ctx.tenantId, contactId);
  if (!c || c.erased_at) throw notFound('Contact');
  const s = await repo.score(ctx.db, ctx.tenantId, contactId);
  const history = await repo.scoreHistory(ctx.db, ctx.tenantId, contactId, 50);
  return {
    contact_id: contactId,
    current: s ? { rfm: s.rfm, r: Number(s.r), f: Number(s.f), m: Number(s.m), recency_days: s.recency_days === null ? null : Number(s.recency_days), frequency: Number(s.frequency), monetary: Number(s.monetary), lead_score: Number(s.lead_score), explanation: JSON.parse(s.explanation) as unknown, computed_at: s.computed_at } : null,
    history: history.map((h) => ({ computed_at: h.computed_at, rfm: h.rfm, lead_score: Number(h.lead_score) })),
  };
}

export async function tenantsWithContacts(db: Executor): Promise<string[]> {
  return repo.tenantsWithContacts(db);
}
