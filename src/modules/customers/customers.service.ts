import type { Ctx, Executor } from '../../context.ts';
import type { CustomersTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { conflict, notFound, preconditionFailed } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page } from '../../lib/pagination.ts';
import { checkPasswordStrength, hashPassword } from '../../lib/passwords.ts';
import { customersRepository as repo } from './customers.repository.ts';
import { emitEvent } from '../events/index.ts';

export interface Customer {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  status: 'active' | 'disabled';
  has_account: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}

const toCustomer = (c: CustomersTable): Customer => ({
  id: c.id,
  email: c.email,
  first_name: c.first_name,
  last_name: c.last_name,
  status: c.status,
  has_account: c.password_hash !== null,
  version: c.version,
  created_at: c.created_at,
  updated_at: c.updated_at,
});

const normaliseEmail = (e: string) => e.trim().toLowerCase();

export interface CustomerInput {
  email: string;
  first_name?: string | undefined;
  last_name?: string | undefined;
}

/**
 * A shopper creates an account with a password. If staff (or an earlier guest checkout) already made a
 * customer with this email but no password, the shopper claims that record; otherwise the email is taken.
 */
export async function registerCustomer(ctx: Ctx, input: CustomerInput & { password: string }): Promise<Customer> {
  checkPasswordStrength(input.password);
  const email = normaliseEmail(input.email);
  const hash = await hashPassword(input.password);
  const now = ctx.clock.now().toISOString();
  const existing = await repo.findByEmail(ctx.db, ctx.tenantId, email);
  if (existing) {
    if (existing.password_hash !== null) throw conflict('email_taken', 'An account with this email exists; log in instead');
    await repo.update(ctx.db, ctx.tenantId, existing.id, {
      password_hash: hash,
      first_name: input.first_name ?? existing.first_name,
      last_name: input.last_name ?? existing.last_name,
      updated_at: now,
    });
    return getCustomer(ctx, existing.id);
  }
  return insertCustomer(ctx, { ...input, email }, hash);
}

async function insertCustomer(ctx: Ctx, input: CustomerInput, passwordHash: string | null): Promise<Customer> {
  const now = ctx.clock.now().toISOString();
  const row: CustomersTable = {
    tenant_id: ctx.tenantId,
    id: newId('customer'),
    email: normaliseEmail(input.email),
    first_name: input.first_name ?? '',
    last_name: input.last_name ?? '',
    password_hash: passwordHash,
    status: 'active',
    version: 1,
    created_at: now,
    updated_at: now,
  };
  try {
    await repo.insert(ctx.db, row);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('email_taken', 'A customer with this email exists');
    throw e;
  }
  await emitEvent(ctx.db, ctx.tenantId, 'customer.created', row.id, { customer_id: row.id, email: row.email, first_name: row.first_name, last_name: row.last_name, has_account: passwordHash !== null }, now);
  return toCustomer(row);
}

/** Staff create a customer record (no password: the shopper can register later to claim it). */
export async function createCustomer(ctx: Ctx, input: CustomerInput): Promise<Customer> {
  return insertCustomer(ctx, input, null);
}

export async function getCustomer(ctx: Pick<Ctx, 'db' | 'tenantId'>, id: string): Promise<Customer> {
  const c = await repo.find(ctx.db, ctx.tenantId, id);
  if (!c) throw notFound('Customer');
  return toCustomer(c);
}

export async function listCustomers(ctx: Ctx, opts: { limit: number; cursor?: string | undefined; email?: string | undefined }): Promise<Page<Customer>> {
  const rows = await repo.list(ctx.db, ctx.tenantId, { limit: opts.limit, after: decodeCursor(opts.cursor), email: opts.email ? normaliseEmail(opts.email) : undefined });
  return toPage(rows.map(toCustomer), opts.limit);
}

export async function updateCustomer(
  ctx: Ctx,
  id: string,
  patch: { email?: string | undefined; first_name?: string | undefined; last_name?: string | undefined; status?: 'active' | 'disabled' | undefined },
  expectedVersion: number | null = null,
): Promise<Customer> {
  await getCustomer(ctx, id);
  const next: Partial<CustomersTable> = { updated_at: ctx.clock.now().toISOString() };
  if (patch.email !== undefined) next.email = normaliseEmail(patch.email);
  if (patch.first_name !== undefined) next.first_name = patch.first_name;
  if (patch.last_name !== undefined) next.last_name = patch.last_name;
  if (patch.status !== undefined) next.status = patch.status;
  try {
    if (!(await repo.update(ctx.db, ctx.tenantId, id, next, expectedVersion))) throw preconditionFailed('version_mismatch', 'The customer changed since you read it (If-Match names an old version)');
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('email_taken', 'A customer with this email exists');
    throw e;
  }
  return getCustomer(ctx, id);
}

export async function findCustomerCredentials(db: Executor, tenantId: string, email: string) {
  const c = await repo.findByEmail(db, tenantId, normaliseEmail(email));
  return c && { id: c.id, password_hash: c.password_hash, status: c.status };
}

/** For the password-reset flow. */
export async function setCustomerPassword(db: Executor, clock: { now(): Date }, tenantId: string, customerId: string, password: string): Promise<void> {
  checkPasswordStrength(password);
  await repo.update(db, tenantId, customerId, { password_hash: await hashPassword(password), updated_at: clock.now().toISOString() });
}
