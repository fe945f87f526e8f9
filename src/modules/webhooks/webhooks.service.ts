import { assertOutsideTransaction } from '../../lib/outside.ts';
import { originHeaders, outsideCall } from '../../lib/origin.ts';
import { assertRoom } from '../../lib/limits.ts';
import { ORDER_EVENT_TYPES, type EventConsumer, type EventType } from '../events/index.ts';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { Ctx, Executor } from '../../context.ts';
import type { Db } from '../../db/database.ts';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { RefusedAddress, checkOutgoingUrl, outgoingFetch } from '../../outgoing/url-guard.ts';
import { enqueue, PermanentFailure, RetryAfter } from '../jobs/index.ts';
import { webhooksRepository as repo } from './webhooks.repository.ts';

export const WEBHOOK_EVENTS: readonly (EventType | '*')[] = [
  '*',
  ...ORDER_EVENT_TYPES,
  'inventory.low',
  'inventory.changed',
  'customer.created',
  'order.message_created',
  'segment.members_changed',
  'crm.task_due',
  'import.completed',
  'import.failed',
];

/** Standard Webhooks retry schedule: right away, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
export const DELIVERY_TIMEOUT_MS = 15_000;

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  events: string[];
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  /** Only in the responses that create or rotate it. */
  secret: string | null;
  created_at: string;
  updated_at: string;
}

const toEndpoint = (r: WebhookEndpointsTable, showSecret = false): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  description: r.description,
  events: JSON.parse(r.events) as string[],
  status: r.status,
  disabled_reason: r.disabled_reason,
  secret: showSecret ? r.secret : null,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

export const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

async function checkUrl(url: string, allowPrivate: boolean): Promise<void> {
  const problem = await checkOutgoingUrl(url, { allowPrivate });
  const pointer = [{ pointer: '/body/url', detail: problem ?? '' }];
  if (problem === 'not_https') throw invalid('webhook_url_not_https', 'Webhook URLs must use https', pointer);
  if (problem === 'private_address') throw invalid('webhook_url_private', 'Webhook URLs must not point at private, loopback or link-local addresses', pointer);
  if (problem === 'unresolvable') throw invalid('webhook_url_unresolvable', 'The webhook host does not resolve', pointer);
  if (problem === 'malformed') throw invalid('webhook_url_invalid', 'Not a valid webhook URL', pointer);
}

export async function createEndpoint(ctx: Ctx, input: { url: string; description?: string | undefined; events: string[] }, allowPrivate: boolean): Promise<WebhookEndpoint> {
  await checkUrl(input.url, allowPrivate);
  assertRoom((await repo.listEndpoints(ctx.db, ctx.tenantId)).length, 'webhook_endpoints');
  const now = ctx.clock.now().toISOString();
  const row: WebhookEndpointsTable = { tenant_id: ctx.tenantId, id: newId('webhookEndpoint'), url: input.url, description: input.description ?? '', events: JSON.stringify([...new Set(input.events)]), secret: newSecret(), status: 'enabled', disabled_reason: null, created_at: now, updated_at: now };
  await repo.insertEndpoint(ctx.db, row);
  return toEndpoint(row, true);
}

async function endpoint(ctx: Pick<Ctx, 'db' | 'tenantId'>, id: string): Promise<WebhookEndpointsTable> {
  const r = await repo.findEndpoint(ctx.db, ctx.tenantId, id);
  if (!r) throw notFound('Webhook endpoint');
  return r;
}

export async function getEndpoint(ctx: Ctx, id: string): Promise<WebhookEndpoint> {
  return toEndpoint(await endpoint(ctx, id));
}

/** A page of the shop's endpoints, newest first. */
export async function listEndpoints(ctx: Ctx, page: PageRequest): Promise<Page<WebhookEndpoint>> {
  const p = toPage(await repo.pageEndpoints(ctx.db, ctx.tenantId, page.limit, decodeCursor(page.cursor)), page.limit);
  return { ...p, data: p.data.map((r) => toEndpoint(r)) };
}

