import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { runAsRequest, tracer, tracing } from '../lib/origin.ts';

declare module 'fastify' {
  interface FastifyRequest {
    span: Span | null;
  }
}

/**
 * The first hook of every request: the request runs as its origin (its id travels into the events, jobs, webhooks
 * and broker messages it causes) inside a server span — continuing the caller's trace when it sent a `traceparent`.
 * The span is named by the route once it is known, and ends with the response.
 */
export function registerTracing(app: FastifyInstance): void {
  app.decorateRequest('span', null);
  app.addHook('onRequest', (req, _reply, done) => {
    if (!tracing.on) return runAsRequest(String(req.id), done);
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.url.split('?')[0] ?? '', 'stockroom.request_id': String(req.id) } }, parent);
    req.span = span;
    context.with(trace.setSpan(parent, span), () => runAsRequest(String(req.id), done));
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = req.span;
    if (span) {
      const route = req.routeOptions.url;
      if (route) span.updateName(`${req.method} ${route}`).setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
