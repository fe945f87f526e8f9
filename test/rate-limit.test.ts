import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { call, createShop, engines, problemOf, startApp, type TestApp } from './helpers.ts';

for (const engine of engines()) {
  describe(`rate limits [${engine.name}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(engine, { env: { RATE_LIMIT_PER_IP: '5', RATE_LIMIT_PER_PRINCIPAL: '1000', RATE_LIMIT_WINDOW_SECONDS: '60' } });
    });
    after(() => t.close());

    test('the sixth request from one address in the window is a 429 with RateLimit headers and Retry-After', async () => {
      const seen = [];
      for (let i = 0; i < 5; i++) {
        const r = await call(t.app, { url: '/api/health' });
        assert.equal(r.statusCode, 200);
        seen.push(r.headers.ratelimit);
      }
      assert.match(String(seen[0]), /^"ip";r=4;t=\d+$/);
      assert.match(String(seen[4]), /^"ip";r=0;t=\d+$/);
      const limited = await call(t.app, { url: '/api/health' });
      assert.deepEqual(problemOf(limited), { status: 429, code: 'rate_limited' });
      assert.match(String(limited.headers['ratelimit-policy']), /"ip";q=5;w=60/);
      assert.ok(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60);
    });
  });

  describe(`per-principal limit [${engine.name}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(engine, { env: { RATE_LIMIT_PER_IP: '1000', RATE_LIMIT_PER_PRINCIPAL: '3' } });
    });
    after(() => t.close());

    test('one principal is limited on its own; another principal is not', async () => {
      const a = await createShop(t.app); // signup + login are anonymous requests
      const b = await createShop(t.app);
      for (let i = 0; i < 3; i++) assert.equal((await call(t.app, { url: '/api/shop', token: a.token })).statusCode, 200);
      const limited = await call(t.app, { url: '/api/shop', token: a.token });
      assert.equal(problemOf(limited).code, 'rate_limited');
      assert.match(String(limited.headers.ratelimit), /^"principal";r=0/);
      assert.equal((await call(t.app, { url: '/api/shop', token: b.token })).statusCode, 200);
    });
  });

  if (engine.redisUrl) {
    describe(`rate limits shared through Redis [${engine.name}]`, () => {
      let t: TestApp;
      let second: Awaited<ReturnType<typeof buildApp>>;
      const prefix = `test:${randomBytes(6).toString('hex')}:`;
      before(async () => {
        t = await startApp(engine, { env: { RATE_LIMIT_PER_IP: '6' }, redisPrefix: prefix });
        second = await buildApp({ config: t.config, db: t.db, redisPrefix: prefix });
        await second.ready();
      });
      after(async () => {
        await second.close();
        await t.close();
      });

      test('two API nodes count against one limit', async () => {
        for (let i = 0; i < 3; i++) {
          assert.equal((await call(t.app, { url: '/api/health' })).statusCode, 200);
          assert.equal((await call(second, { url: '/api/health' })).statusCode, 200);
        }
        assert.equal(problemOf(await call(t.app, { url: '/api/health' })).status, 429);
        assert.equal(problemOf(await call(second, { url: '/api/health' })).status, 429);
      });
    });
  }
}
