import type { Principal } from '../context.ts';
import { forbidden } from '../lib/errors.ts';
import type { Permission } from '../modules/auth/permissions.ts';

/**
 * The one answer to "may this principal …". Routes (and, next, GraphQL resolvers and realtime subscriptions)
 * declare what they need; the rules that depend on the data — which export, which job — live here, so every
 * transport asks the same question and gets the same answer.
 */

export function may(p: Principal, permission: Permission): boolean {
  return (p.kind === 'user' || p.kind === 'api_key') && p.permissions.has(permission);
}

export function authorize(p: Principal, permission: Permission, what?: string): void {
  if (!may(p, permission)) throw forbidden('permission_denied', `${what ?? 'This'} needs the ${permission} permission`);
}

/** An export shows the data of its kind: reading it (or starting it) needs that kind's read permission too. */
export const EXPORT_NEEDS = { orders: 'orders:read', customers: 'customers:read', products: 'catalog:read' } as const satisfies Record<string, Permission>;

export function authorizeExport(p: Principal, kind: string): void {
  const need = EXPORT_NEEDS[kind as keyof typeof EXPORT_NEEDS];
  if (!need) throw forbidden('permission_denied', `Unknown export kind ${kind}`);
  authorize(p, need, `An export of ${kind}`);
}
