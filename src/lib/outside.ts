/**
 * THE rule for calls that leave the process (payment providers, SMTP, webhook receivers, and the proxies and
 * brokers that come later): never while a database transaction is open. A transaction held across a network
 * round trip holds the only SQLite connection (every shop waits) or, on PostgreSQL, row locks and a pool
 * connection. Business actions that need an outside call run in phases instead (docs/architecture.md):
 * record the intent in one transaction, call outside, record the outcome in a second transaction.
 *
 * Every outside-call wrapper calls this with the executor it was handed; handing it a transaction is a bug
 * that fails loudly in every test that takes that path.
 */
export class OutsideCallInTransaction extends Error {
  constructor(what: string) {
    super(`${what} must not be called while a database transaction is open (docs/architecture.md, "Outside calls")`);
    this.name = 'OutsideCallInTransaction';
  }
}

export function assertOutsideTransaction(db: { readonly isTransaction: boolean }, what: string): void {
  if (db.isTransaction) throw new OutsideCallInTransaction(what);
}
