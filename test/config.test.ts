import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  test('defaults give embedded SQLite under ./data', () => {
    const c = loadConfig({});
    assert.equal(c.database.dialect, 'sqlite');
    assert.match(c.database.dialect === 'sqlite' ? c.database.file : '', /data\/stockroom\.db$/);
    assert.equal(c.port, 3000);
    assert.equal(c.jwt.accessTtl, 900);
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ PORT: 'abc' }, /^PORT: /],
    [{ PORT: '70000' }, /^PORT: /],
    [{ ACCESS_TOKEN_TTL_SECONDS: '3600' }, /^ACCESS_TOKEN_TTL_SECONDS: /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: /],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ PLATFORM_SECRET: 'short' }, /^PLATFORM_SECRET: /],
    [{ SIGNUP_ENABLED: 'maybe' }, /^SIGNUP_ENABLED: /],
    [{ CORS_ORIGINS: 'not an origin' }, /^CORS_ORIGINS: /],
    [{ DATABASE_URL: 'postgres://localhost/x' }, /^JWT_PRIVATE_KEY: required/],
    [{ JWT_PRIVATE_KEY: 'hello' }, /^JWT_PRIVATE_KEY: /],
  ];
  for (const [env, re] of bad) {
    test(`refuses ${JSON.stringify(env)}`, () => {
      assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && re.test(e.message) && !e.message.includes('\n'));
    });
  }

  test('secrets are never echoed in the error', () => {
    assert.throws(() => loadConfig({ PLATFORM_SECRET: 'tiny-secret' }), (e: unknown) => e instanceof ConfigError && !e.message.includes('tiny-secret'));
  });

  test('`stockroom serve` with a bad value exits 78 with one line naming the variable, before touching anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stockroom-cfg-'));
    try {
      const r = spawnSync(process.execPath, ['bin/stockroom.js', 'serve'], { env: { ...process.env, PORT: 'not-a-port', DATA_DIR: dir, DATABASE_URL: '' }, encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 78, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1);
      assert.match(lines[0] as string, /PORT/);
      assert.equal(r.stdout, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the demo shop is seeded by default with SQLite only; its credentials are kept per database', async () => {
    const pem = (await import('../src/modules/auth/tokens.ts')).generatePrivateKeyPem();
    assert.equal(loadConfig({}).seedDemo, true);
    const pgCfg = loadConfig({ DATABASE_URL: 'postgres://app:secret@db:5432/shop', JWT_PRIVATE_KEY: pem });
    assert.equal(pgCfg.seedDemo, false, 'scale-out seeds only when asked');
    assert.equal(loadConfig({ DATABASE_URL: 'postgres://app:secret@db:5432/shop', JWT_PRIVATE_KEY: pem, SEED_DEMO: 'true' }).seedDemo, true);
    const { demoCredentialsFile } = await import('../src/seed.ts');
    const embedded = demoCredentialsFile(loadConfig({}));
    const scaleOut = demoCredentialsFile(pgCfg);
    assert.notEqual(scaleOut, embedded, 'trying scale-out in the same checkout does not overwrite the embedded password');
    assert.equal(demoCredentialsFile(loadConfig({ DATABASE_URL: 'postgres://app:other@db:5432/shop', JWT_PRIVATE_KEY: pem })), scaleOut, 'the file names the database, not the password');
  });
});

if (process.env.TEST_DATABASE_URL) {
  describe('stockroom db create and a database that does not exist [postgres]', () => {
    test('migrate says in one line how to create it; db create does; migrate then works', async () => {
      const pem = (await import('../src/modules/auth/tokens.ts')).generatePrivateKeyPem();
      const url = new URL(process.env.TEST_DATABASE_URL as string);
      const name = `stockroom_create_${Date.now()}`;
      url.pathname = `/${name}`;
      const run = (...args: string[]) => spawnSync(process.execPath, ['bin/stockroom.js', ...args], { env: { ...process.env, DATABASE_URL: url.toString(), JWT_PRIVATE_KEY: pem }, encoding: 'utf8', timeout: 30_000 });
      try {
        const missing = run('migrate');
        assert.equal(missing.status, 1);
        assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
        assert.match(missing.stderr, new RegExp(`the database "${name}" does not exist; create it with \`stockroom db create\``));
        assert.match(run('db', 'create').stdout, new RegExp(`created database "${name}"`));
        assert.match(run('db', 'create').stdout, /exists/);
        const up = run('migrate');
        assert.equal(up.status, 0, up.stderr);
      } finally {
        const { Client } = (await import('pg')).default;
        const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
        await admin.connect();
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    });
  });
}
