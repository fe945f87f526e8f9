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

/**
 * Group commit for embedded SQLite (`synchronous=FULL`): concurrent transactions share one SQLite transaction, each
 * in a savepoint of its own, and one COMMIT — one fsync — makes the whole group durable. A transaction's caller is
 * answered only after the COMMIT that includes it (see `durable`), so every acknowledged write is still on disk; a
 * crash before that COMMIT loses the whole group, none of which was acknowledged. A transaction that fails rolls
 * back to its savepoint only; the others in the group are untouched.
 *
 * The group commits when the connection goes idle (after the transactions already queued behind the lock have run)
 * or at once when a statement outside any transaction writes. Reads outside a transaction go to a second, read-only
 * connection, which sees only what is committed — so nobody reads what a crash could still take back.
 */
export class GroupCommitDriver implements Driver {
  private readonly write: SqliteHandle;
  private readonly read: SqliteHandle;
  private open = false;
  private inTransaction = false;
  private batch: Batch | null = null;
  private flushScheduled = false;
  private readonly connection: DatabaseConnection;
  /** Transactions in the group now (for the metrics and the benchmark's notes). */
  batchSize = 0;
  /** Groups committed, and transactions in them, since start. */
  readonly stats = { commits: 0, transactions: 0 };

  constructor(write: SqliteHandle, read: SqliteHandle) {
    this.write = write;
    this.read = read;
    this.connection = {
      executeQuery: async <R>(q: CompiledQuery): Promise<QueryResult<R>> => this.execute<R>(q),
      streamQuery: <R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> => this.stream<R>(q),
    };
  }

  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }
  async releaseConnection(): Promise<void> {
    if (this.open && !this.flushScheduled) {
      this.flushScheduled = true;
      // After whatever is queued behind the lock has run: the group is as large as the load makes it.
      setImmediate(() => {
        this.flushScheduled = false;
        // A transaction running now schedules the next flush when it lets go of the connection.
        if (!this.inTransaction) this.flush();
      });
    }
  }

  async beginTransaction(_c: DatabaseConnection, _s: TransactionSettings): Promise<void> {
    if (!this.open) {
      this.run('begin immediate');
      this.open = true;
      this.batch = newBatch();
    }
    this.run('savepoint group_tx');
    this.inTransaction = true;
    this.batchSize++;
  }
  async commitTransaction(): Promise<void> {
    this.run('release group_tx');
    this.inTransaction = false;
  }
  async rollbackTransaction(): Promise<void> {
    this.run('rollback to group_tx');
    this.run('release group_tx');
    this.inTransaction = false;
    this.batchSize--;
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
    if (this.open && !this.inTransaction) this.flush();
    this.read.close();
    this.write.close();
  }

  /** The COMMIT that will include the transaction running now: its caller waits for it before answering. */
  durable(): Promise<void> {
    return this.batch?.promise ?? Promise.resolve();
  }

  private run(sql: string): void {
    this.write.prepare(sql).run();
  }

  /** Commits the group: one fsync for every transaction in it. */
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

  private async execute<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = q;
    const stmt = this.write.prepare(sql);
    // Outside a transaction a read sees only what is committed (the read connection).
    if (!this.inTransaction && stmt.reader && stmt.readonly) return { rows: this.read.prepare(sql).all(parameters) as R[] };
    if (stmt.reader) {
      // A write with RETURNING, or a read inside a transaction.
      const rows = stmt.all(parameters) as R[];
      if (!this.inTransaction && this.open) this.flush();
      return { rows };
    }
    const { changes, lastInsertRowid } = stmt.run(parameters);
    // A write outside any transaction is its own transaction: durable before it returns, with the group.
    if (!this.inTransaction && this.open) this.flush();
    return { insertId: lastInsertRowid != null ? BigInt(lastInsertRowid) : undefined, numAffectedRows: changes != null ? BigInt(changes) : undefined, rows: [] };
  }

  private async *stream<R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const db = this.inTransaction ? this.write : this.read;
    for (const row of db.prepare(q.sql).iterate(q.parameters)) yield { rows: [row as R] };
  }
}

/** The Kysely dialect for embedded SQLite with group commit. */
export function groupCommitDialect(driver: GroupCommitDriver): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => driver,
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db: Kysely<unknown>) => new SqliteIntrospector(db),
  };
}
