import type { Ctx, Executor, TenantPrincipal } from '../../context.ts';
import { assertRoom } from '../../lib/limits.ts';
import type { RolesTable, UsersTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError, conflict, forbidden, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page, type PageRequest } from '../../lib/pagination.ts';
import { checkPasswordStrength, hashPassword } from '../../lib/passwords.ts';
import { SYSTEM_ROLES, isSystemRole, rolePermissions, type Permission, type SystemRole } from '../../policy/permissions.ts';
import { staffRepository as repo } from './staff.repository.ts';

export interface Role {
  id: string;
  name: string;
  description: string;
  system: boolean;
  key: SystemRole | null;
  permissions: Permission[];
  created_at: string;
  updated_at: string;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: { id: string; name: string; key: string | null };
  status: 'active' | 'disabled';
  last_login_at: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

const toRole = (r: RolesTable): Role => ({
  id: r.id,
  name: r.name,
  description: r.description,
  system: r.system_key !== null,
  key: isSystemRole(r.system_key) ? r.system_key : null,
  permissions: rolePermissions(r.system_key, r.permissions),
  created_at: r.created_at,
  updated_at: r.updated_at,
});

type UserRow = UsersTable & { role_key: string | null; role_name: string };
const toUser = (u: UserRow): User => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: { id: u.role_id, name: u.role_name, key: u.role_key },
  status: u.status,
  last_login_at: u.last_login_at,
  version: u.version,
  created_at: u.created_at,
  updated_at: u.updated_at,
});

export const normaliseEmail = (e: string): string => e.trim().toLowerCase();

/** The permissions the acting principal holds: what it may hand on to a role, user or key. */
function grantable(p: TenantPrincipal): ReadonlySet<Permission> {
  return p.kind === 'user' || p.kind === 'api_key' ? p.permissions : new Set();
}

/** Nobody grants what they do not have; only owners make owners. */
export function assertCanGrant(actor: TenantPrincipal, perms: readonly Permission[], roleKey: string | null = null): void {
  const mine = grantable(actor);
  const missing = perms.filter((p) => !mine.has(p));
  if (missing.length) throw forbidden('permission_escalation', `You cannot grant permissions you do not hold: ${missing.join(', ')}`);
  if (roleKey === 'owner' && !(actor.kind === 'user' && actor.roleKey === 'owner')) throw forbidden('permission_escalation', 'Only an owner can make another owner');
}

// --- roles -----------------------------------------------------------------------------------

/** The three built-in roles every shop starts with. */
export async function createSystemRoles(db: Executor, clock: Clock, tenantId: string): Promise<Record<SystemRole, string>> {
  const now = clock.now().toISOString();
  const ids = {} as Record<SystemRole, string>;
  for (const key of Object.keys(SYSTEM_ROLES) as SystemRole[]) {
    const id = newId('role');
    ids[key] = id;
    await repo.insertRole(db, { tenant_id: tenantId, id, name: SYSTEM_ROLES[key].name, system_key: key, description: SYSTEM_ROLES[key].description, permissions: '[]', created_at: now, updated_at: now });
  }
  return ids;
}

/** A page of the shop's roles, system roles first (creation order). */
export async function listRoles(ctx: Ctx, page: PageRequest): Promise<Page<Role>> {
  const p = toPage(await repo.pageRoles(ctx.db, ctx.tenantId, page.limit, decodeCursor(page.cursor)), page.limit);
  return { ...p, data: p.data.map(toRole) };
}

export async function getRole(ctx: Ctx, id: string): Promise<Role> {
  const r = await repo.findRole(ctx.db, ctx.tenantId, id);
  if (!r) throw notFound('Role');
  return toRole(r);
}

