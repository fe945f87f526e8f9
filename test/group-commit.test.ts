// Embedded SQLite's group commit (src/db/group-commit.ts), on real database files: what concurrent transactions,
// failing ones, writes outside transactions and reads see. The driver exists only for SQLite; PostgreSQL commits
// each transaction itself, and the suite's other tests run every workflow on both engines through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { createDb } from '../src/db/database.ts';
import { GroupCommitDriver, groupCommitDialect } from '../src/db/group-commit.ts';

interface T {
  items: { id: number; label: string };
}

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'stockroom-gc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'db.sqlite');
}

function open(file: string): SQLite.Database {
  const d = new SQLite(file);
  d.pragma('journal_mode = WAL');
  d.pragma('synchronous = FULL');
  d.pragma('busy_timeout = 5000');
  return d;
}

/** What another process would see on disk: a connection of its own. */
function committed(file: string): string[] {
  const d = new SQLite(file, { readonly: true });
  try {
    return (d.prepare('select label from items order by id').all() as { label: string }[]).map((r) => r.label);
  } finally {
    d.close();
  }
}

test('concurrent transactions share commits; a failing one rolls back alone, the others whole', async (t) => {
  const file = scratch(t);
  const driver = new GroupCommitDriver(open(file), open(file));
  const db = new Kysely<T>({ dialect: groupCommitDialect(driver) });
  t.after(() => db.destroy());
  await sql`create table items (id integer primary key, label text not null)`.execute(db);
  const before = { ...driver.stats };

  const outcomes = await Promise.allSettled(
    Array.from({ length: 200 }, (_, i) =>
      db.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ id: i, label: `a${i}` }).execute();
        await new Promise((r) => setImmediate(r)); // others queue for the lock meanwhile
        await trx.insertInto('items').values({ id: 1000 + i, label: `b${i}` }).execute();
        if (i % 10 === 3) throw new Error(`no ${i}`);
        return i;
      }),
    ),
  );
  // Every transaction but the failing ones, whole; the failing ones not at all.
  const kept = outcomes.filter((o) => o.status === 'fulfilled').length;
  assert.equal(kept, 180);
  assert.equal(outcomes.filter((o) => o.status === 'rejected').length, 20);
  // Grouped: far fewer COMMITs than transactions, but a steady stream still commits in groups of at most 64.
  const commits = driver.stats.commits - before.commits;
  assert.ok(commits < 200, `${commits} commits`);
  assert.ok(commits >= Math.ceil(200 / 64), `${commits} commits`);
  assert.equal(driver.stats.transactions - before.transactions, 180);
  // In the file for a connection of another process once the last group committed.
  await driver.durable();
  const onDisk = committed(file);
  assert.equal(onDisk.length, 360);
  assert.ok(!onDisk.includes('a3') && !onDisk.includes('b13'));
});

test('a read outside a transaction neither waits for one nor sees what it has not committed', { timeout: 10_000 }, async (t) => {
  const file = scratch(t);
  const db = createDb({ dialect: 'sqlite', file } as Parameters<typeof createDb>[0]) as unknown as Kysely<T>;
  t.after(() => db.destroy());
  await sql`create table items (id integer primary key, label text not null)`.execute(db);
  await db.insertInto('items').values({ id: 1, label: 'before' }).execute();

  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let inserted!: () => void;
  const wrote = new Promise<void>((r) => (inserted = r));
  const tx = db.transaction().execute(async (trx) => {
    await trx.insertInto('items').values({ id: 2, label: 'inside' }).execute();
    inserted();
    await held; // the transaction holds the write lock here
  });
  await wrote;
  // Answered while the transaction still holds the lock, and without its uncommitted row.
  const seen = await db.selectFrom('items').select('label').orderBy('id').execute();
  assert.deepEqual(seen.map((r) => r.label), ['before']);
  // A write outside any transaction waits for the lock, then lands after the transaction, durable when it returns.
  let outsideDone = false;
  const outside = db.insertInto('items').values({ id: 3, label: 'outside' }).execute().then(() => (outsideDone = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(outsideDone, false, 'the write waited for the transaction');
  release();
  await tx;
  await outside;
  assert.deepEqual(committed(file), ['before', 'inside', 'outside']);
  const after = await db.selectFrom('items').select('label').orderBy('id').execute();
  assert.deepEqual(after.map((r) => r.label), ['before', 'inside', 'outside']);
});

test("ANALYZE reaches the reader too: reads outside a transaction plan with the statistics just written", async (t) => {
  const file = scratch(t);
  const db = createDb({ dialect: 'sqlite', file } as Parameters<typeof createDb>[0]) as unknown as Kysely<T>;
  t.after(() => db.destroy());
  await sql`create table lines (tenant_id text not null, id text not null, order_id text not null, primary key (tenant_id, id))`.execute(db);
  await sql`create index lines_order_idx on lines (tenant_id, order_id)`.execute(db);
  const plan = async () => (await sql<{ detail: string }>`explain query plan select * from lines where tenant_id = 'a' and order_id = 'b' order by id`.execute(db)).rows.map((r) => r.detail).join('; ');
  await plan(); // the reader has read the schema, without statistics
  await sql`analyze sqlite_schema`.execute(db);
  await sql`insert into sqlite_stat1 (tbl, idx, stat) values ('lines', 'sqlite_autoindex_lines_1', '1000000 100000 1'), ('lines', 'lines_order_idx', '1000000 100000 10')`.execute(db);
  await sql`analyze sqlite_schema`.execute(db);
  assert.match(await plan(), /lines_order_idx/);
});
