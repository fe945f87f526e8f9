import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT, UnsecuredJWT, decodeJwt } from 'jose';
import { ManualClock } from '../src/lib/clock.ts';
import { PASSWORD, call, createShop, engines, login, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';

for (const engine of engines()) {
  describe(`auth [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    const clock = new ManualClock(new Date());
    before(async () => {
      t = await startApp(engine, { clock, env: { LOGIN_MAX_FAILURES: '3', LOGIN_LOCKOUT_SECONDS: '600' } });
      shop = await createShop(t.app);
    });
    after(() => t.close());

    test('login returns a short-lived EdDSA JWT with iss, aud, exp and an opaque refresh token', async () => {
      const r = await login(t.app, shop.slug, shop.email);
      assert.equal(r.statusCode, 200);
      assert.equal(r.json.token_type, 'Bearer');
      assert.ok((r.json.expires_in as number) <= 900);
      const [h] = (r.json.access_token as string).split('.');
      assert.equal(JSON.parse(Buffer.from(h as string, 'base64url').toString()).alg, 'EdDSA');
      const claims = decodeJwt(r.json.access_token as string);
      assert.equal(claims.iss, 'stockroom');
      assert.equal(claims.aud, 'stockroom-api');
      assert.equal(claims.tid, shop.tenantId);
      assert.ok((claims.exp as number) - (claims.iat as number) <= 900);
      assert.match(r.json.refresh_token as string, /^rt_/);
      const me = await call(t.app, { url: '/api/auth/me', token: r.json.access_token as string });
      assert.equal(me.statusCode, 200);
      assert.equal(me.json.id, shop.ownerId);
      assert.ok((me.json.permissions as string[]).includes('users:write'));
    });

    test('passwords are stored as argon2id hashes at OWASP parameters', async () => {
      const row = await t.db.selectFrom('users').select('password_hash').where('tenant_id', '=', shop.tenantId).where('id', '=', shop.ownerId).executeTakeFirstOrThrow();
      assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
      assert.ok(!row.password_hash.includes(PASSWORD));
    });

    test('wrong password and unknown shop answer the same 401', async () => {
      const bad = await login(t.app, shop.slug, shop.email, 'wrong password!!');
      const noShop = await login(t.app, 'no-such-shop', shop.email);
      assert.deepEqual(problemOf(bad), { status: 401, code: 'invalid_credentials' });
      assert.deepEqual(problemOf(noShop), { status: 401, code: 'invalid_credentials' });
    });

    test('repeated failed logins are throttled with 429 and Retry-After, even with the right password', async () => {
      const other = await createShop(t.app);
      for (let i = 0; i < 3; i++) assert.equal((await login(t.app, other.slug, other.email, 'not the password')).statusCode, 401);
      const blocked = await login(t.app, other.slug, other.email);
      assert.deepEqual(problemOf(blocked), { status: 429, code: 'too_many_login_attempts' });
      assert.ok(Number(blocked.headers['retry-after']) > 0);
    });

    describe('forged access tokens are refused with 401', () => {
      const forged: Record<string, () => Promise<string>> = {
        'alg none': async () => new UnsecuredJWT({ tid: shop.tenantId, sid: 'ses_x', typ: 'user' }).setSubject(shop.ownerId).setIssuer('stockroom').setAudience('stockroom-api').setExpirationTime('10m').encode(),
        'signed with another key': async () => {
          const { privateKey } = generateKeyPairSync('ed25519');
          const claims = decodeJwt(shop.token);
          return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).sign(privateKey);
        },
        'HS256 with the public key as secret': async () => {
          const jwks = await call(t.app, { url: '/api/auth/jwks' });
          const x = (jwks.json.keys as { x: string }[])[0]?.x as string;
          return new SignJWT(decodeJwt(shop.token)).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode(x));
        },
        tampered: async () => {
          const [h, p, s] = shop.token.split('.') as [string, string, string];
          const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
          claims.sub = 'usr_01aaaaaaaaaaaaaaaaaaaaaaaa';
          return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
        },
        'wrong audience': async () => signWithAppKey({ aud: 'another-api' }),
        'wrong issuer': async () => signWithAppKey({ iss: 'evil' }),
        'valid signature, but made to live ten years': async () => signWithAppKey({ lifetime: 10 * 365 * 86_400 }),
        expired: async () => {
          const r = await login(t.app, shop.slug, shop.email);
          clock.advance(16 * 60 * 1000);
          return r.json.access_token as string;
        },
        garbage: async () => 'not.a.jwt',
      };
      async function signWithAppKey(over: { aud?: string; iss?: string; lifetime?: number }): Promise<string> {
        const { createPrivateKey } = await import('node:crypto');
        const key = createPrivateKey(t.config.jwt.privateKeyPem as string);
        const c = decodeJwt(shop.token);
        return new SignJWT({ tid: c.tid, sid: c.sid, typ: c.typ })
          .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
          .setSubject(c.sub as string)
          .setIssuer(over.iss ?? 'stockroom')
          .setAudience(over.aud ?? 'stockroom-api')
          .setIssuedAt(Math.floor(clock.now().getTime() / 1000))
          .setExpirationTime(Math.floor(clock.now().getTime() / 1000) + (over.lifetime ?? 600))
          .sign(key);
      }
      for (const [name, make] of Object.entries(forged)) {
        test(name, async () => {
          const token = await make();
          const r = await call(t.app, { url: '/api/users', token });
          assert.equal(problemOf(r).status, 401, `${name}: ${r.body}`);
        });
      }
      test('an expired genuine token says token_expired (refresh), a forged one invalid_token, a missing one asks for a credential — each with WWW-Authenticate', async () => {
        const expired = await call(t.app, { url: '/api/users', token: await forged.expired!() });
        assert.deepEqual(problemOf(expired), { status: 401, code: 'token_expired' });
        assert.match(String(expired.headers['www-authenticate']), /^Bearer realm="stockroom", error="invalid_token", error_description="[^"]+"$/);
        const bad = await call(t.app, { url: '/api/users', token: 'not.a.jwt' });
        assert.deepEqual(problemOf(bad), { status: 401, code: 'invalid_token' });
        assert.match(String(bad.headers['www-authenticate']), /error="invalid_token"/);
        const none = await call(t.app, { url: '/api/users' });
        assert.deepEqual(problemOf(none), { status: 401, code: 'authentication_required' });
        assert.equal(none.headers['www-authenticate'], 'Bearer realm="stockroom"');
      });
      test('a genuine token minted by the same code passes (the forgeries fail for their flaw alone)', async () => {
        const fresh = await login(t.app, shop.slug, shop.email);
        assert.equal((await call(t.app, { url: '/api/users', token: fresh.json.access_token as string })).statusCode, 200);
        assert.equal((await call(t.app, { url: '/api/users', token: await signWithAppKey({}) })).statusCode, 200);
      });
    });

    test('refresh rotates: the new pair works, the old refresh token is spent', async () => {
      const first = await login(t.app, shop.slug, shop.email);
      const second = await call(t.app, { method: 'POST', url: '/api/auth/refresh', body: { refresh_token: first.json.refresh_token } });
      assert.equal(second.statusCode, 200);
      assert.notEqual(second.json.refresh_token, first.json.refresh_token);
      assert.equal((await call(t.app, { url: '/api/auth/me', token: second.json.access_token as string })).statusCode, 200);
      const third = await call(t.app, { method: 'POST', url: '/api/auth/refresh', body: { refresh_token: second.json.refresh_token } });
      assert.equal(third.statusCode, 200);
    });

    test('reusing a spent refresh token revokes the whole family, access tokens included', async () => {
      const first = await login(t.app, shop.slug, shop.email);
      const second = await call(t.app, { method: 'POST', url: '/api/auth/refresh', body: { refresh_token: first.json.refresh_token } });
      assert.equal(second.statusCode, 200);
      const reuse = await call(t.app, { method: 'POST', url: '/api/auth/refresh', body: { refresh_token: first.json.refresh_token } });
      assert.deepEqual(problemOf(reuse), { status: 401, code: 'refresh_token_reused' });
      // The legitimate-looking newest token of the family is dead too, and so is its access token.
      const next = await call(t.app, { method: 'POST', url: '/api/auth/refresh', body: { refresh_token: second.json.refresh_token } });
      assert.deepEqual(problemOf(next), { status: 401, code: 'session_revoked' });
      assert.equal((await call(t.app, { url: '/api/auth/me', token: second.json.access_token as string })).statusCode, 401);
      // Other sessions of the same user live on.
      const other = await login(t.app, shop.slug, shop.email);
      assert.equal((await call(t.app, { url: '/api/auth/me', token: other.json.access_token as string })).statusCode, 200);
    });

    test('logout ends the session at once', async () => {
      const s = await login(t.app, shop.slug, shop.email);
      const token = s.json.access_token as string;
      assert.equal((await call(t.app, { method: 'POST', url: '/api/auth/logout', token, body: {} })).statusCode, 204);
      assert.equal((await call(t.app, { url: '/api/auth/me', token })).statusCode, 401);
      const r = await call(t.app, { method: 'POST', url: '/api/auth/refresh', body: { refresh_token: s.json.refresh_token } });
      assert.equal(problemOf(r).code, 'session_revoked');
    });

    test('malformed refresh tokens are 401, never 500', async () => {
      for (const refresh_token of ['x', 'rt_', `rt_${'z'.repeat(69)}`, "rt_' or 1=1 --"]) {
        const r = await call(t.app, { method: 'POST', url: '/api/auth/refresh', body: { refresh_token } });
        assert.deepEqual(problemOf(r), { status: 401, code: 'invalid_refresh_token' });
      }
    });

    test('customers register and log in through the publishable key; their token is for their shop only', async () => {
      const reg = await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email: 'Ann@Example.com', password: PASSWORD, first_name: 'Ann' } });
      assert.equal(reg.statusCode, 201, reg.body);
      assert.equal((reg.json.customer as { email: string }).email, 'ann@example.com');
      const li = await call(t.app, { method: 'POST', url: '/api/customers/login', pk: shop.pk, body: { email: 'ann@example.com', password: PASSWORD } });
      assert.equal(li.statusCode, 200);
      const me = await call(t.app, { url: '/api/customers/me', token: li.json.access_token as string });
      assert.equal(me.json.first_name, 'Ann');
      // A customer token opens no staff route.
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/users', token: li.json.access_token as string })), { status: 403, code: 'principal_not_allowed' });
      // Registering the same email again is a conflict; logging in to another shop with it fails.
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email: 'ann@example.com', password: PASSWORD } })).code, 'email_taken');
      const other = await createShop(t.app);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/customers/login', pk: other.pk, body: { email: 'ann@example.com', password: PASSWORD } })).code, 'invalid_credentials');
    });

    test('secret API keys: shown once, stored hashed, scoped, revocable at once', async () => {
      shop.token = (await login(t.app, shop.slug, shop.email)).json.access_token as string; // the clock moved on above
      const created = await call(t.app, { method: 'POST', url: '/api/api-keys', token: shop.token, body: { type: 'secret', name: 'erp', permissions: ['customers:read'] } });
      assert.equal(created.statusCode, 201);
      const key = created.json.key as string;
      assert.match(key, /^sk_/);
      const row = await t.db.selectFrom('api_keys').selectAll().where('tenant_id', '=', shop.tenantId).where('id', '=', created.json.id as string).executeTakeFirstOrThrow();
      assert.equal(row.token, null);
      assert.notEqual(row.token_hash, key);
      const read = await call(t.app, { url: `/api/api-keys/${created.json.id}`, token: shop.token });
      assert.equal(read.json.key, null);
      assert.equal((await call(t.app, { url: '/api/customers', token: key })).statusCode, 200);
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/users', token: key })), { status: 403, code: 'permission_denied' });
      assert.equal((await call(t.app, { method: 'DELETE', url: `/api/api-keys/${created.json.id}`, token: shop.token })).statusCode, 200);
      assert.deepEqual(problemOf(await call(t.app, { url: '/api/customers', token: key })), { status: 401, code: 'invalid_api_key' });
    });
  });
}

for (const engine of engines()) {
  describe(`logout by refresh token [${engine.name}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(engine);
    });
    after(() => t.close());
    test('a client whose access token expired can still end its session with the refresh token', async () => {
      const shop = await createShop(t.app);
      const r = await call(t.app, { method: 'POST', url: '/api/auth/logout', body: { refresh_token: shop.refresh } });
      assert.equal(r.statusCode, 204);
      assert.equal((await call(t.app, { url: '/api/auth/me', token: shop.token })).statusCode, 401);
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/auth/logout' })), { status: 401, code: 'authentication_required' });
    });
  });
}

