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
});
