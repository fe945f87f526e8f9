import { malformed } from './errors.ts';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** Keyset pagination on a unique, time-sortable id (newest first). The cursor is opaque to clients. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ id: lastId })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (v && typeof v === 'object' && 'id' in v && typeof v.id === 'string' && v.id.length <= 64) return v.id;
  } catch {
    // fall through
  }
  throw malformed('invalid_cursor', 'The cursor is not one this API returned', [{ pointer: '/query/cursor', detail: 'malformed cursor' }]);
}

/**
 * A cursor for a list ordered by (key, id) — e.g. categories by position: the key travels with the id, so the next
 * page starts right after the last row even if that row was deleted meanwhile.
 */
export function encodeKeyCursor(key: number, lastId: string): string {
  return Buffer.from(JSON.stringify({ id: lastId, k: key })).toString('base64url');
}

export function decodeKeyCursor(cursor: string | undefined): { key: number; id: string } | undefined {
  const id = decodeCursor(cursor);
  if (id === undefined) return undefined;
  const k = (JSON.parse(Buffer.from(cursor as string, 'base64url').toString('utf8')) as { k?: unknown }).k;
  if (typeof k !== 'number' || !Number.isSafeInteger(k)) throw malformed('invalid_cursor', 'The cursor is not one this API returned', [{ pointer: '/query/cursor', detail: 'malformed cursor' }]);
  return { key: k, id };
}

/** The page query every list takes. */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/** Rows fetched with `limit + 1` become a page: the extra row only says there is more. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const has_more = rows.length > limit;
  const data = has_more ? rows.slice(0, limit) : rows;
  const last = data.at(-1);
  return { data, has_more, next_cursor: has_more && last ? encodeCursor(last.id) : null };
}
