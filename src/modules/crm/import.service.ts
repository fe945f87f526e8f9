import type { Ctx } from '../../context.ts';
import type { Consent, ContactsTable } from '../../db/schema.ts';
import { isCalendarDate } from '../../lib/timezones.ts';
import { baseRow, checkTags, normaliseEmail } from './contacts.service.ts';
import { crmRepository as repo } from './crm.repository.ts';

/** A contact as an import file gives it: only what the file says is set; empty cells leave a field as it is. */
export interface ImportContact {
  row: number;
  email: string;
  first_name?: string | undefined;
  last_name?: string | undefined;
  phone?: string | undefined;
  country?: string | undefined;
  /** Added to the contact's tags. */
  tags?: string[] | undefined;
  /** Field key → value as written (text in a CSV, any JSON value in NDJSON): checked against the field's type. */
  custom?: Record<string, unknown> | undefined;
  consent?: 'subscribed' | 'unsubscribed' | undefined;
  at(field: string): string;
}

export interface ContactBatchOutcome {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  problems: { row: number; column: string; code: string; message: string }[];
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const COUNTRY = /^[A-Z]{2}$/;

/**
 * Upserts a batch of contacts from an import, in the caller's transaction: one per email per shop (the email in
 * lower case). A new contact's source is `import`; an existing one gets the fields the file fills in, its tags
 * added to, and its custom fields merged; consent set by a file is recorded with the import as its source. Only
 * contacts that differ are written, so the same file again writes nothing.
 */
export async function importContacts(ctx: Ctx, input: readonly ImportContact[], opts: { reference: string }): Promise<ContactBatchOutcome> {
  const out: ContactBatchOutcome = { created: 0, updated: 0, unchanged: 0, failed: 0, problems: [] };
  if (input.length === 0) return out;
  const now = ctx.clock.now().toISOString();
  const defs = new Map((await repo.fields(ctx.db, ctx.tenantId)).map((f) => [f.key, f]));
  const found = new Map((await repo.contactsByEmails(ctx.db, ctx.tenantId, [...new Set(input.map((c) => normaliseEmail(c.email)))])).map((c) => [c.email, c]));
  const fresh = new Map<string, ContactsTable>();
  const changed = new Map<string, { row: ContactsTable; patch: Partial<ContactsTable> }>();

  for (const c of input) {
    const problems: ContactBatchOutcome['problems'] = [];
    const fail = (column: string, code: string, message: string) => problems.push({ row: c.row, column, code, message });
    const email = normaliseEmail(c.email);
    if (!EMAIL.test(email)) fail(c.at('email'), 'invalid_email', 'Not an email address');
    if (c.country !== undefined && !COUNTRY.test(c.country.toUpperCase())) fail(c.at('country'), 'invalid', 'A two-letter country code (ISO 3166-1)');
    if (c.phone !== undefined && c.phone.length > 40) fail(c.at('phone'), 'invalid', 'At most 40 characters');
    if ((c.first_name?.length ?? 0) > 200 || (c.last_name?.length ?? 0) > 200) fail(c.at(c.first_name && c.first_name.length > 200 ? 'first_name' : 'last_name'), 'invalid', 'At most 200 characters');
    let tags: string[] = [];
    try {
      tags = checkTags(c.tags ?? []);
    } catch (e) {
      fail(c.at('tags'), 'invalid_tag', (e as Error).message);
    }
    const custom: Record<string, unknown> = {};
    for (const [key, raw] of Object.entries(c.custom ?? {})) {
      const d = defs.get(key);
      if (!d) {
        fail(c.at(`custom:${key}`), 'unknown_field', `No contact field "${key}" (define it under /api/contact-fields)`);
        continue;
      }
      const v = convert(d.type, JSON.parse(d.choices) as string[], raw);
      if (v === undefined) fail(c.at(`custom:${key}`), 'invalid_custom_field', d.type === 'choice' ? `One of ${(JSON.parse(d.choices) as string[]).join(', ')}` : `A ${d.type}${d.type === 'date' ? ' (YYYY-MM-DD)' : ''}`);
      else custom[key] = v;
    }
    const current = fresh.get(email) ?? changed.get(email)?.row ?? found.get(email);
    if (current?.erased_at) fail(c.at('email'), 'contact_erased', 'This contact was erased at their request; it is not brought back by an import');
    if (problems.length) {
      out.failed++;
      out.problems.push(...problems);
      continue;
    }
    const next: Partial<ContactsTable> = {};
    if (c.first_name) next.first_name = c.first_name;
    if (c.last_name) next.last_name = c.last_name;
    if (c.phone) next.phone = c.phone;
    if (c.country) next.country = c.country.toUpperCase();
    if (c.consent) {
      next.consent = c.consent satisfies Consent;
      next.consent_source = `import:${opts.reference}`;
      next.consent_at = now;
    }
    const oldTags = current ? (JSON.parse(current.tags) as string[]) : [];
    const allTags = [...new Set([...oldTags, ...tags])];
    if (allTags.length !== oldTags.length) next.tags = JSON.stringify(allTags.slice(0, 50));
    const oldCustom = current ? (JSON.parse(current.custom) as Record<string, unknown>) : {};
    if (Object.entries(custom).some(([k, v]) => oldCustom[k] !== v)) next.custom = JSON.stringify({ ...oldCustom, ...custom });

    if (!current) {
      const row = { ...baseRow(ctx.tenantId, email, 'import', now), ...next };
      fresh.set(email, row);
      out.created++;
      continue;
    }
    const differs = (Object.keys(next) as (keyof ContactsTable)[]).filter((k) => !(k === 'consent_at' || k === 'consent_source') && next[k] !== current[k]);
    if (differs.length === 0) {
      out.unchanged++;
      continue;
    }
    if (c.consent && current.consent === c.consent) {
      delete next.consent;
      delete next.consent_source;
      delete next.consent_at;
    }
    if (fresh.has(email)) {
      Object.assign(fresh.get(email) as ContactsTable, next);
      out.updated++;
      continue;
    }
    const entry = changed.get(email) ?? { row: { ...current }, patch: {} };
    Object.assign(entry.row, next);
    Object.assign(entry.patch, next, { updated_at: now });
    changed.set(email, entry);
    out.updated++;
  }
  await repo.insertContacts(ctx.db, [...fresh.values()]);
  for (const { row, patch } of changed.values()) await repo.updateContact(ctx.db, ctx.tenantId, row.id, patch);
  return out;
}

function convert(type: string, choices: string[], raw: unknown): unknown {
  if (typeof raw !== 'string') {
    if (type === 'number' && typeof raw === 'number' && Number.isFinite(raw)) return raw;
    if (type === 'boolean' && typeof raw === 'boolean') return raw;
    if (raw === null) return undefined;
    if (typeof raw !== 'string') return undefined;
  }
  const s = String(raw).trim();
  switch (type) {
    case 'text':
      return s.length <= 1000 ? s : undefined;
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : undefined;
    case 'date':
      return isCalendarDate(s) ? s : undefined;
    case 'boolean':
      return /^(true|yes|1)$/i.test(s) ? true : /^(false|no|0)$/i.test(s) ? false : undefined;
    case 'choice':
      return choices.includes(s) ? s : undefined;
    default:
      return undefined;
  }
}
