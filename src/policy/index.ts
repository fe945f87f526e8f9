import { hasPermission, type Principal } from '../context.ts';
import { forbidden } from '../lib/errors.ts';
import type { Permission } from './permissions.ts';

import type { Access } from './access.ts';
export { authorizeAccess, access, type Access } from './access.ts';

/**
 * The one answer to "may this principal …". Routes (and, next, GraphQL resolvers and realtime subscriptions)
 * declare what they need; the rules that depend on the data — which export, which job — live here, so every
 * transport asks the same question and gets the same answer.
 */

/** Whether a staff user or secret key holds the permission (customers, shoppers and operators hold none). */
export const may: (p: Principal, permission: Permission) => boolean = hasPermission;

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

/** An import writes data of its kind: starting one needs that kind's write permissions too (stock for products). */
export const IMPORT_NEEDS = { products: ['catalog:write', 'inventory:write'], contacts: ['crm:write'] } as const satisfies Record<string, readonly Permission[]>;

export function authorizeImport(p: Principal, kind: string): void {
  const needs = IMPORT_NEEDS[kind as keyof typeof IMPORT_NEEDS];
  if (!needs) throw forbidden('permission_denied', `Unknown import kind ${kind}`);
  for (const n of needs) authorize(p, n, `An import of ${kind}`);
}

/** What a shop's scheduled task needs: the rights of the export it makes. */
export const TASK_NEEDS: Readonly<Record<string, readonly Permission[]>> = {
  export_orders: ['reports:read', EXPORT_NEEDS.orders],
  export_customers: ['reports:read', EXPORT_NEEDS.customers],
  export_products: ['reports:read', EXPORT_NEEDS.products],
};

/** Creating (or changing) a schedule needs the permissions of its task: it will run with its creator's rights. */
export function authorizeTask(p: Principal, task: string): void {
  for (const need of TASK_NEEDS[task] ?? []) authorize(p, need, `A schedule of ${task}`);
}

/** Whether someone holding `permissions` may still run the task (a schedule pauses when its creator may not). */
export function mayRunTask(permissions: ReadonlySet<Permission>, task: string): boolean {
  return (TASK_NEEDS[task] ?? []).every((n) => permissions.has(n));
}

/** Keys of job payloads (and results) that hold personal data: an address to write to, a name, a phone number. */
const PERSONAL = /(^|_)(to|email|emails|name|first_name|last_name|phone|address|shipping_address|billing_address)$/;

/**
 * A job as the caller may see it: `jobs:read` shows that work happens, not to whom. Personal data in the payload
 * (customer and staff email addresses …) is shown only to a principal who may read both customers and staff.
 */
export function jobFor<J extends { payload: Record<string, unknown> }>(p: Principal, job: J): J {
  if (may(p, 'customers:read') && may(p, 'users:read')) return job;
  return { ...job, payload: redact(job.payload) as Record<string, unknown> };
}

function redact(v: unknown, key = ''): unknown {
  if (PERSONAL.test(key) && v !== null && v !== undefined) return '[redacted]';
  if (Array.isArray(v)) return v.map((x) => redact(x));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, k)]));
  return v;
}

// --- ownership: what a caller may see of a shop's own records ---------------------------------------------

/**
 * A cart is visible to staff, to the customer it belongs to, and — while it belongs to no customer — to anyone
 * holding the shop's publishable key (a guest cart is found by its unguessable id). Anything else is reported as
 * not found, like another shop's cart.
 */
export function maySeeCart(p: Principal, cart: { customer_id: string | null }): boolean {
  if (p.kind === 'customer') return cart.customer_id === p.customerId;
  if (p.kind === 'shopper') return cart.customer_id === null;
  return true;
}

/** An order is visible to staff and to the customer who placed it; never to a bare publishable key. */
export function maySeeOrder(p: Principal, order: { customer_id: string | null }): boolean {
  if (p.kind === 'customer') return order.customer_id === p.customerId;
  return p.kind !== 'shopper';
}

// --- realtime channels: who may listen ------------------------------------------------------------------------

/**
 * What each realtime channel lets in, declared like a route's access (docs/realtime.md). The data rules come on
 * top: an order's chat only to staff and the order's own customer (maySeeOrder), a product's availability only
 * while the storefront may see the product.
 */
export const CHANNEL_ACCESS = {
  orders: { staff: 'orders:read' },
  inventory: { staff: 'inventory:read' },
  product_availability: { staff: 'catalog:read', shopper: true },
  dashboard: { staff: 'reports:read' },
  order_messages: { staff: 'orders:read', customer: true },
  messages: { staff: 'orders:read' },
  presence: { staff: 'orders:read' },
  my_orders: { customer: true },
  imports: { staff: 'imports:read' },
} as const satisfies Record<string, Access>;
