// The console talks to Stockroom through its public API only: this typed client is generated from the server's
// OpenAPI document (src/api/schema.d.ts, `npm run admin:api`), plus the session (login, refresh, logout).
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './api/schema';

export type Schemas = components['schemas'];

type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON a successful call of an operation answers (its 200, or 201). */
export type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: { 200: infer R } } ? JsonOf<R> : paths[P][M] extends { responses: { 201: infer R } } ? JsonOf<R> : never;

/** RFC 9457 problem+json as the API sends it; `errors` name the fields (JSON pointers like `/body/email`). */
export interface Problem {
  status: number;
  code: string;
  title?: string;
  detail?: string;
  errors?: { pointer: string; detail: string }[];
}

export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.problem = problem;
  }
  /** The detail for one field (`email` matches `/body/email`), for showing next to it. */
  field(name: string): string | undefined {
    return this.problem.errors?.find((e) => e.pointer === `/body/${name}` || e.pointer.endsWith(`/${name}`))?.detail;
  }
}

interface Session {
  shop: string;
  access_token: string;
  refresh_token: string;
  /** Epoch ms when the access token expires. */
  expires_at: number;
}

const KEY = 'stockroom.session';
let session: Session | null = load();
const listeners = new Set<() => void>();

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function save(s: Session | null): void {
  session = s;
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  for (const l of listeners) l();
}

export function onSessionChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export const signedIn = (): boolean => session !== null;
export const shopSlug = (): string | null => session?.shop ?? null;

function toProblem(status: number, body: unknown): Problem {
  const b = (body ?? {}) as Partial<Problem>;
  return { status, code: b.code ?? 'http_error', title: b.title, detail: b.detail ?? `HTTP ${status}`, errors: b.errors };
}

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) throw new ApiError(toProblem(res.status, data));
  return data as T;
}

type TokenAnswer = { access_token: string; refresh_token: string; expires_in: number };

export async function login(shop: string, email: string, password: string): Promise<void> {
  const t = await post<TokenAnswer>('/api/auth/login', { shop, email, password });
  save({ shop, access_token: t.access_token, refresh_token: t.refresh_token, expires_at: Date.now() + t.expires_in * 1000 });
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time; false (and signed out) when the refresh token is no longer good. */
function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const s = session;
    if (!s) return false;
    try {
      const t = await post<TokenAnswer>('/api/auth/refresh', { refresh_token: s.refresh_token });
      save({ ...s, access_token: t.access_token, refresh_token: t.refresh_token, expires_at: Date.now() + t.expires_in * 1000 });
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.problem.status < 500) save(null);
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** A current access token: refreshed when it has less than a minute left. */
export async function accessToken(): Promise<string | null> {
  if (session && session.expires_at - Date.now() < 60_000) await refresh();
  return session?.access_token ?? null;
}

export async function logout(): Promise<void> {
  const s = session;
  save(null);
  if (s) await post('/api/auth/logout', { refresh_token: s.refresh_token }).catch(() => undefined);
}

const auth: Middleware = {
  async onRequest({ request }) {
    const token = await accessToken();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
};

export const client = createClient<paths>({ baseUrl: '' });
client.use(auth);

/**
 * Unwraps an openapi-fetch answer: the data, or an ApiError with the problem. A 401 refreshes the session once and
 * tries again.
 */
export async function call<T>(run: () => Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let r = await run();
  if (r.response.status === 401 && (await refresh())) r = await run();
  if (r.error !== undefined || !r.response.ok) throw new ApiError(toProblem(r.response.status, r.error));
  return r.data as T;
}

/** A fresh idempotency key for a write staff may retry (refund, capture, fulfil, cancel). */
export const idempotencyKey = (): string => crypto.randomUUID();
