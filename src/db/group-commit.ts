import type SQLite from 'better-sqlite3';
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type Kysely, type QueryResult, type TransactionSettings } from 'kysely';

/** better-sqlite3 databases with a statement cache (database.ts). */
export interface SqliteHandle {
  prepare(sql: string): SQLite.Statement;
  close(): void;
}

interface Batch {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // a batch nobody waits for must not be an unhandled rejection
  return { promise, resolve, reject };
}

/** A first-come, first-served lock: the write connection's, held by one transaction (or one write) at a time. */
class WriteLock {
  private held = false;
  private readonly waiting: (() => void)[] = [];
  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}

/** One use of the database as Kysely sees it: a single statement, or a transaction from begin to commit. */
interface Use extends DatabaseConnection {
  inTransaction: boolean;
}

/** A group is committed at once when it holds this many transactions, or has been open this long. */
const MAX_GROUP = 64;
const MAX_GROUP_MS = 8;

/**
 * Group commit for embedded SQLite (`synchronous=FULL`): concurrent transactions share one SQLite transaction, each
 * in a savepoint of its own, and one COMMIT — one fsync — makes the whole group durable. A transaction's caller is
 * answered only after the COMMIT that includes it (see `durable`), so every acknowledged write is still on disk; a
 * crash before that COMMIT loses the whole group, none of which was acknowledged. A transaction that fails rolls
 * back to its savepoint only; the others in the group are untouched.
 *
 * Transactions and writes take the write connection's lock in turn. The group commits when the lock goes free
 * (after the transactions already waiting for it have run), when it holds MAX_GROUP transactions or has been open
 * MAX_GROUP_MS (so a steady stream of work still commits). A write outside any transaction joins an open group as
 * a transaction of one statement, or commits alone. Reads outside a transaction take no lock: they go to a second
 * connection, which sees only what is committed — so nobody reads what a crash could still take back, and nobody
 * waits behind a transaction to read.
 */
export class GroupCommitDriver implements Driver {
  private readonly write: SqliteHandle;
  private readonly read: SqliteHandle;
  private readonly lock = new WriteLock();
  private open = false;
  private openedAt = 0;
  private batch: Batch | null = null;
  private flushScheduled = false;
  /** Transactions in the open group. */
  private batchSize = 0;
  /** Groups committed, and transactions in them, since start (the tests read them). */
  readonly stats = { commits: 0, transactions: 0 };

