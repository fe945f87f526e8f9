import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { LOG_REDACT } from '../src/app.ts';
import { PASSWORD, call, createShop, engines, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';

for (const engine of engines()) {
  describe(`HTTP edge [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    const logLines: string[] = [];
    before(async () => {
      const stream = new Writable({
        write(chunk, _enc, cb) {
          logLines.push(String(chunk));
          cb();
        },
      });
      t = await startApp(engine, { env: { BODY_LIMIT_BYTES: '4096' }, logger: { level: 'debug', stream, redact: { paths: LOG_REDACT, censor: '[redacted]' } } });
      shop = await createShop(t.app);
    });
    after(() => t.close());

    const customers = async () =>
      Number((await t.db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', shop.tenantId).executeTakeFirstOrThrow()).n);

    test('X-Request-Id: a safe one is echoed, a missing or unsafe one is replaced', async () => {
      const given = await call(t.app, { url: '/api/health', headers: { 'x-request-id': 'abc-123' } });
      assert.equal(given.headers['x-request-id'], 'abc-123');
      const none = await call(t.app, { url: '/api/health' });
      assert.match(String(none.headers['x-request-id']), /^req_[0-9a-z]{26}$/);
      const unsafe = await call(t.app, { url: '/api/health', headers: { 'x-request-id': 'a b\u0001<script>' } });
      assert.match(String(unsafe.headers['x-request-id']), /^req_/);
      const err = await call(t.app, { url: '/api/nothing-here', headers: { 'x-request-id': 'trace-me' } });
      assert.equal(err.json.request_id, 'trace-me');
    });

    test('a refusal names the credentials the route takes', async () => {
      const staffOnly = await call(t.app, { url: '/api/users', pk: shop.pk });
      assert.deepEqual(problemOf(staffOnly), { status: 403, code: 'principal_not_allowed' });
      assert.match(String(staffOnly.json.detail), /This route takes staff \(JWT or secret key\) with `users:read`/);
      const orders = await call(t.app, { url: '/api/orders', pk: shop.pk });
      assert.deepEqual(problemOf(orders), { status: 401, code: 'authentication_required' });
      assert.match(String(orders.json.detail), /log in as a customer, or use staff credentials\. This route takes staff \(JWT or secret key\) with `orders:read` or a logged-in customer/);
    });

    test('failures before routing and below HTTP are problem+json too: 414, bad percent-encoding, a body longer than its Content-Length', async () => {
      const long = await call(t.app, { url: `/api/orders/${'x'.repeat(300)}`, token: shop.token });
      assert.deepEqual(problemOf(long), { status: 414, code: 'uri_too_long' });
      const bad = await call(t.app, { url: '/api/orders/%E0%A4%A', token: shop.token });
      assert.deepEqual(problemOf(bad), { status: 400, code: 'malformed_url' });
      // Below Fastify: a raw socket whose body runs past its Content-Length.
      const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = new URL(address);
      const { connect } = await import('node:net');
      const raw = await new Promise<string>((resolve, reject) => {
        let got = '';
        const sock = connect(Number(port), '127.0.0.1', () => sock.write('POST /api/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}\u0000\u0001garbage\r\n\r\n'));
        sock.on('data', (d) => (got += String(d)));
        sock.on('close', () => resolve(got));
        sock.on('error', reject);
        setTimeout(() => sock.destroy(), 3000);
      });
      const last = raw.slice(raw.lastIndexOf('HTTP/1.1 '));
      assert.match(last, /^HTTP\/1\.1 400 /);
      assert.match(last, /content-type: application\/problem\+json/i);
      assert.equal((JSON.parse(last.slice(last.indexOf('\r\n\r\n') + 4)) as { code: string }).code, 'malformed_request');
    });

    test('every failure is problem+json with a stable code; none is a 500', async () => {
      const cases: [string, Parameters<typeof call>[1], number, string][] = [
        ['unknown route', { url: '/api/nope' }, 404, 'route_not_found'],
        ['wrong method', { method: 'PUT', url: '/api/shop', token: shop.token, body: {} }, 405, 'method_not_allowed'],
        ['no credential', { url: '/api/users' }, 401, 'authentication_required'],
        ['malformed authorization', { url: '/api/users', headers: { authorization: 'Basic abc' } }, 401, 'invalid_authorization_header'],
        ['wrong type', { method: 'POST', url: '/api/customers', token: shop.token, body: { email: 42 } }, 400, 'validation_failed'],
        ['unknown field', { method: 'POST', url: '/api/customers', token: shop.token, body: { email: 'u@example.com', is_admin: true } }, 400, 'validation_failed'],
        ['missing field', { method: 'POST', url: '/api/customers', token: shop.token, body: {} }, 400, 'validation_failed'],
        ['bad email', { method: 'POST', url: '/api/customers', token: shop.token, body: { email: "' OR 1=1 --" } }, 400, 'validation_failed'],
        ['absurd page size', { url: '/api/customers?limit=100000', token: shop.token }, 400, 'validation_failed'],
        ['negative page size', { url: '/api/customers?limit=-1', token: shop.token }, 400, 'validation_failed'],
        ['unknown query parameter', { url: '/api/customers?evil=1', token: shop.token }, 400, 'validation_failed'],
        ['forged cursor', { url: '/api/customers?cursor=not-a-cursor', token: shop.token }, 400, 'invalid_cursor'],
        ['bad id', { url: "/api/customers/1' or '1'='1", token: shop.token }, 400, 'validation_failed'],
        ['malformed JSON', { method: 'POST', url: '/api/customers', token: shop.token, body: '{"email":', headers: { 'content-type': 'application/json' } }, 400, 'malformed_json'],
        ['wrong content type', { method: 'POST', url: '/api/customers', token: shop.token, body: 'email=a@b.c', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type'],
        ['JSON sent as text/plain', { method: 'POST', url: '/api/customers', token: shop.token, body: '{"email":"a@b.c"}', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
        ['huge body', { method: 'POST', url: '/api/customers', token: shop.token, body: { email: 'big@example.com', first_name: 'x'.repeat(10_000) } }, 413, 'payload_too_large'],
        ['array instead of object', { method: 'POST', url: '/api/customers', token: shop.token, body: [1, 2, 3] }, 400, 'validation_failed'],
        ['role from nowhere', { method: 'POST', url: '/api/users', token: shop.token, body: { email: 'w@example.com', name: 'W', password: PASSWORD, role_id: 'role_01aaaaaaaaaaaaaaaaaaaaaaaa' } }, 422, 'unknown_role'],
        ['missing user', { method: 'PATCH', url: '/api/users/usr_01aaaaaaaaaaaaaaaaaaaaaaaa', token: shop.token, body: { name: 'x' } }, 404, 'resource_not_found'],
        ['weak customer password', { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email: 'weak@example.com', password: 'short' } }, 400, 'weak_password'],
        ['signup with weak password', { method: 'POST', url: '/api/signup', body: { shop_name: 'Weak', email: 'weak@example.com', password: '123' } }, 400, 'weak_password'],
        ['signup with unknown time zone', { method: 'POST', url: '/api/signup', body: { shop_name: 'TZ', email: 'tz@example.com', password: PASSWORD, timezone: 'Mars/Olympus' } }, 400, 'validation_failed'],
        ['publishable key on a staff route', { url: '/api/users', pk: shop.pk }, 403, 'principal_not_allowed'],
        ['secret-looking garbage key', { url: '/api/users', token: 'sk_nope' }, 401, 'invalid_api_key'],
      ];
      const before = await customers();
      for (const [name, c, status, code] of cases) {
        const r = await call(t.app, c);
        assert.deepEqual(problemOf(r), { status, code }, `${name}: ${r.statusCode} ${r.body}`);
        assert.ok(String(r.json.title).length > 0);
        assert.equal(String(r.json.type), `http://localhost:80/docs/errors#${code}`, 'the type points at this server’s error reference');
      }
      assert.equal(await customers(), before, 'no bad request wrote anything');
      // The reference it points at is served, with an anchor for each code.
      const ref = await t.app.inject({ url: '/docs/errors' });
      assert.equal(ref.statusCode, 200);
      assert.match(String(ref.headers['content-type']), /text\/html/);
      for (const [, , , code] of cases) assert.match(ref.body, new RegExp(`<tr id="${code}">`), code);
    });

    test('validation errors name the field with a JSON pointer', async () => {
      const r = await call(t.app, { method: 'POST', url: '/api/customers', token: shop.token, body: { email: 'ok@example.com', shoe_size: 44 } });
      assert.deepEqual(r.json.errors, [{ pointer: '/body/shoe_size', detail: 'is not a known field' }]);
    });

    test('SQL and script in strings are stored and returned as plain text', async () => {
      const evil = `Robert'); DROP TABLE customers;-- <script>alert(1)</script>`;
      const r = await call(t.app, { method: 'POST', url: '/api/customers', token: shop.token, body: { email: 'bobby@example.com', first_name: evil } });
      assert.equal(r.statusCode, 201);
      const back = await call(t.app, { url: `/api/customers/${r.json.id}`, token: shop.token });
      assert.equal(back.json.first_name, evil);
      assert.equal(back.headers['content-type'], 'application/json; charset=utf-8');
      assert.ok(await customers() > 0);
    });

    test('If-Match with a stale version is a 412 and changes nothing', async () => {
      const role = (await call(t.app, { url: '/api/roles', token: shop.token })).json.data?.find((r) => r.key === 'clerk');
      const u = await call(t.app, { method: 'POST', url: '/api/users', token: shop.token, body: { email: 'etag@example.com', name: 'E', password: PASSWORD, role_id: role?.id } });
      const etag = String(u.headers.etag);
      const ok = await call(t.app, { method: 'PATCH', url: `/api/users/${u.json.id}`, token: shop.token, headers: { 'if-match': etag }, body: { name: 'E2' } });
      assert.equal(ok.statusCode, 200);
      assert.notEqual(ok.headers.etag, etag);
      const stale = await call(t.app, { method: 'PATCH', url: `/api/users/${u.json.id}`, token: shop.token, headers: { 'if-match': etag }, body: { name: 'E3' } });
      assert.deepEqual(problemOf(stale), { status: 412, code: 'version_mismatch' });
      assert.equal((await call(t.app, { url: `/api/users/${u.json.id}`, token: shop.token })).json.name, 'E2');
    });

    test('the shop and customers carry ETags too: a stale If-Match is 412 and changes nothing', async () => {
      for (const [read, patch, field] of [
        ['/api/shop', { name: 'Renamed Shop' }, 'name'],
        [`/api/customers/${(await call(t.app, { method: 'POST', url: '/api/customers', token: shop.token, body: { email: 'etag-c@example.com' } })).json.id}`, { first_name: 'Eve' }, 'first_name'],
      ] as const) {
        const before = await call(t.app, { url: read, token: shop.token });
        const etag = String(before.headers.etag);
        assert.match(etag, /^"[a-z]+_[0-9a-z]+\.\d+"$/);
        assert.equal((await call(t.app, { url: read, token: shop.token, headers: { 'if-none-match': etag } })).statusCode, 304);
        const ok = await call(t.app, { method: 'PATCH', url: read, token: shop.token, headers: { 'if-match': etag }, body: patch });
        assert.equal(ok.statusCode, 200, ok.body);
        assert.notEqual(ok.headers.etag, etag);
        const stale = await call(t.app, { method: 'PATCH', url: read, token: shop.token, headers: { 'if-match': etag }, body: { [field]: 'Stale' } });
        assert.deepEqual(problemOf(stale), { status: 412, code: 'version_mismatch' }, read);
        assert.equal((await call(t.app, { url: read, token: shop.token })).json[field], Object.values(patch)[0]);
      }
    });

    test('security headers are sent', async () => {
      const r = await call(t.app, { url: '/api/health' });
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
      assert.ok(r.headers['strict-transport-security']);
    });

    test('logs never contain passwords, tokens or keys', async () => {
      const li = await call(t.app, { method: 'POST', url: '/api/auth/login', body: { shop: shop.slug, email: shop.email, password: PASSWORD } });
      const token = li.json.access_token as string;
      await call(t.app, { url: '/api/shop', token });
      await call(t.app, { url: '/api/auth/me', pk: shop.pk });
      await call(t.app, { method: 'POST', url: '/api/auth/refresh', body: { refresh_token: li.json.refresh_token } });
      await call(t.app, { method: 'POST', url: '/api/auth/login', body: { shop: shop.slug, email: shop.email, password: 'wrong-password-123' } });
      const all = logLines.join('');
      assert.ok(all.includes('incoming request'), 'requests are logged');
      for (const secret of [PASSWORD, 'wrong-password-123', token, token.split('.')[2] as string, li.json.refresh_token as string, shop.pk]) {
        assert.ok(!all.includes(secret), `a secret reached the log: ${secret.slice(0, 12)}…`);
      }
    });

    test('CORS is off by default', async () => {
      const r = await t.app.inject({ method: 'OPTIONS', url: '/api/products', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    });
  });

  describe(`CORS in development [${engine.name}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(engine, { env: { NODE_ENV: 'development' } });
    });
    after(() => t.close());
    test('with no CORS_ORIGINS, a storefront on localhost works at once; other origins get nothing', async () => {
      const ok = await t.app.inject({ method: 'OPTIONS', url: '/api/products', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-publishable-key' } });
      assert.equal(ok.statusCode, 204);
      assert.equal(ok.headers['access-control-allow-origin'], 'http://localhost:5173');
      const no = await t.app.inject({ method: 'OPTIONS', url: '/api/products', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      assert.equal(no.headers['access-control-allow-origin'], undefined);
    });
  });

  describe(`CORS configured [${engine.name}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(engine, { env: { CORS_ORIGINS: 'https://shop.example' } });
    });
    after(() => t.close());
    test('an allowed origin gets CORS headers; another does not', async () => {
      const ok = await t.app.inject({ method: 'OPTIONS', url: '/api/auth/me', headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET' } });
      assert.equal(ok.headers['access-control-allow-origin'], 'https://shop.example');
      const no = await t.app.inject({ method: 'OPTIONS', url: '/api/auth/me', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      assert.notEqual(no.headers['access-control-allow-origin'], 'https://evil.example');
    });
  });
}
