import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { buildApp, type BuildOptions } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { createDb, type Db } from '../src/db/database.ts';
import { migrateUp } from '../src/db/migrator.ts';
import type { Clock } from '../src/lib/clock.ts';
import { generatePrivateKeyPem } from '../src/modules/auth/tokens.ts';

/**
 * Every suite runs once per engine: SQLite always; PostgreSQL (and Redis) when TEST_DATABASE_URL
 * (and TEST_REDIS_URL) are set. Each test file gets fresh databases, migrated from scratch.
 */
export interface Engine {
  name: 'sqlite' | 'postgres';
  redisUrl: string | null;
}

export function engines(): Engine[] {
  const list: Engine[] = [{ name: 'sqlite', redisUrl: null }];
  if (process.env.TEST_DATABASE_URL) list.push({ name: 'postgres', redisUrl: process.env.TEST_REDIS_URL || null });
  return list;
}

const SIGNING_KEY = generatePrivateKeyPem();

export const PLATFORM_SECRET = 'platform-secret-for-tests-0123456789abcdef';

export function testConfig(engine: Engine, dataDir: string, dbConfig: Config['database'], env: Record<string, string> = {}): Config {
  const cfg = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    JWT_PRIVATE_KEY: SIGNING_KEY,
    PLATFORM_SECRET,
    RATE_LIMIT_PER_IP: '100000',
    RATE_LIMIT_PER_PRINCIPAL: '100000',
    REDIS_URL: engine.redisUrl ?? '',
    SEED_DEMO: 'false',
    ...env,
  });
  return { ...cfg, database: dbConfig };
}

/** Statements run through test databases, for tests that count them (no N+1). */
export const statements = { count: 0 };
const onQuery = () => void statements.count++;

export interface TestDb {
  db: Db;
  database: Config['database'];
  drop(): Promise<void>;
}

/** A fresh, empty database of the engine (a temp file, or a new PostgreSQL database). */
export async function freshDatabase(engine: Engine, dataDir: string): Promise<TestDb> {
  if (engine.name === 'sqlite') {
    const database = { dialect: 'sqlite' as const, file: join(dataDir, `test-${randomBytes(4).toString('hex')}.db`) };
    const db = createDb(database, { onQuery });
    return { db, database, drop: () => db.destroy() };
  }
  const adminUrl = process.env.TEST_DATABASE_URL as string;
  const name = `stockroom_test_${randomBytes(6).toString('hex')}`;
  const admin = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: adminUrl, max: 1 }) }) });
  await sql`create database ${sql.id(name)}`.execute(admin);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = { dialect: 'postgres' as const, url: url.toString(), poolMax: 10 };
  const db = createDb(database, { onQuery });
  return {
    db,
    database,
    async drop() {
      await db.destroy();
      await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
      await admin.destroy();
    },
  };
}

export interface TestApp {
  engine: Engine;
  app: FastifyInstance;
  db: Db;
  config: Config;
  close(): Promise<void>;
}

/** A migrated database and an app on it. */
export async function startApp(
  engine: Engine,
  opts: { env?: Record<string, string>; clock?: Clock; logger?: BuildOptions['logger']; redisPrefix?: string; checkoutProbe?: BuildOptions['checkoutProbe']; providers?: BuildOptions['providers']; realtimeTimings?: BuildOptions['realtimeTimings'] } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stockroom-test-'));
  const tdb = await freshDatabase(engine, dataDir);
  await migrateUp(tdb.db);
  const config = testConfig(engine, dataDir, tdb.database, opts.env);
  const app = await buildApp({ config, db: tdb.db, clock: opts.clock, logger: opts.logger, redisPrefix: opts.redisPrefix ?? `test:${randomBytes(6).toString('hex')}:`, checkoutProbe: opts.checkoutProbe, providers: opts.providers, realtimeTimings: opts.realtimeTimings });
  await app.ready();
  return {
    engine,
    app,
    db: tdb.db,
    config,
    async close() {
      await app.close();
      await tdb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// --- requests ------------------------------------------------------------------------------------

export type Json = Record<string, unknown> & { data?: Record<string, unknown>[] };

export interface Call {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  token?: string;
  pk?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export async function call(app: FastifyInstance, c: Call): Promise<Omit<LightMyRequestResponse, 'json'> & { json: Json }> {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  if (c.token) headers.authorization = `Bearer ${c.token}`;
  if (c.pk) headers['x-publishable-key'] = c.pk;
  const res = await app.inject({ method: c.method ?? 'GET', url: c.url, headers, ...(c.body !== undefined ? { payload: c.body as object } : {}) });
  let json: Json;
  try {
    json = res.body ? (JSON.parse(res.body) as Json) : {};
  } catch {
    json = {};
  }
  return Object.assign(res as Omit<LightMyRequestResponse, 'json'>, { json });
}

export const PASSWORD = 'correct horse battery staple';

export interface Shop {
  tenantId: string;
  slug: string;
  ownerId: string;
  email: string;
  pk: string;
  token: string;
  refresh: string;
}

/** A new shop through the public API, with its owner logged in. */
export async function createShop(app: FastifyInstance, name = `Shop ${randomBytes(3).toString('hex')}`): Promise<Shop> {
  const email = `owner-${randomBytes(4).toString('hex')}@example.com`;
  const r = await call(app, { method: 'POST', url: '/api/signup', body: { shop_name: name, email, password: PASSWORD } });
  if (r.statusCode !== 201) throw new Error(`signup failed: ${r.statusCode} ${r.body}`);
  const tenant = r.json.tenant as { id: string; slug: string };
  const owner = r.json.owner as { id: string };
  const login = await call(app, { method: 'POST', url: '/api/auth/login', body: { shop: tenant.slug, email, password: PASSWORD } });
  if (login.statusCode !== 200) throw new Error(`login failed: ${login.statusCode} ${login.body}`);
  return { tenantId: tenant.id, slug: tenant.slug, ownerId: owner.id, email, pk: r.json.publishable_key as string, token: login.json.access_token as string, refresh: login.json.refresh_token as string };
}

export async function login(app: FastifyInstance, shop: string, email: string, password = PASSWORD) {
  return call(app, { method: 'POST', url: '/api/auth/login', body: { shop, email, password } });
}

/** Every problem+json carries these; a test of an error checks them through this. */
export function problemOf(res: { statusCode: number; headers: Record<string, unknown>; json: Json }): { status: number; code: string } {
  const ct = String(res.headers['content-type'] ?? '');
  if (!ct.startsWith('application/problem+json')) throw new Error(`expected problem+json, got ${ct} (${res.statusCode})`);
  return { status: res.json.status as number, code: res.json.code as string };
}
