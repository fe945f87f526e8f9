import { Webhook } from 'standardwebhooks';
import type { Ctx } from '../../context.ts';
import type { ContactsTable, MarketingConnectionsTable } from '../../db/schema.ts';
import type { Db } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { assertOutsideTransaction } from '../../lib/outside.ts';
import { checkOutgoingUrl, outgoingFetch } from '../../outgoing/url-guard.ts';
import { enqueue } from '../jobs/index.ts';
import type { ContactFilter } from './crm.repository.ts';
import { crmRepository as crm } from './crm.repository.ts';
import { marketingRepository as repo } from './marketing.repository.ts';

/** What a marketing platform adapter does: take members (upsert, with tags), and hand back who unsubscribed there. */
export interface MarketingConnector {
  push(members: readonly ContactsTable[], context: { runId: string; segmentId: string }): Promise<{ sent: number; failed: { email: string; error: string }[] }>;
  /** Emails that unsubscribed on the platform since a time (null: never asked). */
  unsubscribedSince(since: string | null): Promise<string[]>;
}

/** The platform refused in a way worth retrying later (rate limit, outage): the job backs off. */
export class TryLater extends Error {
  readonly afterMs: number;
  constructor(message: string, afterMs: number) {
    super(message);
    this.afterMs = afterMs;
  }
}

const BATCH = 500;

/** Mailchimp Marketing API: batch subscribe (`POST /3.0/lists/{id}`, ≤ 500 members), unsubscribes from `GET …/members`. */
export function mailchimpConnector(cfg: { base_url: string; list_id: string }, apiKey: string, allowPrivate: boolean): MarketingConnector {
  const auth = `Basic ${Buffer.from(`stockroom:${apiKey}`).toString('base64')}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await outgoingFetch(`${cfg.base_url}/3.0${path}`, { allowPrivate, method, headers: { authorization: auth, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    if (res.status === 429 || res.status >= 500) throw new TryLater(`Mailchimp ${res.status}`, Number(res.headers.get('retry-after') ?? 30) * 1000);
    if (res.status >= 400) throw new Error(`Mailchimp refused: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  return {
    async push(members) {
      const body = {
        update_existing: true,
        members: members.map((m) => ({ email_address: m.email, status: 'subscribed', status_if_new: 'subscribed', merge_fields: { FNAME: m.first_name, LNAME: m.last_name }, tags: JSON.parse(m.tags) as string[] })),
      };
      const r = await call('POST', `/lists/${encodeURIComponent(cfg.list_id)}`, body);
      const errors = ((r.errors as { email_address: string; error: string }[] | undefined) ?? []).map((e) => ({ email: e.email_address, error: e.error }));
      return { sent: members.length - errors.length, failed: errors };
    },
    async unsubscribedSince(since) {
      const out: string[] = [];
      for (let offset = 0; ; offset += 1000) {
        const q = new URLSearchParams({ status: 'unsubscribed', count: '1000', offset: String(offset), ...(since ? { since_last_changed: since } : {}) });
        const r = await call('GET', `/lists/${encodeURIComponent(cfg.list_id)}/members?${q}`);
        const page = (r.members as { email_address: string }[] | undefined) ?? [];
        out.push(...page.map((m) => m.email_address.toLowerCase()));
        if (page.length < 1000) return out;
      }
    },
  };
}