export async function updateEndpoint(ctx: Ctx, id: string, patch: { url?: string | undefined; description?: string | undefined; events?: string[] | undefined; status?: 'enabled' | 'disabled' | undefined }, allowPrivate: boolean): Promise<WebhookEndpoint> {
  const cur = await endpoint(ctx, id);
  if (patch.url !== undefined) await checkUrl(patch.url, allowPrivate);
  const next: Partial<WebhookEndpointsTable> = { updated_at: ctx.clock.now().toISOString() };
  if (patch.url !== undefined) next.url = patch.url;
  if (patch.description !== undefined) next.description = patch.description;
  if (patch.events !== undefined) next.events = JSON.stringify([...new Set(patch.events)]);
  if (patch.status !== undefined) {
    next.status = patch.status;
    next.disabled_reason = patch.status === 'disabled' ? 'disabled by staff' : null;
  }
  await repo.updateEndpoint(ctx.db, ctx.tenantId, id, next);
  return toEndpoint({ ...cur, ...next });
}

export async function deleteEndpoint(ctx: Ctx, id: string): Promise<void> {
  await endpoint(ctx, id);
  await repo.deleteEndpoint(ctx.db, ctx.tenantId, id);
}

/** A new signing secret, effective for the next delivery; shown in this response only. */
export async function rotateSecret(ctx: Ctx, id: string): Promise<WebhookEndpoint> {
  const cur = await endpoint(ctx, id);
  const next = { secret: newSecret(), updated_at: ctx.clock.now().toISOString() };
  await repo.updateEndpoint(ctx.db, ctx.tenantId, id, next);
  return toEndpoint({ ...cur, ...next }, true);
}

export interface Delivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: WebhookDeliveriesTable['status'];
  attempts: { status_code: number | null; duration_ms: number; error: string | null; at: string }[];
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export async function listDeliveries(ctx: Ctx, endpointId: string, limit: number, cursor?: string): Promise<Page<Delivery>> {
  await endpoint(ctx, endpointId);
  const page = toPage(await repo.listDeliveries(ctx.db, ctx.tenantId, endpointId, limit, decodeCursor(cursor)), limit);
  const attempts = await repo.attemptsOf(ctx.db, ctx.tenantId, page.data.map((d) => d.id));
  return {
    ...page,
    data: page.data.map((d) => ({
      id: d.id,
      endpoint_id: d.endpoint_id,
      event_id: d.event_id,
      event_type: d.event_type,
      status: d.status,
      attempts: attempts.filter((a) => a.delivery_id === d.id).map((a) => ({ status_code: a.status_code, duration_ms: a.duration_ms, error: a.error, at: a.created_at })),
      last_status_code: d.last_status_code,
      last_error: d.last_error,
      created_at: d.created_at,
      delivered_at: d.delivered_at,
    })),
  };
}

/** Sends a delivery again (staff replay), as a new job; the receiver sees the same webhook-id. */
export async function replayDelivery(ctx: Ctx, id: string): Promise<void> {
  const d = await repo.findDelivery(ctx.db, ctx.tenantId, id);
  if (!d) throw notFound('Webhook delivery');
  const ep = await endpoint(ctx, d.endpoint_id);
  if (ep.status !== 'enabled') throw conflict('webhook_endpoint_disabled', 'Enable the endpoint before replaying to it');
  await repo.updateDelivery(ctx.db, ctx.tenantId, id, { status: 'pending', updated_at: ctx.clock.now().toISOString() });
  await enqueue(ctx.db, ctx.clock, { tenantId: ctx.tenantId, queue: 'webhooks', type: 'webhook.deliver', payload: { delivery_id: id }, maxAttempts: RETRY_SCHEDULE_MS.length + 1 });
}

// --- fan-out and delivery ----------------------------------------------------------------------------

/** For the outbox dispatcher: a delivery (and its job) per enabled endpoint subscribed to the event. */
export async function fanOutEvent(db: Executor, clock: Clock, e: { tenant_id: string; id: string; type: string; version: number; payload: string; created_at: string }): Promise<number> {
  let n = 0;
  for (const ep of await repo.enabledEndpoints(db, e.tenant_id)) {
    const events = JSON.parse(ep.events) as string[];
    if (!events.includes('*') && !events.includes(e.type)) continue;
    const id = newId('webhookDelivery');
    const now = clock.now().toISOString();
    const body = JSON.stringify({ type: e.type, timestamp: e.created_at, data: { ...(JSON.parse(e.payload) as object), event_id: e.id, event_version: e.version } });
    if (!(await repo.insertDelivery(db, { tenant_id: e.tenant_id, id, endpoint_id: ep.id, event_id: e.id, event_type: e.type, payload: body, status: 'pending', attempts: 0, last_status_code: null, last_error: null, created_at: now, updated_at: now, delivered_at: null }))) continue;
    await enqueue(db, clock, { tenantId: e.tenant_id, queue: 'webhooks', type: 'webhook.deliver', payload: { delivery_id: id }, maxAttempts: RETRY_SCHEDULE_MS.length + 1 });
    n++;
  }
  return n;
}