  constructor(write: SqliteHandle, read: SqliteHandle) {
    this.write = write;
    this.read = read;
  }

  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    const use: Use = {
      inTransaction: false,
      executeQuery: async <R>(q: CompiledQuery): Promise<QueryResult<R>> => this.execute<R>(use, q),
      streamQuery: <R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> => this.stream<R>(use, q),
    };
    return use;
  }
  async releaseConnection(): Promise<void> {}

  async beginTransaction(c: DatabaseConnection, _s: TransactionSettings): Promise<void> {
    await this.lock.acquire();
    try {
      this.enter();
    } catch (e) {
      this.lock.release();
      throw e;
    }
    (c as Use).inTransaction = true;
  }

  /** Opens the group if none is open, and a savepoint in it (the lock held). */
  private enter(): void {
    if (!this.open) {
      this.run('begin immediate');
      this.open = true;
      this.openedAt = performance.now();
      this.batch = newBatch();
    }
    this.run('savepoint group_tx');
    this.batchSize++;
  }

  /** Closes the savepoint `enter` opened: kept in the group, or undone (the rest of the group untouched). */
  private leave(keep: boolean): void {
    if (!keep) {
      this.run('rollback to group_tx');
      this.batchSize--;
    }
    this.run('release group_tx');
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    try {
      this.leave(true);
    } finally {
      this.letGo(c as Use);
    }
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    try {
      this.leave(false);
    } finally {
      this.letGo(c as Use);
    }
  }
  async savepoint(_c: DatabaseConnection, name: string): Promise<void> {
    this.run(`savepoint "${name}"`);
  }
  async rollbackToSavepoint(_c: DatabaseConnection, name: string): Promise<void> {
    this.run(`rollback to "${name}"`);
  }
  async releaseSavepoint(_c: DatabaseConnection, name: string): Promise<void> {
    this.run(`release "${name}"`);
  }
  async destroy(): Promise<void> {
    await this.lock.acquire();
    this.flush();
    this.read.close();
    this.write.close();
  }

  /** The COMMIT that will include the transaction running now: its caller waits for it before answering. */
  durable(): Promise<void> {
    return this.batch?.promise ?? Promise.resolve();
  }

  /** The end of a transaction: commit the group now if it is big or old enough, else once the lock goes free. */
  private letGo(use: Use): void {
    use.inTransaction = false;
    if (this.open && (this.batchSize >= MAX_GROUP || performance.now() - this.openedAt >= MAX_GROUP_MS)) this.flush();
    this.lock.release();
    if (this.open && !this.flushScheduled) {
      this.flushScheduled = true;
      // After whatever is waiting for the lock has run: the group is as large as the load makes it.
      setImmediate(() => {
        this.flushScheduled = false;
        if (!this.open) return;
        void this.lock.acquire().then(() => {
          this.flush();
          this.lock.release();
        });
      });
    }
  }

  private run(sql: string): void {
    this.write.prepare(sql).run();
  }

  /** Commits the group: one fsync for every transaction in it. Only with the lock held. */
  private flush(): void {
    if (!this.open) return;
    const batch = this.batch as Batch;
    const size = this.batchSize;
    this.open = false;
    this.batch = null;
    this.batchSize = 0;
    try {
      this.run('commit');
      this.stats.commits++;
      this.stats.transactions += size;
      batch.resolve();
    } catch (e) {
      try {
        this.run('rollback');
      } catch {
        // already rolled back by SQLite
      }
      batch.reject(e);
    }
  }

  private async execute<R>(use: Use, q: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = q;
    if (use.inTransaction) return this.runOn<R>(this.write.prepare(sql), parameters);
    const stmt = this.write.prepare(sql);
    // Outside a transaction a read sees only what is committed (the read connection), without waiting.
    if (stmt.reader && stmt.readonly) return { rows: this.read.prepare(sql).all(parameters) as R[] };
    // A write outside any transaction: while a group is open it joins it as a transaction of one statement and
    // returns once the group's COMMIT is on disk; otherwise it commits alone (SQLite's autocommit), holding nothing
    // open — another process's writer never waits for a group that only a single write would have opened.
    await this.lock.acquire();
    if (!this.open) {
      try {
        const result = this.runOn<R>(stmt, parameters);
        // ANALYZE reloads the planner's statistics on the connection that runs it: the reader needs them too.
        if (/^\s*analyze\b/i.test(sql)) this.read.prepare(sql).run(parameters);
        return result;
      } finally {
        this.lock.release();
      }
    }
    let result: QueryResult<R>;
    let batch: Batch;
    try {
      this.enter();
      batch = this.batch as Batch;
      try {
        result = this.runOn<R>(stmt, parameters);
      } catch (e) {
        this.leave(false);
        throw e;
      }
      this.leave(true);
    } finally {
      this.letGo(use);
    }
    await batch.promise;
    return result;
  }

  private runOn<R>(stmt: SQLite.Statement, parameters: readonly unknown[]): QueryResult<R> {
    if (stmt.reader) return { rows: stmt.all(parameters) as R[] };
    const { changes, lastInsertRowid } = stmt.run(parameters);
    return { insertId: lastInsertRowid != null ? BigInt(lastInsertRowid) : undefined, numAffectedRows: changes != null ? BigInt(changes) : undefined, rows: [] };
  }

  private async *stream<R>(use: Use, q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // Read whole first: a cached statement must not stay busy across the awaits of a reader that takes no lock.
    const rows = (use.inTransaction ? this.write : this.read).prepare(q.sql).all(q.parameters) as R[];
    for (const row of rows) yield { rows: [row] };
  }
}

/** SQLite that Kysely may use from several callers at once: the driver serialises what must be (its write lock). */
class GroupCommitAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

/** The Kysely dialect for embedded SQLite with group commit. */
export function groupCommitDialect(driver: GroupCommitDriver): Dialect {
  return {
    createAdapter: () => new GroupCommitAdapter(),
    createDriver: () => driver,
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
  };
}
