import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type Compilable, type CompiledQuery, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import { GroupCommitDriver, groupCommitDialect } from './group-commit.ts';
import pg from 'pg';
import type { DatabaseConfig } from '../config.ts';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { traced, tracer } from '../lib/origin.ts';
import type { Database } from './schema.ts';
import type { Executor } from '../context.ts';

export type Db = Kysely<Database>;
export type Dialect = DatabaseConfig['dialect'];

/** PostgreSQL values read back in the same shapes SQLite gives: ISO strings for time, numbers for bigint. */
const PG_TIMESTAMPTZ = 1184;
const PG_TIMESTAMP = 1114;
const PG_INT8 = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === PG_TIMESTAMPTZ || oid === PG_TIMESTAMP) return (v: string) => new Date(oid === PG_TIMESTAMP ? `${v}Z` : v).toISOString();
    if (oid === PG_INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Told of every statement's duration and SQL, in any database of this process (the metrics' query histogram). */
export const queryObservers = new Set<(ms: number, sql: string) => void>();

/** Told of every transaction's duration, begin to commit or rollback (the metrics' transaction histogram). */
export const transactionObservers = new Set<(ms: number) => void>();

/**
 * `onQuery` is told of every statement (tests count them: a GraphQL page must not cost one per item). Inside a
 * traced request or job, each statement and each transaction is a span of its trace.
 */
export function createDb(cfg: DatabaseConfig, opts: { onQuery?: (() => void) | undefined } = {}): Db {
  const system = cfg.dialect === 'postgres' ? 'postgresql' : 'sqlite';
  const log = (e: { level: string; queryDurationMillis: number; query: { sql: string } }): void => {
    if (e.level !== 'query') return;
    opts.onQuery?.();
    for (const o of queryObservers) o(e.queryDurationMillis, e.query.sql);
    if (trace.getSpan(context.active())) {
      // The statement has run: its span is drawn after the fact, from its start to now, under the active span.
      const end = Date.now();
      const text = e.query.sql;
      tracer.startSpan(`db ${(text.split(' ', 1)[0] ?? '').toLowerCase()}`, { kind: SpanKind.CLIENT, startTime: end - e.queryDurationMillis, attributes: { 'db.system.name': system, 'db.query.text': text.slice(0, 500) } }).end(end);
    }
  };
  if (cfg.dialect === 'postgres') {
    const pool = new pg.Pool({ connectionString: cfg.url, max: cfg.poolMax, types: pgTypes as pg.CustomTypesConfig });
    // An idle client that errors (server restart) must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    return measured(new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log }));
  }
  if (cfg.file === ':memory:') return measured(new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(open(cfg.file)) }), log }));
  mkdirSync(dirname(cfg.file), { recursive: true });
  // Group commit: concurrent transactions share one COMMIT (one fsync); reads outside a transaction use a second
  // connection that sees only committed data (group-commit.ts).
  const driver = new GroupCommitDriver(withStatementCache(open(cfg.file)), withStatementCache(open(cfg.file)));
  return measured(new Kysely<Database>({ dialect: groupCommitDialect(driver), log }), () => driver.durable());
}

function open(file: string): SQLite.Database {
  const database = new SQLite(file);
  // WAL for concurrent readers; synchronous=FULL so an acknowledged write survives power loss.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return database;
}

/**
 * Every transaction of this database timed (transactionObservers) and, in a traced request or job, a span. With
 * group commit, `execute` returns only once the COMMIT that includes the transaction is on disk.
 */
function measured(db: Db, durable?: () => Promise<void>): Db {
  const begin = db.transaction.bind(db);
  db.transaction = () => {
    const builder = begin();
    const execute = builder.execute.bind(builder);
    const run = async <T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> => {
      if (!durable) return execute(fn);
      let ticket: Promise<void> | null = null;
      const result = await execute(async (trx) => {
        const r = await fn(trx);
        ticket = durable(); // still inside: the group this transaction belongs to
        return r;
      });
      await (ticket as Promise<void> | null);
      return result;
    };
    builder.execute = async (fn) => {
      const t0 = performance.now();
      try {
        return trace.getSpan(context.active()) ? await traced('db transaction', {}, () => run(fn), 'internal') : await run(fn);
      } finally {
        const ms = performance.now() - t0;
        for (const o of transactionObservers) o(ms);
      }
    };
    return builder;
  };
  return db;
}

