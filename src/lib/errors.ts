/**
 * Coded errors. Services throw these for expected failures; only the HTTP layer turns them into
 * RFC 9457 problem+json responses. `code` is stable and documented — clients switch on it.
 */
export interface FieldProblem {
  /** JSON pointer into the request, e.g. `/body/email`. */
  pointer: string;
  detail: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldProblem[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, code: string, detail: string, opts: { errors?: FieldProblem[]; headers?: Record<string, string> } = {}) {
    super(detail);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.errors = opts.errors;
    this.headers = opts.headers;
  }
}

export const badRequest = (code: string, detail: string, errors?: FieldProblem[]) => new AppError(400, code, detail, errors ? { errors } : {});
export const unauthorized = (code: string, detail: string) => new AppError(401, code, detail);
export const forbidden = (code: string, detail: string) => new AppError(403, code, detail);
/** Another tenant's object is reported exactly like a missing one. */
export const notFound = (what: string) => new AppError(404, 'resource_not_found', `${what} not found`);
export const conflict = (code: string, detail: string) => new AppError(409, code, detail);
export const unprocessable = (code: string, detail: string, errors?: FieldProblem[]) => new AppError(422, code, detail, errors ? { errors } : {});
export const tooManyRequests = (code: string, detail: string, retryAfterSeconds: number) =>
  new AppError(429, code, detail, { headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) } });

/** An amount that would leave the exact range of lib/money.ts (MAX_AMOUNT): refused, never rounded. */
export const amountTooLarge = (errors: FieldProblem[]) => new AppError(422, 'amount_too_large', 'The amounts would exceed the largest amount Stockroom handles exactly', { errors });

/**
 * A payment provider that cannot be reached now (its circuit is open, it timed out, or it failed on its side).
 * `uncertain`: the call may have reached the provider, so what it did must be settled later (reconciliation).
 */
export class ProviderUnavailable extends AppError {
  readonly uncertain: boolean;
  constructor(provider: string, detail: string, uncertain: boolean, retryAfterSeconds = 30) {
    super(503, 'payment_provider_unavailable', `${provider}: ${detail}`, { headers: { 'retry-after': String(retryAfterSeconds) } });
    this.uncertain = uncertain;
  }
}
