import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { call, createShop, engines, problemOf, startApp } from './helpers.ts';

const TOKEN = 'metrics-token-0123456789abcdef';

for (const engine of engines()) {
  describe(`metrics [${engine.name}]`, () => {
    test('/metrics answers Prometheus text behind its token: HTTP per route, jobs, outbox lag, realtime, the process', async () => {
      const t = await startApp(engine, { env: { METRICS_TOKEN: TOKEN } });
      try {
        const shop = await createShop(t.app);
        await call(t.app, { method: 'POST', url: '/api/customers', token: shop.token, body: { email: 'm@example.com' } });
        await call(t.app, { url: '/api/health' });
        await call(t.app, { url: '/api/products?limit=1', pk: shop.pk });
        await call(t.app, { url: '/api/products/prod_nope', pk: shop.pk });
        assert.equal(problemOf(await call(t.app, { url: '/metrics' })).code, 'invalid_metrics_token');
        assert.equal(problemOf(await call(t.app, { url: '/metrics', token: 'wrong-token-wrong-token' })).status, 401);
        const r = await call(t.app, { url: '/metrics', token: TOKEN });
        assert.equal(r.statusCode, 200);
        assert.match(String(r.headers['content-type']), /text\/plain/);
        const text = r.body;
        assert.ok(/http_requests_total\{method="GET",route="\/api\/health",status="200"\} 1/.test(text), String(/http_requests_total\{method="GET",route="\/api\/health",status="200"\} 1/));
        assert.ok(/http_requests_total\{method="GET",route="\/api\/products\/:id",status="404"\} 1/.test(text), String(/http_requests_total\{method="GET",route="\/api\/products\/:id",status="404"\} 1/));
        assert.ok(/http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/products"\}/.test(text), String(/http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/products"\}/));
        // A customer was created: its event waits in the outbox (no publisher runs in this test).
        assert.ok(/outbox_unpublished_events [1-9]/.test(text), String(/outbox_unpublished_events [1-9]/));
        assert.ok(/outbox_lag_seconds \d/.test(text), String(/outbox_lag_seconds \d/));
        assert.ok(/# TYPE jobs_queued gauge/.test(text), String(/# TYPE jobs_queued gauge/));
        assert.ok(/realtime_connections 0/.test(text), String(/realtime_connections 0/));
        assert.ok(/process_resident_memory_bytes \d+/.test(text), String(/process_resident_memory_bytes \d+/));
        assert.ok(/db_query_duration_seconds_count [1-9]/.test(text), 'database statements are timed');
        assert.ok(/db_transaction_duration_seconds_count [1-9]/.test(text), 'and transactions');
      } finally {
        await t.close();
      }
    });
  });
}

describe('metrics are off without a token', () => {
  test('404 metrics_disabled', async () => {
    const t = await startApp(engines()[0]!);
    try {
      assert.deepEqual(problemOf(await call(t.app, { url: '/metrics', token: TOKEN })), { status: 404, code: 'metrics_disabled' });
    } finally {
      await t.close();
    }
  });
});

describe('readiness', () => {
  test('ready when the database (and Redis) answer; 503 naming Redis when it is down', async () => {
    const up = await startApp(engines()[0]!);
    try {
      assert.equal((await call(up.app, { url: '/api/ready' })).statusCode, 200);
    } finally {
      await up.close();
    }
    const down = await startApp(engines()[0]!, { env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const r = await call(down.app, { url: '/api/ready' });
      assert.deepEqual(problemOf(r), { status: 503, code: 'not_ready' });
      assert.match(String(r.json.detail), /Redis/);
    } finally {
      await down.close();
    }
  });
});
