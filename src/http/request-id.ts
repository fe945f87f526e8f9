import type { IncomingMessage } from 'node:http';
import { ulid } from '../lib/ids.ts';

const SAFE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller's X-Request-Id when it is safe to log; otherwise makes one. */
export function genReqId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && SAFE.test(given)) return given;
  return `req_${ulid()}`;
}