/**
 * Kysely's SQLite driver prepares every statement anew; preparing costs more than running most of ours. The same
 * SQL text always gets the same prepared statement (an LRU of 500). Safe: better-sqlite3 runs each statement to
 * completion synchronously, so a cached statement is never in use twice at once.
 */
function withStatementCache(database: SQLite.Database, max = 500) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = database.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema
export function dialectOf(db: Kysely<any>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * `column IN (…values)` for long lists: on PostgreSQL one array parameter (`= any($1)`), planned once, instead of a
 * parameter per value (a thousand of them cost more to plan than to run); on SQLite the plain IN list.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema
export function inList(db: Kysely<any>, column: string, values: readonly string[]): RawBuilder<SqlBool> {
  return dialectOf(db) === 'postgres' ? sql<SqlBool>`${sql.ref(column)} = any(${[...values]}::text[])` : sql<SqlBool>`${sql.ref(column)} in (${sql.join([...values])})`;
}

const SLOT = '\u0000slot:';

/**
 * A query built and compiled once per dialect, then run with new values: for the hottest look-ups (a key, a
 * version), where building the query object and compiling it cost more than SQLite takes to run it. `build` is
 * called once with a marker in place of each argument; each argument must land in the SQL as a parameter (not in
 * an IN list or a literal) — checked on that first build.
 */
export function prepared<A extends (string | number)[], O>(build: (db: Executor, ...args: A) => Compilable<O>): (db: Executor, ...args: A) => Promise<O[]> {
  const compiled = new Map<Dialect, { query: CompiledQuery<O>; slots: number[] }>();
  return async (db, ...args) => {
    const dialect = dialectOf(db);
    let c = compiled.get(dialect);
    if (!c) {
      const query = build(db, ...(args.map((_, i) => `${SLOT}${i}`) as A)).compile();
      const slots = query.parameters.map((p) => (typeof p === 'string' && p.startsWith(SLOT) ? Number(p.slice(SLOT.length)) : -1));
      if (args.some((_, i) => !slots.includes(i))) throw new Error(`prepared query: an argument is not a parameter of ${query.sql}`);
      c = { query, slots };
      compiled.set(dialect, c);
    }
    const { query, slots } = c;
    const parameters = slots.map((s, i) => (s >= 0 ? args[s] : query.parameters[i]));
    return (await db.executeQuery<O>({ ...query, parameters })).rows;
  };
}

/**
 * A read that must see writes still in flight on this node — another request's record that is not yet committed
 * (embedded SQLite's group commit holds a group open for a moment): it runs inside a transaction, so it joins the
 * group, and returns once what it saw is durable. Elsewhere (PostgreSQL, where nothing is held open) a plain read.
 */
export async function readInFlight<T>(db: Db, fn: (x: Executor) => Promise<T>): Promise<T> {
  return dialectOf(db) === 'sqlite' ? db.transaction().execute(fn) : fn(db);
}

export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

/** Unique-constraint violations look different per driver; callers only need to know it was one. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** PostgreSQL's code for "database does not exist" (the database named in DATABASE_URL was never created). */
export const PG_NO_DATABASE = '3D000';

/**
 * Creates the PostgreSQL database DATABASE_URL names, connecting to the server's `postgres` database with the same
 * role (which needs CREATEDB). 'exists' when it was there already.
 */
export async function createPostgresDatabase(url: string): Promise<'created' | 'exists'> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`create database ${client.escapeIdentifier(name)}`);
    return 'created';
  } catch (e) {
    if ((e as { code?: string }).code === '42P04') return 'exists';
    throw e;
  } finally {
    await client.end();
  }
}

/**
 * Runs `fn` inside a savepoint of the caller's transaction: on failure only its own writes are rolled back and the
 * transaction goes on (on PostgreSQL an error would otherwise abort the whole transaction).
 */
export async function withSavepoint<T>(trx: Kysely<Database>, name: string, fn: () => Promise<T>): Promise<T> {
  await sql`savepoint ${sql.id(name)}`.execute(trx);
  try {
    const r = await fn();
    await sql`release savepoint ${sql.id(name)}`.execute(trx);
    return r;
  } catch (e) {
    await sql`rollback to savepoint ${sql.id(name)}`.execute(trx);
    throw e;
  }
}
