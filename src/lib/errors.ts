/**
 * Coded errors. Services throw these for expected failures with a *kind* — what went wrong, in the terms of the
 * business, not of a protocol — and a stable `code` that clients switch on. Only a transport maps a kind to its
 * wire form: REST to an HTTP status and RFC 9457 problem+json (src/http/errors.ts), GraphQL to
 * `extensions.code`, WebSocket to a close code. No HTTP status appears outside src/http.
 */
export interface FieldProblem {
  /** JSON pointer into the request, e.g. `/body/email`. */
  pointer: string;
  detail: string;
}

export const ERROR_KINDS = [
  /** The request itself is malformed: bad syntax, a value of the wrong type, an impossible date. */
  'malformed',
  /** No valid credential, or one that expired. */
  'unauthenticated',
  /** The payment was declined. */
  'payment_failed',
  /** The caller is known but may not do this. */
  'forbidden',
  /** No such thing — or it belongs to another shop, which looks exactly the same. */
  'not_found',
  /** The thing's state does not allow it now (stock, a spent cart, a race lost). */
  'conflict',
  /** The caller's view of the thing is out of date (If-Match). */
  'precondition_failed',
  /** More than we accept (a body, a file). */
  'too_large',
  /** A media type we do not read. */
  'unsupported',
  /** Well-formed but not acceptable by the business rules (an unknown variant, a code that expired). */
  'invalid',
  /** Too many requests or attempts; retry after `retryAfterSeconds`. */
  'rate_limited',
  /** A service outside the process refused (a payment provider's error). */
  'provider_failed',
  /** Something we depend on cannot be reached now; retry after `retryAfterSeconds`. */
  'unavailable',
  /** A bug. Never with details for the client. */
  'internal',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly errors: FieldProblem[] | undefined;
  /** When the caller may try again (rate limits, unavailable dependencies, a request still in progress). */
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: ErrorKind, code: string, detail: string, opts: { errors?: FieldProblem[] | undefined; retryAfterSeconds?: number | undefined } = {}) {
    super(detail);
    this.name = 'AppError';
    this.kind = kind;
    this.code = code;
    this.errors = opts.errors;
    this.retryAfterSeconds = opts.retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(opts.retryAfterSeconds));
  }
}

export const malformed = (code: string, detail: string, errors?: FieldProblem[]) => new AppError('malformed', code, detail, { errors });
export const unauthenticated = (code: string, detail: string) => new AppError('unauthenticated', code, detail);
export const forbidden = (code: string, detail: string) => new AppError('forbidden', code, detail);
/** Another tenant's object is reported exactly like a missing one. */
export const notFound = (what: string) => new AppError('not_found', 'resource_not_found', `${what} not found`);
export const conflict = (code: string, detail: string, errors?: FieldProblem[]) => new AppError('conflict', code, detail, { errors });
export const invalid = (code: string, detail: string, errors?: FieldProblem[]) => new AppError('invalid', code, detail, { errors });
export const preconditionFailed = (code: string, detail: string) => new AppError('precondition_failed', code, detail);
export const rateLimited = (code: string, detail: string, retryAfterSeconds: number) => new AppError('rate_limited', code, detail, { retryAfterSeconds });

/** An amount that would leave the exact range of lib/money.ts (MAX_AMOUNT): refused, never rounded. */
export const amountTooLarge = (errors: FieldProblem[]) => invalid('amount_too_large', 'The amounts would exceed the largest amount Stockroom handles exactly', errors);

/**
 * A payment provider that cannot be reached now (its circuit is open, it timed out, or it failed on its side).
 * `uncertain`: the call may have reached the provider, so what it did must be settled later (reconciliation).
 */
export class ProviderUnavailable extends AppError {
  readonly uncertain: boolean;
  constructor(provider: string, detail: string, uncertain: boolean, retryAfterSeconds = 30) {
    super('unavailable', 'payment_provider_unavailable', `${provider}: ${detail}`, { retryAfterSeconds });
    this.uncertain = uncertain;
  }
}

/** Whether the error means a failure on our side or a dependency's (not an answer to the caller's request). */
export const isServerSide = (e: AppError) => e.kind === 'internal' || e.kind === 'provider_failed' || e.kind === 'unavailable';
