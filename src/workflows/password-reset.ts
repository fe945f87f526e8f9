import type { Executor } from '../context.ts';
import type { Db } from '../db/database.ts';
import { addSeconds, type Clock } from '../lib/clock.ts';
import { AppError } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { mintCredential, parseCredential } from '../lib/credentials.ts';
import { findCustomerCredentials, setCustomerPassword } from '../modules/customers/index.ts';
import { enqueue } from '../modules/jobs/index.ts';
import { findUserCredentials, setUserPassword } from '../modules/staff/index.ts';
import { findTenantBySlug, getTenant } from '../modules/tenants/index.ts';
import { emailSent, sendOnce, type Mailer, passwordReset } from '../modules/email/index.ts';
import { passwordResetsRepository as resets } from '../modules/auth/index.ts';

export const RESET_TTL_MINUTES = 60;

/**
 * Step 1 (public): asks for a reset. Always answers the same, whether or not the account exists; when it does,
 * a job mints a single-use code and emails it (the code exists only as a hash and in the email).
 */
export async function requestReset(db: Db, clock: Clock, who: { subjectType: 'user'; shop: string; email: string } | { subjectType: 'customer'; tenantId: string; email: string }): Promise<void> {
  const tenantId = who.subjectType === 'user' ? (await findTenantBySlug(db, who.shop.trim().toLowerCase()))?.id : who.tenantId;
  if (!tenantId) return;
  const subject = who.subjectType === 'user' ? await findUserCredentials(db, tenantId, who.email) : await findCustomerCredentials(db, tenantId, who.email);
  if (!subject || subject.status !== 'active') return;
  // At most one reset email per account every ten minutes, however often the form is sent.
  const window = Math.floor(clock.now().getTime() / 600_000);
  await enqueue(db, clock, { tenantId, queue: 'email', type: 'email.password_reset', payload: { subject_type: who.subjectType, subject_id: subject.id, to: who.email.trim().toLowerCase() }, maxAttempts: 5, dedupeKey: `password_reset:${subject.id}:${window}` });
}

/** The job of step 1: mint the code, store its hash, email it. */
export async function sendResetCode(db: Db, clock: Clock, mailer: Mailer, jobId: string, tenantId: string, p: { subject_type: 'user' | 'customer'; subject_id: string; to: string }): Promise<'sent' | 'already_sent'> {
  if (await emailSent(db, tenantId, `password_reset:${jobId}`)) return 'already_sent';
  const code = mintCredential('pr', tenantId);
  const now = clock.now();
  await resets.insert(db, { tenant_id: tenantId, id: newId('passwordReset'), subject_type: p.subject_type, subject_id: p.subject_id, token_hash: code.hash, expires_at: addSeconds(now, RESET_TTL_MINUTES * 60).toISOString(), used_at: null, created_at: now.toISOString() });
  const shop = await getTenant(db, tenantId);
  return sendOnce(db, clock, mailer, { tenantId, key: `password_reset:${jobId}`, template: 'password_reset', to: p.to, fromName: shop.name, rendered: passwordReset(shop.name, { token: code.token, expires_minutes: RESET_TTL_MINUTES }) });
}

/**
 * Step 2 (public): the code and a new password. The code works once, within its hour; using it ends every
 * session of the account (whoever else was logged in is logged out).
 */
export async function confirmReset(db: Db, clock: Clock, token: string, password: string, revokeSessions: (db: Executor, tenantId: string, subjectId: string) => Promise<void>): Promise<void> {
  const invalid = () => new AppError('malformed', 'invalid_reset_code', 'The reset code is invalid, used or expired; ask for a new one');
  const parsed = parseCredential(token);
  if (!parsed || parsed.prefix !== 'pr') throw invalid();
  await db.transaction().execute(async (trx) => {
    const now = clock.now().toISOString();
    const row = await resets.findByHash(trx, parsed.tenantId, parsed.hash);
    if (!row || row.used_at !== null || row.expires_at <= now) throw invalid();
    if (!(await resets.markUsed(trx, row.tenant_id, row.id, now))) throw invalid();
    if (row.subject_type === 'user') await setUserPassword(trx, clock, row.tenant_id, row.subject_id, password);
    else await setCustomerPassword(trx, clock, row.tenant_id, row.subject_id, password);
    await revokeSessions(trx, row.tenant_id, row.subject_id);
  });
}
