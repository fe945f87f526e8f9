import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { queryObservers, transactionObservers, type Db } from '../db/database.ts';
import { outsideCallObservers } from '../lib/origin.ts';
import type { Clock } from '../lib/clock.ts';
import { safeEqual } from '../lib/crypto.ts';
import { AppError, unauthenticated } from '../lib/errors.ts';
import { outboxLag } from '../modules/events/index.ts';
import { queueStats } from '../modules/jobs/index.ts';
import { access } from './access.ts';

export interface MetricsSources {
  db: Db;
  clock: Clock;
  /** Realtime connections held by this node. */
  realtimeConnections: () => number;
  /** The gateway's counters per shop:app. */
  proxy: Map<string, { requests: number; failures: number; refusedOpen: number; totalMs: number }>;
}

/**
 * Prometheus metrics at `GET /metrics` (text format), behind `METRICS_TOKEN` (Authorization: Bearer; not served
 * without one): HTTP rate, errors and duration per route; database statement duration; job queue depth and age per
 * type; the outbox's lag; transaction duration; outside calls (webhooks, broker, app proxy, payments, email) by
 * outcome and duration;
 * realtime connections; the gateway's requests, failures and circuit refusals per app; the process (prom-client's
 * defaults). One registry per app, so tests may build many.
 */
export function registerMetrics(app: FastifyInstance, token: string | null, src: MetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
  const duration = new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request duration by method and route', labelNames: ['method', 'route'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  new Gauge({
    name: 'jobs_queued',
    help: 'Jobs due and waiting, per type',
    labelNames: ['type'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of await queueStats(src.db, src.clock)) this.set({ type: q.type }, q.queued);
    },
  });
  new Gauge({
    name: 'jobs_oldest_queued_seconds',
    help: 'Age of the oldest due job, per type',
    labelNames: ['type'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const q of await queueStats(src.db, src.clock)) this.set({ type: q.type }, q.oldestSeconds);
    },
  });
  new Gauge({
    name: 'outbox_unpublished_events',
    help: 'Committed events not yet handed to the consumers',
    registers: [registry],
    async collect() {
      this.set((await outboxLag(src.db, src.clock.now())).unpublished);
    },
  });
  new Gauge({
    name: 'outbox_lag_seconds',
    help: 'Age of the oldest committed event not yet handed on',
    registers: [registry],
    async collect() {
      this.set((await outboxLag(src.db, src.clock.now())).oldestSeconds);
    },
  });
  new Gauge({
    name: 'realtime_connections',
    help: 'Realtime connections (WebSocket, SSE, GraphQL subscriptions) on this node',
    registers: [registry],
    collect() {
      this.set(src.realtimeConnections());
    },
  });
  const proxyGauge = (name: string, help: string, pick: (s: { requests: number; failures: number; refusedOpen: number; totalMs: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['shop', 'app'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [k, s] of src.proxy) {
          const [shop, appHandle] = k.split(':') as [string, string];
          this.set({ shop, app: appHandle }, pick(s));
        }
      },
    });
  proxyGauge('app_proxy_requests', 'Requests forwarded to each app (since start)', (s) => s.requests);
  proxyGauge('app_proxy_failures', 'Forwarded requests that failed (5xx, timeout, unreachable)', (s) => s.failures);
  proxyGauge('app_proxy_circuit_refusals', 'Requests refused while the app’s circuit was open', (s) => s.refusedOpen);
  proxyGauge('app_proxy_seconds', 'Total time spent waiting for each app', (s) => s.totalMs / 1000);

  const outside = new Histogram({ name: 'outside_call_duration_seconds', help: 'Calls outside the process (webhook, broker, app_proxy, payment, email) by outcome, in this process', labelNames: ['target', 'outcome'] as const, buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });
  const onOutside = (target: string, ok: boolean, ms: number) => outside.observe({ target, outcome: ok ? 'success' : 'failure' }, ms / 1000);
  outsideCallObservers.add(onOutside);
  app.addHook('onClose', async () => void outsideCallObservers.delete(onOutside));
  const transactions = new Histogram({ name: 'db_transaction_duration_seconds', help: 'Database transactions, begin to commit or rollback (this process)', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [registry] });
  const onTx = (ms: number) => transactions.observe(ms / 1000);
  transactionObservers.add(onTx);
  app.addHook('onClose', async () => void transactionObservers.delete(onTx));

  const queries = new Histogram({ name: 'db_query_duration_seconds', help: 'Database statement duration (this process)', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] });
  const observe = (ms: number) => queries.observe(ms / 1000);
  queryObservers.add(observe);
  app.addHook('onClose', async () => void queryObservers.delete(observe));

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { config: { access: access.public() }, schema: { tags: ['system'], summary: 'Prometheus metrics (Authorization: Bearer METRICS_TOKEN)', operationId: 'metrics', response: { 200: { description: 'Prometheus text format', type: 'string' } } } }, async (req, reply) => {
    if (!token) throw new AppError('not_found', 'metrics_disabled', 'Set METRICS_TOKEN to serve /metrics');
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m || !safeEqual(m[1] as string, token)) throw unauthenticated('invalid_metrics_token', 'Send Authorization: Bearer <METRICS_TOKEN>');
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return registry;
}
