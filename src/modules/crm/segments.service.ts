import type { Ctx, Executor } from '../../context.ts';
import type { SegmentsTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { conflict, invalid, notFound, type FieldProblem } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { assertRoom } from '../../lib/limits.ts';
import { decodeCursor, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { emitEvent } from '../events/index.ts';
import { checkTags, listContacts, type Contact } from './contacts.service.ts';
import { crmRepository as repo, type ContactFilter } from './crm.repository.ts';

export interface Segment {
  id: string;
  name: string;
  filter: ContactFilter;
  /** Members at the last evaluation (the scores job); `count` in a read is live. */
  member_count: number;
  evaluated_at: string | null;
  created_at: string;
  updated_at: string;
}

const toSegment = (s: SegmentsTable): Segment => ({ id: s.id, name: s.name, filter: JSON.parse(s.filter) as ContactFilter, member_count: Number(s.member_count), evaluated_at: s.evaluated_at, created_at: s.created_at, updated_at: s.updated_at });

/** A filter's custom-field conditions take their type from the shop's field definitions; tags are checked as on contacts. */
export async function checkFilter(db: Executor, tenantId: string, f: ContactFilter, pointer = '/body/filter'): Promise<ContactFilter> {
  const out: ContactFilter = { ...f };
  if (f.tags_any) out.tags_any = checkTags(f.tags_any, `${pointer}/tags_any`);
  if (f.tags_all) out.tags_all = checkTags(f.tags_all, `${pointer}/tags_all`);
  if (f.custom?.length) {
    const defs = new Map((await repo.fields(db, tenantId)).map((d) => [d.key, d]));
    const problems: FieldProblem[] = [];
    out.custom = f.custom.map((c, i) => {
      const d = defs.get(c.key);
      if (!d) problems.push({ pointer: `${pointer}/custom/${i}/key`, detail: 'no such field' });
      return { ...c, type: d?.type ?? 'text' };
    });
    if (problems.length) throw invalid('invalid_filter', 'The filter names unknown fields', problems);
  }
  return out;
}

export async function createSegment(ctx: Ctx, input: { name: string; filter: ContactFilter }): Promise<Segment & { count: number }> {
  const filter = await checkFilter(ctx.db, ctx.tenantId, input.filter);
  assertRoom((await repo.allSegments(ctx.db, ctx.tenantId)).length, 'segments');
  const now = ctx.clock.now().toISOString();
  const row: SegmentsTable = { tenant_id: ctx.tenantId, id: newId('segment'), name: input.name, filter: JSON.stringify(filter), member_count: 0, evaluated_at: null, created_at: now, updated_at: now };
  try {
    await repo.insertSegment(ctx.db, row);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('segment_name_taken', `A segment named ${input.name} exists`);
    throw e;
  }
  // Its members from now on: entering or leaving is announced from the next evaluation.
  const ids = await repo.matchingIds(ctx.db, ctx.tenantId, filter);
  await repo.addMembers(ctx.db, ctx.tenantId, row.id, ids, now);
  await repo.updateSegment(ctx.db, ctx.tenantId, row.id, { member_count: ids.length, evaluated_at: now });
  return { ...toSegment({ ...row, member_count: ids.length, evaluated_at: now }), count: ids.length };
}

export async function getSegment(ctx: Ctx, id: string): Promise<Segment & { count: number }> {
  const s = await repo.findSegment(ctx.db, ctx.tenantId, id);
  if (!s) throw notFound('Segment');
  return { ...toSegment(s), count: await repo.countContacts(ctx.db, ctx.tenantId, JSON.parse(s.filter) as ContactFilter) };
}

export async function listSegments(ctx: Ctx, page: PageRequest): Promise<Page<Segment>> {
  const p = toPage(await repo.listSegments(ctx.db, ctx.tenantId, page.limit, decodeCursor(page.cursor)), page.limit);
  return { ...p, data: p.data.map(toSegment) };
}

export async function deleteSegment(ctx: Ctx, id: string): Promise<void> {
  if (!(await repo.deleteSegment(ctx.db, ctx.tenantId, id))) throw notFound('Segment');
}

/** The contacts the segment's filter matches now, newest first. */
export async function segmentMembers(ctx: Ctx, id: string, page: PageRequest): Promise<Page<Contact>> {
  const s = await repo.findSegment(ctx.db, ctx.tenantId, id);
  if (!s) throw notFound('Segment');
  return listContacts(ctx, JSON.parse(s.filter) as ContactFilter, page);
}

/** The filter's members, ids only (marketing sync, counts). */
export async function segmentMemberIds(db: Executor, tenantId: string, filter: ContactFilter): Promise<string[]> {
  return repo.matchingIds(db, tenantId, filter);
}

const CHUNK = 1000;

/**
 * Re-evaluates a shop's segments: who entered and who left since the last evaluation is stored and announced
 * (`segment.members_changed`, up to 1,000 ids per event: webhooks, realtime, marketing sync).
 */
export async function evaluateSegments(db: Executor, clock: Clock, tenantId: string): Promise<{ segments: number; entered: number; left: number }> {
  const now = clock.now().toISOString();
  let entered = 0;
  let left = 0;
  const segments = await repo.allSegments(db, tenantId);
  for (const s of segments) {
    const ids = new Set(await repo.matchingIds(db, tenantId, JSON.parse(s.filter) as ContactFilter));
    const current = new Set(await repo.memberIds(db, tenantId, s.id));
    const inn = [...ids].filter((x) => !current.has(x));
    const out = [...current].filter((x) => !ids.has(x));
    await repo.addMembers(db, tenantId, s.id, inn, now);
    await repo.removeMembers(db, tenantId, s.id, out);
    await repo.updateSegment(db, tenantId, s.id, { member_count: ids.size, evaluated_at: now });
    for (let i = 0; i < Math.max(inn.length, out.length); i += CHUNK) {
      await emitEvent(db, tenantId, 'segment.members_changed', s.id, { segment_id: s.id, name: s.name, entered: inn.slice(i, i + CHUNK), left: out.slice(i, i + CHUNK), entered_total: inn.length, left_total: out.length, member_count: ids.size }, now);
    }
    entered += inn.length;
    left += out.length;
  }
  return { segments: segments.length, entered, left };
}
