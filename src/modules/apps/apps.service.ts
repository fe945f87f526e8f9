import { createHmac } from 'node:crypto';
import type { Ctx, Executor } from '../../context.ts';
import type { AppsTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { randomSecret } from '../../lib/crypto.ts';
import { conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { assertRoom } from '../../lib/limits.ts';
import { checkOutgoingUrl } from '../../outgoing/url-guard.ts';
import { appsRepository as repo } from './apps.repository.ts';

export interface App {
  id: string;
  handle: string;
  name: string;
  url: string;
  timeout_ms: number;
  status: AppsTable['status'];
  created_at: string;
  updated_at: string;
}

const toApp = (a: AppsTable): App => ({ id: a.id, handle: a.handle, name: a.name, url: a.url, timeout_ms: Number(a.timeout_ms), status: a.status, created_at: a.created_at, updated_at: a.updated_at });
const HANDLE = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Registers an app (a service of the shop's own) behind the gateway; its signing secret is shown once. */
export async function createApp(ctx: Ctx, input: { handle: string; name: string; url: string; timeout_ms?: number | undefined }, allowPrivate: boolean): Promise<App & { secret: string }> {
  if (!HANDLE.test(input.handle)) throw invalid('invalid_handle', 'A handle is a-z, 0-9 and -, at most 40', [{ pointer: '/body/handle', detail: input.handle }]);
  const problem = await checkOutgoingUrl(input.url, { allowPrivate });
  if (problem) throw invalid(`app_url_${problem}`, `The app's URL is refused: ${problem.replace('_', ' ')}`, [{ pointer: '/body/url', detail: problem }]);
  assertRoom((await repo.list(ctx.db, ctx.tenantId)).length, 'apps');
  const now = ctx.clock.now().toISOString();
  const row: AppsTable = { tenant_id: ctx.tenantId, id: newId('app'), handle: input.handle, name: input.name, url: input.url.replace(/\/$/, ''), secret: `appsec_${randomSecret(32)}`, timeout_ms: input.timeout_ms ?? 10_000, status: 'enabled', created_at: now, updated_at: now };
  try {
    await repo.insert(ctx.db, row);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('app_handle_taken', `An app with the handle ${input.handle} exists`);
    throw e;
  }
  return { ...toApp(row), secret: row.secret };
}

export async function listApps(ctx: Ctx): Promise<App[]> {
  return (await repo.list(ctx.db, ctx.tenantId)).map(toApp);
}

export async function updateApp(ctx: Ctx, id: string, patch: { name?: string | undefined; url?: string | undefined; timeout_ms?: number | undefined; status?: AppsTable['status'] | undefined }, allowPrivate: boolean): Promise<App> {
  const a = await repo.find(ctx.db, ctx.tenantId, id);
  if (!a) throw notFound('App');
  if (patch.url !== undefined) {
    const problem = await checkOutgoingUrl(patch.url, { allowPrivate });
    if (problem) throw invalid(`app_url_${problem}`, `The app's URL is refused: ${problem.replace('_', ' ')}`, [{ pointer: '/body/url', detail: problem }]);
  }
  const next: Partial<AppsTable> = { updated_at: ctx.clock.now().toISOString() };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.url !== undefined) next.url = patch.url.replace(/\/$/, '');
  if (patch.timeout_ms !== undefined) next.timeout_ms = patch.timeout_ms;
  if (patch.status !== undefined) next.status = patch.status;
  await repo.update(ctx.db, ctx.tenantId, id, next);
  return toApp({ ...a, ...next });
}

export async function deleteApp(ctx: Ctx, id: string): Promise<void> {
  if (!(await repo.delete(ctx.db, ctx.tenantId, id))) throw notFound('App');
}

/** The app a proxied request goes to (enabled only): with its secret, for signing. */
export async function appForProxy(db: Executor, tenantId: string, handle: string): Promise<AppsTable | null> {
  const a = await repo.byHandle(db, tenantId, handle);
  return a && a.status === 'enabled' ? a : null;
}

/**
 * The signature of a proxied request, as the app recomputes it: HMAC-SHA256 (hex) with the app's secret over
 * method, path (after /apps/<handle>), the query sorted by key, the timestamp, the shop and the customer.
 */
export function proxySignature(secret: string, s: { method: string; path: string; query: string; timestamp: string; shop: string; customer: string }): string {
  const sorted = new URLSearchParams(s.query);
  sorted.sort();
  return createHmac('sha256', secret).update([s.method.toUpperCase(), s.path, sorted.toString(), s.timestamp, s.shop, s.customer].join('\n')).digest('hex');
}