/** A generic connector: each batch POSTed as a Standard Webhooks-signed JSON document. */
export function webhookConnector(cfg: { url: string }, secret: string, allowPrivate: boolean): MarketingConnector {
  const wh = new Webhook(secret);
  return {
    async push(members, context) {
      const id = `${context.runId}:${members[0]?.id ?? 'empty'}`;
      const at = new Date();
      const payload = JSON.stringify({ type: 'marketing.members', run_id: context.runId, segment_id: context.segmentId, members: members.map((m) => ({ contact_id: m.id, email: m.email, first_name: m.first_name, last_name: m.last_name, tags: JSON.parse(m.tags) as string[], consent_at: m.consent_at })) });
      const res = await outgoingFetch(cfg.url, { allowPrivate, method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': wh.sign(id, at, payload) }, body: payload, signal: AbortSignal.timeout(15_000) });
      await res.text();
      if (res.status === 429 || res.status >= 500) throw new TryLater(`webhook ${res.status}`, 30_000);
      if (res.status >= 300) throw new Error(`webhook refused: ${res.status}`);
      return { sent: members.length, failed: [] };
    },
    async unsubscribedSince() {
      return [];
    },
  };
}

export interface MarketingConnection {
  id: string;
  kind: MarketingConnectionsTable['kind'];
  name: string;
  config: Record<string, unknown>;
  last_unsubscribe_sync_at: string | null;
  created_at: string;
}

const toConnection = (c: MarketingConnectionsTable): MarketingConnection => ({ id: c.id, kind: c.kind, name: c.name, config: JSON.parse(c.config) as Record<string, unknown>, last_unsubscribe_sync_at: c.last_unsubscribe_sync_at, created_at: c.created_at });

/** Mailchimp: the data centre is the API key's suffix (`…-us21` → https://us21.api.mailchimp.com). */
export async function createConnection(ctx: Ctx, input: { kind: 'mailchimp' | 'webhook'; name: string; api_key?: string | undefined; list_id?: string | undefined; base_url?: string | undefined; url?: string | undefined; secret?: string | undefined }, allowPrivate: boolean): Promise<MarketingConnection & { secret?: string }> {
  let config: Record<string, unknown>;
  let secret: string;
  if (input.kind === 'mailchimp') {
    if (!input.api_key || !input.list_id) throw invalid('invalid_connection', 'Mailchimp needs api_key and list_id', [{ pointer: '/body/api_key', detail: 'required with list_id' }]);
    const dc = /-([a-z]+\d+)$/.exec(input.api_key)?.[1];
    const base = input.base_url ?? (dc ? `https://${dc}.api.mailchimp.com` : null);
    if (!base) throw invalid('invalid_connection', 'The API key names no data centre (…-us21); give base_url', [{ pointer: '/body/api_key', detail: 'no data centre' }]);
    config = { base_url: base.replace(/\/$/, ''), list_id: input.list_id };
    secret = input.api_key;
  } else {
    if (!input.url) throw invalid('invalid_connection', 'A webhook connection needs url', [{ pointer: '/body/url', detail: 'required' }]);
    config = { url: input.url };
    secret = input.secret ?? `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64')}`;
  }
  const target = String(config.base_url ?? config.url);
  const problem = await checkOutgoingUrl(target, { allowPrivate });
  if (problem) throw invalid(`connection_url_${problem}`, `The connection's URL is refused: ${problem.replace('_', ' ')}`, [{ pointer: input.kind === 'mailchimp' ? '/body/base_url' : '/body/url', detail: problem }]);
  const row: MarketingConnectionsTable = { tenant_id: ctx.tenantId, id: newId('marketingConnection'), kind: input.kind, name: input.name, config: JSON.stringify(config), secret, last_unsubscribe_sync_at: null, created_at: ctx.clock.now().toISOString() };
  await repo.insertConnection(ctx.db, row);
  return { ...toConnection(row), ...(input.kind === 'webhook' ? { secret } : {}) };
}

export async function listConnections(ctx: Ctx): Promise<MarketingConnection[]> {
  return (await repo.listConnections(ctx.db, ctx.tenantId)).map(toConnection);
}

export async function deleteConnection(ctx: Ctx, id: string): Promise<void> {
  if (!(await repo.deleteConnection(ctx.db, ctx.tenantId, id))) throw notFound('Connection');
}

const runOut = (r: { id: string; connection_id: string; segment_id: string; status: string; report: string; error: string | null; created_at: string; finished_at: string | null }) => ({ ...r, report: JSON.parse(r.report) as Record<string, unknown> });

/** Starts a sync of a segment's consented members to a connection: a run, and the job that does it. */
export async function startSync(ctx: Ctx, connectionId: string, segmentId: string) {
  if (!(await repo.findConnection(ctx.db, ctx.tenantId, connectionId))) throw notFound('Connection');
  if (!(await crm.findSegment(ctx.db, ctx.tenantId, segmentId))) throw notFound('Segment');
  const now = ctx.clock.now().toISOString();
  const run = { tenant_id: ctx.tenantId, id: newId('syncRun'), connection_id: connectionId, segment_id: segmentId, status: 'queued' as const, report: '{}', error: null, created_at: now, finished_at: null };
  await repo.insertRun(ctx.db, run);
  await enqueue(ctx.db, ctx.clock, { tenantId: ctx.tenantId, queue: 'default', type: 'crm.marketing_sync', payload: { run_id: run.id }, maxAttempts: 6, dedupeKey: `marketing-sync:${run.id}` });
  return runOut(run);
}

export async function getRun(ctx: Ctx, id: string) {
  const r = await repo.findRun(ctx.db, ctx.tenantId, id);
  if (!r) throw notFound('Sync run');
  return runOut(r);
}

/**
 * The sync job: the segment's members who consented go out in batches (no transaction is open while the platform
 * is called); unsubscribes made on the platform come back first, so nobody who left is sent again. Re-running a run
 * is harmless (members are upserted). The report counts what was sent, skipped (no consent) and refused.
 */
export async function runSync(db: Db, clock: Clock, tenantId: string, runId: string, opts: { allowPrivate: boolean; lastAttempt: boolean }) {
  assertOutsideTransaction(db, 'marketing platform');
  const run = await repo.findRun(db, tenantId, runId);
  if (!run || run.status === 'succeeded') return { skipped: true };
  const conn = await repo.findConnection(db, tenantId, run.connection_id);
  const seg = await crm.findSegment(db, tenantId, run.segment_id);
  if (!conn || !seg) {
    await repo.updateRun(db, tenantId, runId, { status: 'failed', error: 'connection or segment removed', finished_at: clock.now().toISOString() });
    return { skipped: true };
  }
  await repo.updateRun(db, tenantId, runId, { status: 'running' });
  const cfg = JSON.parse(conn.config) as { base_url: string; list_id: string; url: string };
  const connector = conn.kind === 'mailchimp' ? mailchimpConnector(cfg, conn.secret, opts.allowPrivate) : webhookConnector(cfg, conn.secret, opts.allowPrivate);
  try {
    const started = clock.now().toISOString();
    const gone = await connector.unsubscribedSince(conn.last_unsubscribe_sync_at);
    // Counted across attempts: a retried run reports what every attempt took back.
    const earlier = Number((JSON.parse(run.report) as { unsubscribed_back?: number }).unsubscribed_back ?? 0);
    const unsubscribedBack = earlier + (await repo.unsubscribeEmails(db, tenantId, gone, `${conn.kind}:${conn.id}`, started));
    await repo.touchUnsubscribeSync(db, tenantId, conn.id, started);
    await repo.updateRun(db, tenantId, runId, { report: JSON.stringify({ unsubscribed_back: unsubscribedBack }) });
    const ids = await crm.matchingIds(db, tenantId, JSON.parse(seg.filter) as ContactFilter);
    let sent = 0;
    let consented = 0;
    const failed: { email: string; error: string }[] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const members = await repo.contactsByIds(db, tenantId, ids.slice(i, i + BATCH));
      consented += members.length;
      if (members.length === 0) continue;
      const r = await connector.push(members, { runId, segmentId: seg.id });
      sent += r.sent;
      failed.push(...r.failed);
    }
    const report = { segment_members: ids.length, sent, skipped_without_consent: ids.length - consented, failed: failed.length, failures: failed.slice(0, 50), unsubscribed_back: unsubscribedBack };
    await repo.updateRun(db, tenantId, runId, { status: 'succeeded', report: JSON.stringify(report), error: null, finished_at: clock.now().toISOString() });
    return report;
  } catch (e) {
    const message = (e as Error).message;
    if (opts.lastAttempt || !(e instanceof TryLater)) await repo.updateRun(db, tenantId, runId, { status: e instanceof TryLater && !opts.lastAttempt ? 'queued' : 'failed', error: message, finished_at: clock.now().toISOString() });
    else await repo.updateRun(db, tenantId, runId, { status: 'queued', error: message });
    throw e;
  }
}
