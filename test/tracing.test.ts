import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EVENT_CONSUMERS, jobHandlers } from '../src/background.ts';
import { createMailer } from '../src/modules/email/index.ts';
import { Worker } from '../src/modules/jobs/worker.ts';
import { startTracing, type Tracing } from '../src/tracing.ts';
import { dispatchEvents } from '../src/workflows/dispatch-events.ts';
import { seedCatalogue } from './commerce-helpers.ts';
import { call, createShop, engines, startApp, type Shop, type TestApp } from './helpers.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** A stand-in OpenTelemetry collector (OTLP/HTTP JSON) and a webhook receiver, both on loopback. */
function standIns() {
  const spans: OtlpSpan[] = [];
  const hooks: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += String(d)));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      } else hooks.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { server, spans, hooks };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('traces and the request id travel with the work', () => {
  const s = standIns();
  let url = '';
  let tracing: Tracing;
  before(async () => {
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    tracing = (await startTracing({ tracing: { endpoint: url, serviceName: 'stockroom-test' } })) as Tracing;
  });
  after(async () => {
    await tracing.shutdown();
    await new Promise<void>((r) => (s.server as Server).close(() => r()));
  });

  for (const engine of engines()) {
    describe(`[${engine.name}]`, () => {
      let t: TestApp;
      let shop: Shop;
      before(async () => {
        t = await startApp(engine, { env: { WEBHOOKS_ALLOW_PRIVATE: 'true' } });
        shop = await createShop(t.app);
      });
      after(async () => t.close());

      test('a request continues the caller’s trace through its transaction and statements to the job and the webhook it caused', async () => {
        const cat = await seedCatalogue(t.app, shop);
        const clock = { now: () => new Date() };
        await dispatchEvents(t.db, clock, EVENT_CONSUMERS); // the catalogue's own events, before the endpoint exists
        const ep = await call(t.app, { method: 'POST', url: '/api/webhook-endpoints', token: shop.token, body: { url: `${url}/hook`, events: ['inventory.changed'] } });
        assert.equal(ep.statusCode, 201, ep.body);
        const parent = `00-${TRACE}-00f067aa0ba902b7-01`;
        const r = await call(t.app, { method: 'POST', url: '/api/inventory/adjustments', token: shop.token, headers: { traceparent: parent, 'x-request-id': `req-trace-${engine.name}` }, body: { variant_id: cat.v.MUG, reason: 'adjustment', delta: 3 } });
        assert.equal(r.statusCode, 201, r.body);
        assert.equal(r.headers['x-request-id'], `req-trace-${engine.name}`);

        // The event remembers its origin; the webhook job runs under it.
        const events = await t.db.selectFrom('outbox_events').select(['type', 'request_id', 'traceparent']).where('tenant_id', '=', shop.tenantId).where('type', '=', 'inventory.changed').execute();
        assert.equal(events.at(-1)?.request_id, `req-trace-${engine.name}`);
        assert.match(events.at(-1)?.traceparent ?? '', new RegExp(`^00-${TRACE}-`));
        await dispatchEvents(t.db, clock, EVENT_CONSUMERS);
        const jobs = await t.db.selectFrom('jobs').select(['type', 'request_id']).where('tenant_id', '=', shop.tenantId).where('type', '=', 'webhook.deliver').execute();
        assert.deepEqual(jobs.map((j) => j.request_id), [`req-trace-${engine.name}`]);
        const worker = new Worker({ db: t.db, clock, log: t.app.log, handlers: jobHandlers({ gateway: t.app.payments, webhooksAllowPrivate: true, mailer: createMailer({ smtpUrl: null, from: t.config.mail.from, dataDir: t.config.dataDir, log: t.app.log }) }), queues: { webhooks: 1 } });
        await worker.tick();
        await worker.idle();
        const hook = s.hooks.at(-1) as IncomingHttpHeaders;
        assert.equal(hook['x-request-id'], `req-trace-${engine.name}`, 'the webhook names the request that caused it');
        assert.match(String(hook.traceparent), new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`), 'and continues its trace');

        await tracing.flush();
        const mine = s.spans.filter((x) => x.traceId === TRACE);
        const named = (n: string) => mine.filter((x) => x.name === n);
        const server = named('POST /api/inventory/adjustments')[0] as OtlpSpan;
        assert.ok(server, `the request's span: ${mine.map((x) => x.name).join(', ')}`);
        assert.equal(server.parentSpanId, '00f067aa0ba902b7', 'a child of the caller’s span');
        const attr = (x: OtlpSpan, k: string) => x.attributes.find((a) => a.key === k)?.value;
        assert.deepEqual(attr(server, 'http.response.status_code'), { intValue: 201 });
        const tx = mine.find((x) => x.name === 'db transaction' && x.parentSpanId === server.spanId);
        assert.ok(tx, 'the business transaction is a child of the request');
        assert.ok(mine.some((x) => x.name.startsWith('db ') && x.parentSpanId === tx.spanId), 'its statements are children of the transaction');
        const job = named('job webhook.deliver')[0] as OtlpSpan;
        assert.ok(job, 'the job joined the request’s trace');
        const out = mine.find((x) => x.name === 'webhook deliver' && x.parentSpanId === job.spanId);
        assert.ok(out, 'the delivery is a child of the job');
        assert.equal(String(hook.traceparent).split('-')[2], out.spanId, 'the receiver sees the delivery’s span as its parent');
        s.spans.length = 0;
      });

      test('without a traceparent each request starts a trace of its own', async () => {
        const r = await call(t.app, { url: '/api/shop', token: shop.token });
        assert.equal(r.statusCode, 200);
        await tracing.flush();
        const own = s.spans.find((x) => x.name === 'GET /api/shop') as OtlpSpan;
        assert.ok(own && !own.parentSpanId && own.traceId !== TRACE);
        const other = await call(t.app, { url: '/api/shop', token: shop.token });
        await tracing.flush();
        const both = s.spans.filter((x) => x.name === 'GET /api/shop');
        assert.equal(both.length, 2);
        assert.notEqual(both[0]?.traceId, both[1]?.traceId, 'each request its own trace');
        assert.equal(other.statusCode, 200);
      });
    });
  }
});