/**
 * One delivery attempt, signed per Standard Webhooks (webhook-id = the event id, the same on every retry).
 * 2xx: delivered. 410 Gone: the endpoint is disabled, no retry. Anything else: retried on the spec's schedule.
 */
export async function attemptDelivery(db: Db, clock: Clock, tenantId: string, deliveryId: string, attempt: number, opts: { allowPrivate: boolean }): Promise<{ status: number }> {
  assertOutsideTransaction(db, 'webhook delivery');
  const d = await repo.findDelivery(db, tenantId, deliveryId);
  if (!d) throw new PermanentFailure('delivery no longer exists');
  if (d.status === 'succeeded') return { status: d.last_status_code ?? 200 };
  const ep = await repo.findEndpoint(db, tenantId, d.endpoint_id);
  if (!ep || ep.status !== 'enabled') {
    await repo.updateDelivery(db, tenantId, d.id, { status: 'failed', last_error: 'endpoint disabled', updated_at: clock.now().toISOString() });
    throw new PermanentFailure('endpoint disabled');
  }
  const started = Date.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  let problem: string | null = await checkOutgoingUrl(ep.url, { allowPrivate: opts.allowPrivate });
  if (problem) error = `refused: ${problem}`;
  else {
    const at = clock.now();
    const signature = new Webhook(ep.secret).sign(d.event_id, at, d.payload);
    try {
      // The guarded fetch connects only to the addresses it checked (no DNS rebinding after the check above).
      // The request that caused the event travels on (x-request-id, traceparent) in a span of its trace.
      statusCode = await outsideCall(
        'webhook',
        'webhook deliver',
        { 'stockroom.event_id': d.event_id, 'url.full': ep.url },
        async (span) => {
          const res = await outgoingFetch(ep.url, {
            allowPrivate: opts.allowPrivate,
            method: 'POST',
            redirect: 'manual',
            signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
            headers: { 'content-type': 'application/json', 'user-agent': 'Stockroom-Webhooks/1', 'webhook-id': d.event_id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature, ...originHeaders() },
            body: d.payload,
          });
          span.setAttribute('http.response.status_code', res.status);
          await res.body?.cancel().catch(() => {});
          return res.status;
        },
        (status) => status >= 200 && status < 300,
      );
    } catch (e) {
      const cause = (e as Error & { cause?: Error }).cause;
      const refused = cause instanceof RefusedAddress ? cause : e instanceof RefusedAddress ? e : null;
      if (refused) problem = 'private_address'; // the name was re-pointed inside after the check: never retried
      error = (e as Error).name === 'TimeoutError' ? `timed out after ${DELIVERY_TIMEOUT_MS / 1000} s` : (refused ?? (e as Error)).message;
    }
  }
  const now = clock.now().toISOString();
  await repo.insertAttempt(db, { tenant_id: tenantId, id: newId('webhookAttempt'), delivery_id: d.id, status_code: statusCode, duration_ms: Date.now() - started, error, created_at: now });
  const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
  await repo.updateDelivery(db, tenantId, d.id, { attempts: d.attempts + 1, last_status_code: statusCode, last_error: ok ? null : (error ?? `HTTP ${statusCode}`), status: ok ? 'succeeded' : statusCode === 410 || problem || attempt > RETRY_SCHEDULE_MS.length ? 'failed' : 'pending', delivered_at: ok ? now : null, updated_at: now });
  if (ok) return { status: statusCode as number };
  if (statusCode === 410) {
    await repo.updateEndpoint(db, tenantId, ep.id, { status: 'disabled', disabled_reason: 'the receiver answered 410 Gone', updated_at: now });
    throw new PermanentFailure('410 Gone: endpoint disabled');
  }
  if (problem) throw new PermanentFailure(error ?? 'refused');
  throw new RetryAfter(RETRY_SCHEDULE_MS[Math.min(attempt - 1, RETRY_SCHEDULE_MS.length - 1)] as number, error ?? `HTTP ${statusCode}`);
}

/** Webhooks as an event consumer: a delivery (and its job) per subscribed endpoint; once per endpoint and event. */
export const webhooksConsumer: EventConsumer = {
  name: 'webhooks',
  // The catalogue endpoints may subscribe to (read receipts of the order chat are for realtime only).
  types: WEBHOOK_EVENTS.filter((t) => t !== '*'),
  async handle(db, clock, e) {
    await fanOutEvent(db, clock, e);
  },
};
