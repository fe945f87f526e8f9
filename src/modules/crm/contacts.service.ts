import { createHmac } from 'node:crypto';
import type { Ctx, Executor } from '../../context.ts';
import { actorOf } from '../../context.ts';
import type { Consent, ContactFieldsTable, ContactsTable, ContactStage } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { safeEqual } from '../../lib/crypto.ts';
import { conflict, invalid, notFound, preconditionFailed, type FieldProblem } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { assertRoom } from '../../lib/limits.ts';
import { decodeCursor, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { isCalendarDate } from '../../lib/timezones.ts';
import { crmRepository as repo, type ContactFilter } from './crm.repository.ts';
import { enqueue } from '../jobs/index.ts';

export interface Contact {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  phone: string | null;
  country: string | null;
  customer_id: string | null;
  source: string;
  /** The stage in effect: staff's override, or the one derived from orders. */
  stage: ContactStage;
  derived_stage: ContactStage;
  stage_override: ContactStage | null;
  tags: string[];
  custom: Record<string, unknown>;
  consent: { status: Consent; source: string | null; at: string | null };
  order_count: number;
  total_spent: number;
  first_order_at: string | null;
  last_order_at: string | null;
  scores: { rfm: string; r: number; f: number; m: number; lead_score: number; computed_at: string } | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface ContactField {
  key: string;
  label: string;
  type: ContactFieldsTable['type'];
  choices: string[];
}

type ScoreRow = { rfm: string | null; r: number | null; f: number | null; m: number | null; lead_score: number | null; computed_at: string | null };

export function toContact(c: ContactsTable, s?: Partial<ScoreRow> | null): Contact {
  return {
    id: c.id,
    email: c.email,
    first_name: c.first_name,
    last_name: c.last_name,
    phone: c.phone,
    country: c.country,
    customer_id: c.customer_id,
    source: c.source,
    stage: c.stage_override ?? c.stage,
    derived_stage: c.stage,
    stage_override: c.stage_override,
    tags: JSON.parse(c.tags) as string[],
    custom: JSON.parse(c.custom) as Record<string, unknown>,
    consent: { status: c.consent, source: c.consent_source, at: c.consent_at },
    order_count: Number(c.order_count),
    total_spent: Number(c.total_spent),
    first_order_at: c.first_order_at,
    last_order_at: c.last_order_at,
    scores: s?.rfm && s.computed_at ? { rfm: s.rfm, r: Number(s.r), f: Number(s.f), m: Number(s.m), lead_score: Number(s.lead_score), computed_at: s.computed_at } : null,
    version: Number(c.version),
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}

export const normaliseEmail = (e: string) => e.trim().toLowerCase();
const TAG = /^[a-z0-9][a-z0-9 .:-]{0,49}$/;
const KEY = /^[a-z][a-z0-9_]{0,39}$/;
export const MAX_TAGS = 50;
export const MAX_FIELDS = 100;

export function checkTags(tags: readonly string[], pointer = '/body/tags'): string[] {
  const out = [...new Set(tags.map((t) => t.trim().toLowerCase()))];
  const bad = out.filter((t) => !TAG.test(t));
  if (bad.length) throw invalid('invalid_tag', 'Tags are 1–50 of a-z, 0-9, space, . : -', bad.map((t) => ({ pointer, detail: `"${t}"` })));
  if (out.length > MAX_TAGS) throw invalid('too_many_tags', `A contact has at most ${MAX_TAGS} tags`, [{ pointer, detail: `${out.length} tags` }]);
  return out;
}

/** Checks custom values against the shop's field definitions (type and choices); unknown keys are refused. */
export async function checkCustom(db: Executor, tenantId: string, values: Record<string, unknown>, pointer = '/body/custom'): Promise<Record<string, unknown>> {
  const defs = new Map((await repo.fields(db, tenantId)).map((f) => [f.key, f]));
  const problems: FieldProblem[] = [];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    const d = defs.get(k);
    const at = `${pointer}/${k}`;
    if (!d) {
      problems.push({ pointer: at, detail: 'no such field (define it under /api/contact-fields)' });
      continue;
    }
    if (v === null) continue;
    const ok =
      (d.type === 'text' && typeof v === 'string' && v.length <= 1000) ||
      (d.type === 'number' && typeof v === 'number' && Number.isFinite(v)) ||
      (d.type === 'date' && typeof v === 'string' && isCalendarDate(v)) ||
      (d.type === 'boolean' && typeof v === 'boolean') ||
      (d.type === 'choice' && typeof v === 'string' && (JSON.parse(d.choices) as string[]).includes(v));
    if (!ok) problems.push({ pointer: at, detail: d.type === 'choice' ? `one of ${(JSON.parse(d.choices) as string[]).join(', ')}` : `a ${d.type}${d.type === 'date' ? ' (YYYY-MM-DD)' : ''}` });
    else out[k] = v;
  }
  if (problems.length) throw invalid('invalid_custom_field', 'Some custom fields do not fit their definition', problems);
  return out;
}

// --- fields ---------------------------------------------------------------------------------------------------

export async function listFields(ctx: Ctx): Promise<ContactField[]> {
  return (await repo.fields(ctx.db, ctx.tenantId)).map((f) => ({ key: f.key, label: f.label, type: f.type, choices: JSON.parse(f.choices) as string[] }));
}

export async function createField(ctx: Ctx, input: { key: string; label: string; type: ContactFieldsTable['type']; choices?: string[] | undefined }): Promise<ContactField> {
  if (!KEY.test(input.key)) throw invalid('invalid_field_key', 'A key is a-z, 0-9 and _, starting with a letter (at most 40)', [{ pointer: '/body/key', detail: input.key }]);
  if (input.type === 'choice' && !input.choices?.length) throw invalid('choices_required', 'A choice field lists its choices', [{ pointer: '/body/choices', detail: 'at least one' }]);
  assertRoom((await repo.fields(ctx.db, ctx.tenantId)).length, 'contact_fields');
  const choices = input.type === 'choice' ? [...new Set(input.choices)] : [];
  try {
    await repo.insertField(ctx.db, { tenant_id: ctx.tenantId, key: input.key, label: input.label, type: input.type, choices: JSON.stringify(choices), created_at: ctx.clock.now().toISOString() });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('field_key_taken', `A field ${input.key} exists`);
    throw e;
  }
  return { key: input.key, label: input.label, type: input.type, choices };
}

export async function deleteField(ctx: Ctx, key: string): Promise<void> {
  if (!(await repo.deleteField(ctx.db, ctx.tenantId, key))) throw notFound('Field');
}

// --- contacts -------------------------------------------------------------------------------------------------

export interface ContactInput {
  email: string;
  first_name?: string | undefined;
  last_name?: string | undefined;
  phone?: string | null | undefined;
  country?: string | null | undefined;
  tags?: string[] | undefined;
  custom?: Record<string, unknown> | undefined;
  stage?: ContactStage | null | undefined;
  consent?: { status: 'subscribed' | 'unsubscribed' | 'pending' | 'none'; source?: string | undefined } | undefined;
}

export async function getContact(ctx: Pick<Ctx, 'db' | 'tenantId'>, id: string): Promise<Contact> {
  const c = await repo.findContact(ctx.db, ctx.tenantId, id);
  if (!c || c.erased_at) throw notFound('Contact');
  return toContact(c, await repo.score(ctx.db, ctx.tenantId, id));
}

export async function listContacts(ctx: Ctx, filter: ContactFilter, page: PageRequest): Promise<Page<Contact>> {
  const rows = await repo.listContacts(ctx.db, ctx.tenantId, filter, page.limit, decodeCursor(page.cursor));
  const p = toPage(rows, page.limit);
  const scores = await Promise.all(p.data.map((c) => repo.score(ctx.db, ctx.tenantId, c.id)));
  return { ...p, data: p.data.map((c, i) => toContact(c, scores[i])) };
}

/** A contact by API (a lead, usually): one per email — the same email again is 409 with the existing contact's id. */
export async function createContact(ctx: Ctx, input: ContactInput): Promise<Contact> {
  const email = normaliseEmail(input.email);
  const existing = await repo.findByEmail(ctx.db, ctx.tenantId, email);
  if (existing) throw conflict('contact_exists', `A contact with this email exists: ${existing.id}`);
  const now = ctx.clock.now().toISOString();
  const row = baseRow(ctx.tenantId, email, 'api', now);
  row.first_name = input.first_name ?? '';
  row.last_name = input.last_name ?? '';
  row.phone = input.phone ?? null;
  row.country = input.country ?? null;
  row.tags = JSON.stringify(checkTags(input.tags ?? []));
  row.custom = JSON.stringify(await checkCustom(ctx.db, ctx.tenantId, input.custom ?? {}));
  row.stage_override = input.stage ?? null;
  if (input.consent && input.consent.status !== 'none') {
    row.consent = input.consent.status;
    row.consent_source = input.consent.source ?? 'api';
    row.consent_at = now;
  }
  await repo.insertContact(ctx.db, row);
  return toContact(row);
}

export function baseRow(tenantId: string, email: string, source: string, at: string): ContactsTable {
  return { tenant_id: tenantId, id: newId('contact'), email, first_name: '', last_name: '', phone: null, country: null, customer_id: null, source, stage: 'lead', stage_override: null, tags: '[]', custom: '{}', consent: 'none', consent_source: null, consent_at: null, order_count: 0, total_spent: 0, first_order_at: null, last_order_at: null, erased_at: null, version: 1, created_at: at, updated_at: at };
}

export async function updateContact(ctx: Ctx, id: string, patch: Partial<Omit<ContactInput, 'email'>> & { email?: string | undefined }, expectedVersion: number | null): Promise<Contact> {
  const c = await repo.findContact(ctx.db, ctx.tenantId, id);
  if (!c || c.erased_at) throw notFound('Contact');
  if (expectedVersion !== null && expectedVersion !== Number(c.version)) throw preconditionFailed('version_mismatch', 'The contact changed since you read it (ETag); read it again');
  const now = ctx.clock.now().toISOString();
  const next: Partial<ContactsTable> = { updated_at: now };
  if (patch.email !== undefined) next.email = normaliseEmail(patch.email);
  if (patch.first_name !== undefined) next.first_name = patch.first_name;
  if (patch.last_name !== undefined) next.last_name = patch.last_name;
  if (patch.phone !== undefined) next.phone = patch.phone;
  if (patch.country !== undefined) next.country = patch.country;
  if (patch.tags !== undefined) next.tags = JSON.stringify(checkTags(patch.tags));
  if (patch.custom !== undefined) next.custom = JSON.stringify({ ...(JSON.parse(c.custom) as Record<string, unknown>), ...(await checkCustom(ctx.db, ctx.tenantId, patch.custom)) });
  if (patch.stage !== undefined) next.stage_override = patch.stage;
  if (patch.consent !== undefined) {
    next.consent = patch.consent.status;
    next.consent_source = patch.consent.source ?? `staff:${actorOf(ctx.principal)}`;
    next.consent_at = now;
  }
  try {
    if (!(await repo.updateContact(ctx.db, ctx.tenantId, id, next, Number(c.version)))) throw conflict('contact_changed', 'The contact changed at the same time; read it again');
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('contact_exists', 'Another contact has this email: merge them instead');
    throw e;
  }
  return getContact(ctx, id);
}

// --- consent: one-click unsubscribe, double opt-in -------------------------------------------------------------

/** A token that proves a link came from us for this contact and purpose (HMAC with the server's secret). */
export function consentToken(secret: string, tenantId: string, contactId: string, purpose: 'unsubscribe' | 'confirm'): string {
  const mac = createHmac('sha256', secret).update(`${purpose}\n${tenantId}\n${contactId}`).digest('base64url').slice(0, 32);
  return `${Buffer.from(`${tenantId}.${contactId}`).toString('base64url')}.${mac}`;
}

function readToken(secret: string, token: string, purpose: 'unsubscribe' | 'confirm'): { tenantId: string; contactId: string } {
  const [who, mac] = token.split('.');
  const bad = () => invalid('invalid_token', 'This link is not valid');
  if (!who || !mac) throw bad();
  const [tenantId, contactId] = Buffer.from(who, 'base64url').toString('utf8').split('.');
  if (!tenantId || !contactId) throw bad();
  if (!safeEqual(consentToken(secret, tenantId, contactId, purpose), token)) throw bad();
  return { tenantId, contactId };
}

/**
 * A newsletter sign-up from the storefront: the contact (source `newsletter` when new) gets consent at once, or —
 * with double opt-in — `pending` consent and a confirmation email whose link makes it `subscribed`.
 */
export async function signUp(ctx: Ctx, input: { email: string; first_name?: string | undefined; double_opt_in: boolean }): Promise<{ contact_id: string; consent: Consent }> {
  const now = ctx.clock.now().toISOString();
  const email = normaliseEmail(input.email);
  let c = await repo.findByEmail(ctx.db, ctx.tenantId, email);
  if (!c) {
    c = { ...baseRow(ctx.tenantId, email, 'newsletter', now), first_name: input.first_name ?? '' };
    await repo.insertContact(ctx.db, c);
  }
  if (c.consent === 'subscribed') return { contact_id: c.id, consent: 'subscribed' };
  const consent: Consent = input.double_opt_in ? 'pending' : 'subscribed';
  await repo.updateContact(ctx.db, ctx.tenantId, c.id, { consent, consent_source: 'newsletter form', consent_at: now, updated_at: now, ...(input.first_name && !c.first_name ? { first_name: input.first_name } : {}) });
  if (input.double_opt_in) await enqueue(ctx.db, ctx.clock, { tenantId: ctx.tenantId, queue: 'email', type: 'email.send', payload: { template: 'consent_confirmation', contact_id: c.id }, maxAttempts: 5, dedupeKey: `email:consent_confirmation:${c.id}:${now}` });
  return { contact_id: c.id, consent };
}

/** Who a confirmation email goes to (the email job). */
export async function contactForEmail(db: Executor, tenantId: string, id: string): Promise<{ id: string; email: string; first_name: string; consent: Consent } | null> {
  const c = await repo.findContact(db, tenantId, id);
  return c && !c.erased_at ? { id: c.id, email: c.email, first_name: c.first_name, consent: c.consent } : null;
}

/** The secret the consent links are signed with, derived from the server's JWT signing key (shared by every node). */
export function consentSecretOf(signingKeyPem: string): string {
  return createHmac('sha256', 'stockroom consent links').update(signingKeyPem).digest('base64url');
}

/**
 * Whether a shop may send marketing (an abandoned-cart reminder) to an email: only with consent. A person not
 * known yet becomes a contact (source `cart`), without consent.
 */
export async function marketingConsent(db: Executor, tenantId: string, email: string, at: string): Promise<{ contactId: string; consented: boolean }> {
  const e = normaliseEmail(email);
  let c = await repo.findByEmail(db, tenantId, e);
  if (!c) {
    c = baseRow(tenantId, e, 'cart', at);
    await repo.insertContact(db, c);
  }
  return { contactId: c.id, consented: c.consent === 'subscribed' && c.erased_at === null };
}

/** One-click unsubscribe (RFC 8058): the token names the shop and the contact. Idempotent. */
export async function unsubscribe(db: Executor, clock: { now(): Date }, secret: string, token: string): Promise<{ contact_id: string }> {
  const { tenantId, contactId } = readToken(secret, token, 'unsubscribe');
  const c = await repo.findContact(db, tenantId, contactId);
  if (!c || c.erased_at) throw invalid('invalid_token', 'This link is not valid');
  if (c.consent !== 'unsubscribed') await repo.updateContact(db, tenantId, contactId, { consent: 'unsubscribed', consent_source: 'unsubscribe_link', consent_at: clock.now().toISOString(), updated_at: clock.now().toISOString() });
  return { contact_id: contactId };
}

/** Double opt-in: the confirmation link turns a pending consent into a subscription. */
export async function confirmConsent(db: Executor, clock: { now(): Date }, secret: string, token: string): Promise<{ contact_id: string }> {
  const { tenantId, contactId } = readToken(secret, token, 'confirm');
  const c = await repo.findContact(db, tenantId, contactId);
  if (!c || c.erased_at) throw invalid('invalid_token', 'This link is not valid');
  if (c.consent === 'pending') await repo.updateContact(db, tenantId, contactId, { consent: 'subscribed', consent_source: `${c.consent_source ?? 'signup'} (confirmed)`, consent_at: clock.now().toISOString(), updated_at: clock.now().toISOString() });
  return { contact_id: contactId };
}

// --- merge ----------------------------------------------------------------------------------------------------

/**
 * Merges `otherId` into `id`: the other contact's timeline, order figures, tags and custom values move over, the
 * account link is kept if only one had it, and the other is deleted. The merge is audited with a snapshot of the
 * merged contact.
 */
export async function mergeContacts(ctx: Ctx, id: string, otherId: string): Promise<Contact> {
  if (id === otherId) throw invalid('merge_self', 'A contact cannot be merged into itself');
  const keep = await repo.findContact(ctx.db, ctx.tenantId, id);
  const other = await repo.findContact(ctx.db, ctx.tenantId, otherId);
  if (!keep || keep.erased_at) throw notFound('Contact');
  if (!other || other.erased_at) throw notFound('Contact');
  if (keep.customer_id && other.customer_id && keep.customer_id !== other.customer_id) throw conflict('merge_two_accounts', 'Both contacts have customer accounts; they cannot be merged');
  const now = ctx.clock.now().toISOString();
  await repo.moveActivities(ctx.db, ctx.tenantId, otherId, id);
  const tags = [...new Set([...(JSON.parse(keep.tags) as string[]), ...(JSON.parse(other.tags) as string[])])].slice(0, MAX_TAGS);
  const custom = { ...(JSON.parse(other.custom) as object), ...(JSON.parse(keep.custom) as object) };
  const orders = Number(keep.order_count) + Number(other.order_count);
  const first = [keep.first_order_at, other.first_order_at].filter((x): x is string => x !== null).sort()[0] ?? null;
  const last = [keep.last_order_at, other.last_order_at].filter((x): x is string => x !== null).sort().at(-1) ?? null;
  await repo.deleteContact(ctx.db, ctx.tenantId, otherId);
  await repo.updateContact(ctx.db, ctx.tenantId, id, {
    customer_id: keep.customer_id ?? other.customer_id,
    first_name: keep.first_name || other.first_name,
    last_name: keep.last_name || other.last_name,
    phone: keep.phone ?? other.phone,
    country: keep.country ?? other.country,
    tags: JSON.stringify(tags),
    custom: JSON.stringify(custom),
    order_count: orders,
    total_spent: Number(keep.total_spent) + Number(other.total_spent),
    first_order_at: first,
    last_order_at: last,
    stage: orders >= 2 ? 'repeat' : orders === 1 ? 'customer' : keep.stage,
    updated_at: now,
  });
  await repo.insertAudit(ctx.db, { tenant_id: ctx.tenantId, id: newId('audit'), action: 'merge', contact_id: id, actor: actorOf(ctx.principal), detail: JSON.stringify({ merged_id: otherId, merged: { email: other.email, source: other.source, order_count: Number(other.order_count), total_spent: Number(other.total_spent), customer_id: other.customer_id } }), created_at: now });
  return getContact(ctx, id);
}

export async function auditOf(ctx: Ctx, id: string) {
  await getContact(ctx, id).catch(async (e: unknown) => {
    // The audit of an erased contact stays readable.
    const c = await repo.findContact(ctx.db, ctx.tenantId, id);
    if (!c) throw e;
  });
  return (await repo.audit(ctx.db, ctx.tenantId, id)).map((a) => ({ id: a.id, action: a.action, actor: a.actor, detail: JSON.parse(a.detail) as unknown, created_at: a.created_at }));
}
