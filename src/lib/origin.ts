import { AsyncLocalStorage } from 'node:async_hooks';
import { SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Span } from '@opentelemetry/api';

/**
 * Where a piece of work came from: the request id and the W3C trace context (`traceparent`) of the request that
 * caused it. A request sets it; an outbox event and a job store it when written; the worker and the event consumers
 * run under the stored one — so a webhook delivery, a broker message, an email or a job's log lines name the request
 * that led to them, and their spans join its trace. Without an OpenTelemetry SDK (no OTLP endpoint) the trace part is
 * empty and spans cost nothing.
 */
export interface Origin {
  requestId: string | null;
  traceparent: string | null;
}

const requests = new AsyncLocalStorage<{ requestId: string }>();

/** The tracer every part of Stockroom makes its spans with. */
export const tracer = trace.getTracer('stockroom');

/** Whether an OpenTelemetry SDK is exporting (set by tracing.ts): without one, no request spans are made at all. */
export const tracing = { on: false };

/** Runs `fn` as part of the request with this id (the HTTP layer's first hook does this). */
export function runAsRequest<T>(requestId: string, fn: () => T): T {
  return requests.run({ requestId }, fn);
}

/** The origin of whatever runs now: the request id and the active trace (null parts when there is none). */
export function currentOrigin(): Origin {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return { requestId: requests.getStore()?.requestId ?? null, traceparent: carrier.traceparent ?? null };
}

/** Runs `fn` under a stored origin: its request id, and its trace as the parent of the spans `fn` makes. */
export function withOrigin<T>(o: { request_id?: string | null | undefined; traceparent?: string | null | undefined }, fn: () => T): T {
  const ctx = o.traceparent ? propagation.extract(context.active(), { traceparent: o.traceparent }) : context.active();
  return context.with(ctx, () => (o.request_id ? requests.run({ requestId: o.request_id }, fn) : fn()));
}

/** Headers that carry the origin to an outside service: `x-request-id` and the W3C `traceparent`. */
export function originHeaders(): Record<string, string> {
  const o = currentOrigin();
  const h: Record<string, string> = {};
  if (o.requestId) h['x-request-id'] = o.requestId;
  if (o.traceparent) h.traceparent = o.traceparent;
  return h;
}

/**
 * Runs `fn` in a span of its own (a child of the active one): an outside call (`kind: 'client'`), a job, a phase of
 * a workflow. The span ends with `fn`, marked as an error when it throws.
 */
export async function traced<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, kind: 'internal' | 'client' | 'producer' | 'consumer' = 'internal'): Promise<T> {
  const k = { internal: SpanKind.INTERNAL, client: SpanKind.CLIENT, producer: SpanKind.PRODUCER, consumer: SpanKind.CONSUMER }[kind];
  return tracer.startActiveSpan(name, { kind: k, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.recordException(e as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e;
    } finally {
      span.end();
    }
  });
}

/** What Stockroom calls outside the process. */
export type OutsideTarget = 'webhook' | 'broker' | 'app_proxy' | 'payment' | 'email' | 'marketing';

/** Told of every outside call: what, whether it succeeded, how long it took (the metrics' outside-call histogram). */
export const outsideCallObservers = new Set<(target: OutsideTarget, ok: boolean, ms: number) => void>();

export function recordOutsideCall(target: OutsideTarget, ok: boolean, ms: number): void {
  for (const o of outsideCallObservers) o(target, ok, ms);
}

/**
 * An outside call in a client span of the active trace, timed and counted: `ok` says whether its result counts as a
 * success (a webhook's 2xx); a throw is a failure.
 */
export async function outsideCall<T>(target: OutsideTarget, name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, ok: (r: T) => boolean = () => true): Promise<T> {
  const t0 = performance.now();
  let success = false;
  try {
    const r = await traced(name, { 'stockroom.outside': target, ...attributes }, fn, target === 'broker' ? 'producer' : 'client');
    success = ok(r);
    return r;
  } finally {
    recordOutsideCall(target, success, performance.now() - t0);
  }
}
