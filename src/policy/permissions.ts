/**
 * The permission catalogue. A route declares one permission; a principal's role (staff) or key scope
 * (secret API key) grants a set of them. Adding a permission here makes it grantable; the built-in
 * roles below are resolved from code, so they gain new permissions with the release that adds them.
 */
export const PERMISSIONS = [
  'shop:read',
  'shop:write',
  'users:read',
  'users:write',
  'roles:read',
  'roles:write',
  'api_keys:read',
  'api_keys:write',
  'customers:read',
  'customers:write',
  'catalog:read',
  'catalog:write',
  'inventory:read',
  'inventory:write',
  'orders:read',
  'orders:write',
  'orders:refund',
  'pricing:read',
  'pricing:write',
  'reports:read',
  'webhooks:read',
  'webhooks:write',
  'jobs:read',
  'jobs:write',
  'crm:read',
  'crm:write',
  'apps:read',
  'apps:write',
  'imports:read',
  'imports:write',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(p: string): p is Permission {
  return (PERMISSIONS as readonly string[]).includes(p);
}

export type SystemRole = 'owner' | 'admin' | 'clerk';

export const SYSTEM_ROLES: Record<SystemRole, { name: string; description: string; permissions: readonly Permission[] }> = {
  owner: { name: 'Owner', description: 'Everything, including managing admins and the shop itself', permissions: PERMISSIONS },
  admin: {
    name: 'Admin',
    description: 'Everything except ownership: cannot change or remove owners',
    permissions: PERMISSIONS,
  },
  clerk: {
    name: 'Clerk',
    description: 'Day-to-day shop work: catalogue reading, stock, orders and customers',
    permissions: ['shop:read', 'catalog:read', 'inventory:read', 'inventory:write', 'orders:read', 'orders:write', 'pricing:read', 'customers:read', 'reports:read', 'crm:read'],
  },
};

export function isSystemRole(k: string | null): k is SystemRole {
  return k === 'owner' || k === 'admin' || k === 'clerk';
}

/** Permissions of a stored role row: built-in roles from code, custom roles from their JSON list. */
export function rolePermissions(systemKey: string | null, permissionsJson: string): Permission[] {
  if (isSystemRole(systemKey)) return [...SYSTEM_ROLES[systemKey].permissions];
  return parsePermissions(permissionsJson);
}

export function parsePermissions(json: string): Permission[] {
  const v = JSON.parse(json) as unknown;
  return Array.isArray(v) ? v.filter((p): p is Permission => typeof p === 'string' && isPermission(p)) : [];
}