export async function createRole(ctx: Ctx, input: { name: string; description?: string | undefined; permissions: Permission[] }): Promise<Role> {
  const permissions = [...new Set(input.permissions)].sort();
  assertCanGrant(ctx.principal, permissions);
  assertRoom((await repo.listRoles(ctx.db, ctx.tenantId)).length, 'roles');
  const now = ctx.clock.now().toISOString();
  const id = newId('role');
  try {
    await repo.insertRole(ctx.db, { tenant_id: ctx.tenantId, id, name: input.name, system_key: null, description: input.description ?? '', permissions: JSON.stringify(permissions), created_at: now, updated_at: now });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('role_name_taken', `A role named "${input.name}" exists`);
    throw e;
  }
  return getRole(ctx, id);
}

export async function updateRole(ctx: Ctx, id: string, patch: { name?: string | undefined; description?: string | undefined; permissions?: Permission[] | undefined }): Promise<Role> {
  const role = await getRole(ctx, id);
  if (role.system) throw conflict('system_role_immutable', 'Built-in roles cannot be changed; create a custom role');
  const next: Partial<RolesTable> = { updated_at: ctx.clock.now().toISOString() };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.description !== undefined) next.description = patch.description;
  if (patch.permissions !== undefined) {
    const permissions = [...new Set(patch.permissions)].sort();
    assertCanGrant(ctx.principal, permissions);
    next.permissions = JSON.stringify(permissions);
  }
  try {
    await repo.updateRole(ctx.db, ctx.tenantId, id, next);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('role_name_taken', `A role named "${patch.name}" exists`);
    throw e;
  }
  return getRole(ctx, id);
}

export async function deleteRole(ctx: Ctx, id: string): Promise<void> {
  const role = await getRole(ctx, id);
  if (role.system) throw conflict('system_role_immutable', 'Built-in roles cannot be deleted');
  if ((await repo.countUsersWithRole(ctx.db, ctx.tenantId, id)) > 0) throw conflict('role_in_use', 'Users still have this role; give them another first');
  await repo.deleteRole(ctx.db, ctx.tenantId, id);
}

// --- users -----------------------------------------------------------------------------------

export async function listUsers(ctx: Ctx, opts: { limit: number; cursor?: string | undefined }): Promise<Page<User>> {
  const rows = await repo.listUsers(ctx.db, ctx.tenantId, { limit: opts.limit, after: decodeCursor(opts.cursor) });
  return toPage(rows.map(toUser), opts.limit);
}

export async function getUser(ctx: Pick<Ctx, 'db' | 'tenantId'>, id: string): Promise<User> {
  const u = await repo.findUser(ctx.db, ctx.tenantId, id);
  if (!u) throw notFound('User');
  return toUser(u);
}

async function roleForAssignment(ctx: Ctx, roleId: string): Promise<Role> {
  const r = await repo.findRole(ctx.db, ctx.tenantId, roleId);
  if (!r) throw invalid('unknown_role', 'No such role in this shop', [{ pointer: '/body/role_id', detail: 'unknown role' }]);
  const role = toRole(r);
  assertCanGrant(ctx.principal, role.permissions, role.key);
  return role;
}

/** Creates a staff user. Used by the API (with its actor checks) and by signup and the CLI (as owner). */
export async function insertUser(
  db: Executor,
  clock: Clock,
  tenantId: string,
  input: { email: string; name: string; password: string; roleId: string },
): Promise<string> {
  checkPasswordStrength(input.password);
  const hash = await hashPassword(input.password);
  const now = clock.now().toISOString();
  const id = newId('user');
  try {
    await repo.insertUser(db, { tenant_id: tenantId, id, email: normaliseEmail(input.email), name: input.name, password_hash: hash, role_id: input.roleId, status: 'active', last_login_at: null, version: 1, created_at: now, updated_at: now });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('email_taken', 'A staff user with this email exists in this shop');
    throw e;
  }
  return id;
}

export async function createUser(ctx: Ctx, input: { email: string; name: string; password: string; role_id: string }): Promise<User> {
  await roleForAssignment(ctx, input.role_id);
  const id = await insertUser(ctx.db, ctx.clock, ctx.tenantId, { email: input.email, name: input.name, password: input.password, roleId: input.role_id });
  return getUser(ctx, id);
}