for (const engine of engines()) {
  describe(`login throttling by address [${engine.name}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startApp(engine, { env: { LOGIN_MAX_FAILURES: '3', LOGIN_LOCKOUT_SECONDS: '600' } });
    });
    after(() => t.close());
    test('an address spraying failures is throttled for new accounts only: staff who logged in from it before still can', async () => {
      const office = await createShop(t.app); // its owner logged in from this address
      const newcomer = await call(t.app, { method: 'POST', url: '/api/users', token: office.token, body: { email: 'newcomer@example.com', name: 'New', password: PASSWORD, role_id: (await call(t.app, { url: '/api/roles', token: office.token })).json.data?.find((r) => r.key === 'clerk')?.id } });
      assert.equal(newcomer.statusCode, 201, newcomer.body);
      // 3 failures per account × 20 = 60 failures from one address, spread so no account itself is locked.
      let failures = 0;
      while ((await login(t.app, office.slug, `nobody-${failures % 30}@example.com`, 'guess')).statusCode === 401 && failures < 100) failures++;
      assert.equal(failures, 60, 'the address is throttled after 60 failures');
      assert.deepEqual(problemOf(await login(t.app, office.slug, 'nobody-99@example.com', 'guess')), { status: 429, code: 'too_many_login_attempts' });
      assert.deepEqual(problemOf(await login(t.app, office.slug, 'newcomer@example.com')), { status: 429, code: 'too_many_login_attempts' }, 'never logged in from here');
      assert.equal((await login(t.app, office.slug, office.email)).statusCode, 200, 'the owner who logged in from here before is not locked out');
    });
  });
}
