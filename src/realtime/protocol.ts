import type { AppError, ErrorKind } from '../lib/errors.ts';

/**
 * The realtime wire protocol (docs/realtime.md, /api/asyncapi.json): JSON frames over a WebSocket, or Server-Sent
 * Events (`event:` = the frame's type, `data:` = the frame) for the server's side.
 */

/** WebSocket close codes (and the `code` of the SSE `close` frame). 4000–4999 are the application's. */
export const CLOSE = {
  normal: 1000,
  /** The message was larger than REALTIME_MAX_MESSAGE_BYTES (sent by the WebSocket library). */
  tooBig: 1009,
  internal: 1011,
  /** This node is shutting down: reconnect (to another node) and resume. */
  serviceRestart: 1012,
  /** A frame that is not JSON, of an unknown type, or malformed. */
  badMessage: 4000,
  /** No credential in time, a bad one, or one that expired or was revoked (session ended, key revoked). */
  unauthenticated: 4001,
  /** The credential is still valid but may no longer connect (shop suspended). */
  forbidden: 4003,
  /** The client did not read fast enough: more than REALTIME_MAX_BUFFER_BYTES waited unsent. */
  slowConsumer: 4008,
  /** Too many messages per second, or too many connections for the shop or the address. */
  rateLimited: 4029,
} as const;

/** How a connection-level error closes the connection: the transport's map of error kinds (like HTTP's STATUS_OF). */
export const CLOSE_OF: Record<ErrorKind, number> = {
  malformed: CLOSE.badMessage,
  invalid: CLOSE.badMessage,
  unsupported: CLOSE.badMessage,
  too_large: CLOSE.tooBig,
  unauthenticated: CLOSE.unauthenticated,
  forbidden: CLOSE.forbidden,
  not_found: CLOSE.forbidden,
  rate_limited: CLOSE.rateLimited,
  conflict: CLOSE.internal,
  precondition_failed: CLOSE.internal,
  payment_failed: CLOSE.internal,
  provider_failed: CLOSE.internal,
  unavailable: CLOSE.serviceRestart,
  internal: CLOSE.internal,
};

/** A command's refusal as the client gets it: the same stable `code` (and `kind`) as REST's problem+json. */
export function errorFrame(e: AppError, id?: string | number | null) {
  return { type: 'error', ...(id !== undefined && id !== null ? { id } : {}), code: e.code, kind: e.kind, detail: e.message, ...(e.errors ? { errors: e.errors } : {}), ...(e.retryAfterSeconds ? { retry_after: e.retryAfterSeconds } : {}) };
}

/** What a client may send. */
export type ClientFrame =
  | { type: 'auth'; token?: string; publishable_key?: string }
  | { type: 'subscribe'; id?: string | number; channel: string; since?: { epoch: string | null; position: number } }
  | { type: 'unsubscribe'; id?: string | number; channel: string }
  | { type: 'message.send'; id?: string | number; order_id: string; body: string }
  | { type: 'messages.read'; id?: string | number; order_id: string; up_to?: string }
  | { type: 'presence.view'; id?: string | number; order_id: string | null }
  | { type: 'ping'; id?: string | number };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max: number) => typeof v === 'string' && v.length > 0 && v.length <= max;
const optId = (v: unknown) => v === undefined || (typeof v === 'string' && v.length <= 64) || (Number.isSafeInteger(v) as boolean);

/** Checks a client frame's shape; null when it is not one this protocol knows. */
export function parseClientFrame(raw: string): ClientFrame | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObj(v) || !optId(v.id)) return null;
  switch (v.type) {
    case 'auth':
      return (v.token === undefined || str(v.token, 4096)) && (v.publishable_key === undefined || str(v.publishable_key, 256)) && (v.token !== undefined || v.publishable_key !== undefined) ? (v as ClientFrame) : null;
    case 'subscribe': {
      if (!str(v.channel, 200)) return null;
      const s = v.since;
      if (s === undefined) return v as ClientFrame;
      return isObj(s) && (s.epoch === null || str(s.epoch, 64)) && Number.isSafeInteger(s.position) && (s.position as number) >= 0 ? (v as ClientFrame) : null;
    }
    case 'unsubscribe':
      return str(v.channel, 200) ? (v as ClientFrame) : null;
    case 'message.send':
      return str(v.order_id, 64) && typeof v.body === 'string' ? (v as ClientFrame) : null;
    case 'messages.read':
      return str(v.order_id, 64) && (v.up_to === undefined || str(v.up_to, 64)) ? (v as ClientFrame) : null;
    case 'presence.view':
      return v.order_id === null || str(v.order_id, 64) ? (v as ClientFrame) : null;
    case 'ping':
      return v as ClientFrame;
    default:
      return null;
  }
}
