import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay from 'find-my-way';
import { AppError, isServerSide, type ErrorKind, type FieldProblem } from '../lib/errors.ts';
import { PROBLEM_TYPE_BASE, titleOf, type Problem } from './problem.ts';

/** The HTTP status of each error kind: the one place where a kind becomes a status. */
export const STATUS_OF: Readonly<Record<ErrorKind, number>> = {
  malformed: 400,
  unauthenticated: 401,
  payment_failed: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  too_large: 413,
  unsupported: 415,
  invalid: 422,
  rate_limited: 429,
  internal: 500,
  provider_failed: 502,
  unavailable: 503,
};

/** RFC 6750: a bad or expired token says `invalid_token` (a client refreshes on it); a missing one says only the scheme. */
const TOKEN_CODES = new Set(['invalid_token', 'token_expired', 'session_revoked', 'credential_mismatch', 'invalid_api_key']);
function wwwAuthenticate(err: AppError): string {
  if (!TOKEN_CODES.has(err.code)) return 'Bearer realm="stockroom"';
  return `Bearer realm="stockroom", error="invalid_token", error_description="${err.message.replace(/["\\]/g, '')}"`;
}

/** Sends an RFC 9457 problem. The only place that turns errors into status codes. */
export function sendProblem(reply: FastifyReply, status: number, code: string, detail: string, extra: { errors?: FieldProblem[] | undefined; headers?: Record<string, string> | undefined } = {}): FastifyReply {
  const req = reply.request;
  const problem: Problem = {
    // An absolute URI of this server's error reference (GET /docs/errors), as the client reached it.
    type: `${req.protocol}://${req.host}${PROBLEM_TYPE_BASE}${code}`,
    title: titleOf(status),
    status,
    detail,
    code,
    instance: req.url.split('?')[0] ?? req.url,
    request_id: String(req.id),
  };
  if (extra.errors?.length) problem.errors = extra.errors;
  if (extra.headers) reply.headers(extra.headers);
  return reply.code(status).type('application/problem+json; charset=utf-8').send(JSON.stringify(problem));
}

interface AjvErrorLike {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function fieldProblems(context: string, errors: AjvErrorLike[]): FieldProblem[] {
  const part = context === 'querystring' ? 'query' : context;
  const seen = new Set<string>();
  const out: FieldProblem[] = [];
  for (const e of errors) {
    let pointer = `/${part}${e.instancePath}`;
    let detail = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      pointer += `/${String(e.params.missingProperty)}`;
      detail = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      pointer += `/${String(e.params.additionalProperty)}`;
      detail = 'is not a known field';
    } else if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) detail = `must be one of: ${e.params.allowedValues.join(', ')}`;
    const k = `${pointer} ${detail}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push({ pointer, detail });
    }
    if (out.length >= 20) break;
  }
  return out;
}

const FASTIFY_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'The request body is larger than this server accepts'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Send the body as application/json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'malformed_json', 'The body is empty but the content type says JSON'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed_json', 'The body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length', 'Content-Length does not match the body'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'unsupported_media_type', 'The content type is not valid'],
  FST_ERR_BAD_URL: [400, 'malformed_url', 'The URL is malformed'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'malformed_request', 'The request could not be routed'],
};

export function registerErrorHandling(app: FastifyInstance): void {
  // A method-agnostic index of the registered paths, so an unknown method on a known path is a 405.
  const paths = FindMyWay<FindMyWay.HTTPVersion.V1>({ ignoreTrailingSlash: true });
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (route.url.includes('*')) return; // catch-alls (CORS preflight) would make every path "known"
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // `/admin` and `/admin/` are one path to this index (it ignores a trailing slash): they share their methods.
    let set = methodsByPath.get(route.url) ?? (paths.find('GET', route.url)?.store as Set<string> | undefined);
    if (!set) {
      set = new Set();
      const store = set;
      paths.on('GET', route.url, () => {}, store);
    }
    methodsByPath.set(route.url, set);
    for (const m of methods) set.add(m);
  });

  app.setNotFoundHandler((req, reply) => {
    const found = paths.find('GET', (req.url.split('?')[0] ?? '/') as string);
    const allowed = found?.store as Set<string> | undefined;
    if (allowed && !allowed.has(req.method)) {
      return sendProblem(reply, 405, 'method_not_allowed', `${req.method} is not allowed here`, { headers: { allow: [...allowed].sort().join(', ') } });
    }
    return sendProblem(reply, 404, 'route_not_found', `No route ${req.method} ${req.url.split('?')[0]}`);
  });

  app.setErrorHandler((err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError) {
      if (isServerSide(err)) req.log.error({ err }, 'service error');
      const headers: Record<string, string> = {};
      if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
      if (err.kind === 'unauthenticated') headers['www-authenticate'] = wwwAuthenticate(err);
      return sendProblem(reply, STATUS_OF[err.kind], err.code, err.message, { errors: err.errors, headers });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const errors = fieldProblems(fe.validationContext ?? 'body', fe.validation as unknown as AjvErrorLike[]);
      return sendProblem(reply, 400, 'validation_failed', 'The request has invalid fields', { errors });
    }
    const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (known) return sendProblem(reply, known[0], known[1], known[2]);
    if (err instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(err.message))) return sendProblem(reply, 400, 'malformed_json', 'The body is not valid JSON');
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return sendProblem(reply, fe.statusCode, 'bad_request', 'The request could not be processed');
    }
    req.log.error({ err }, 'unhandled error');
    return sendProblem(reply, 500, 'internal_error', 'Something went wrong on our side; the request id helps us find it');
  });
}

/**
 * Errors Fastify raises before routing (Fastify's `frameworkErrors`): a URL that is not valid percent-encoding, a
 * path parameter longer than the router takes. Problem+json like every other answer.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') void sendProblem(reply, 414, 'uri_too_long', 'A path segment is longer than this server accepts');
  else if (err.code === 'FST_ERR_BAD_URL') void sendProblem(reply, 400, 'malformed_url', 'The URL is not valid percent-encoding');
  else void sendProblem(reply, 400, 'malformed_request', 'The request could not be routed');
}

/**
 * A request Node's HTTP parser rejects (a body longer than its Content-Length, headers too large …) never
 * reaches Fastify: answer on the socket with a problem+json and close it (Fastify's `clientErrorHandler`).
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, title, code, detail] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'request_timeout', 'The request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'headers_too_large', 'The request headers are larger than this server accepts']
        : [400, 'Bad Request', 'malformed_request', 'The request is not valid HTTP (is the body longer than its Content-Length?)'];
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${code}`, title, status, detail, code });
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy(err);
}