export async function updateUser(
  ctx: Ctx,
  id: string,
  patch: { name?: string | undefined; role_id?: string | undefined; status?: 'active' | 'disabled' | undefined; password?: string | undefined },
  expectedVersion: number | null,
): Promise<User> {
  const user = await getUser(ctx, id);
  if (expectedVersion !== null && expectedVersion !== user.version) throw new AppError('precondition_failed', 'version_mismatch', 'The user was changed since you read it; fetch it again');
  const self = ctx.principal.kind === 'user' && ctx.principal.userId === id;
  // Changing an owner (role, status, password) takes an owner.
  if (user.role.key === 'owner' && (patch.role_id !== undefined || patch.status !== undefined || patch.password !== undefined) && !self) {
    assertCanGrant(ctx.principal, [], 'owner');
  }
  const next: Partial<UsersTable> = { updated_at: ctx.clock.now().toISOString() };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.role_id !== undefined && patch.role_id !== user.role.id) {
    const role = await roleForAssignment(ctx, patch.role_id);
    if (user.role.key === 'owner' && role.key !== 'owner') await assertAnotherOwner(ctx);
    next.role_id = role.id;
  }
  if (patch.status !== undefined && patch.status !== user.status) {
    if (self && patch.status === 'disabled') throw conflict('cannot_disable_self', 'You cannot disable your own account');
    if (user.role.key === 'owner' && patch.status === 'disabled') await assertAnotherOwner(ctx);
    next.status = patch.status;
  }
  if (patch.password !== undefined) {
    checkPasswordStrength(patch.password);
    next.password_hash = await hashPassword(patch.password);
  }
  if (!(await repo.updateUser(ctx.db, ctx.tenantId, id, user.version, next))) {
    throw new AppError('precondition_failed', 'version_mismatch', 'The user was changed since you read it; fetch it again');
  }
  return getUser(ctx, id);
}

async function assertAnotherOwner(ctx: Ctx): Promise<void> {
  await repo.lockOwners(ctx.db, ctx.tenantId);
  if ((await repo.countActiveOwners(ctx.db, ctx.tenantId)) < 2) throw conflict('last_owner', 'A shop must keep at least one active owner');
}

export async function deleteUser(ctx: Ctx, id: string): Promise<void> {
  const user = await getUser(ctx, id);
  if (ctx.principal.kind === 'user' && ctx.principal.userId === id) throw conflict('cannot_delete_self', 'You cannot delete your own account');
  if (user.role.key === 'owner') {
    assertCanGrant(ctx.principal, [], 'owner');
    await assertAnotherOwner(ctx);
  }
  await repo.deleteUser(ctx.db, ctx.tenantId, id);
}

/** For login: the credentials row of a staff user, or undefined. */
export async function findUserCredentials(db: Executor, tenantId: string, email: string) {
  const u = await repo.findUserByEmail(db, tenantId, normaliseEmail(email));
  return u && { id: u.id, password_hash: u.password_hash, status: u.status };
}

export async function recordLogin(db: Executor, tenantId: string, id: string, at: string): Promise<void> {
  await repo.touchLogin(db, tenantId, id, at);
}

export async function systemRoleId(db: Executor, tenantId: string, key: SystemRole): Promise<string> {
  const r = await repo.findSystemRole(db, tenantId, key);
  if (!r) throw new Error(`tenant ${tenantId} has no ${key} role`);
  return r.id;
}

/** For the password-reset flow: sets a new password (strength-checked) and bumps the version. */
export async function setUserPassword(db: Executor, clock: Clock, tenantId: string, userId: string, password: string): Promise<void> {
  checkPasswordStrength(password);
  const u = await repo.findUser(db, tenantId, userId);
  if (!u) throw notFound('User');
  await repo.updateUser(db, tenantId, userId, u.version, { password_hash: await hashPassword(password), updated_at: clock.now().toISOString() });
}
