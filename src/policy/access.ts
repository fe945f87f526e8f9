import type { Principal } from '../context.ts';
import { forbidden, unauthenticated } from '../lib/errors.ts';
import type { Permission } from './permissions.ts';

/**
 * What a route lets in. Every route declares one (app start fails otherwise), and authentication
 * rejects any principal the declaration does not name.
 *   public   — anyone, no credential read (health, signup, login)
 *   staff    — a staff user's JWT or a secret key, holding this permission
 *   shopper  — the shop's publishable key (anonymous) or a logged-in customer of that shop
 *   customer — a logged-in customer only
 *   platform — the platform operator's secret
 *   anyTenant — any credential of a shop (user, secret key, customer, publishable key): "who am I"
 */
export interface Access {
  public?: true;
  anyTenant?: true;
  staff?: Permission;
  shopper?: true;
  customer?: true;
  platform?: true;
}

export const access = {
  public: (): Access => ({ public: true }),
  staff: (permission: Permission): Access => ({ staff: permission }),
  shopper: (): Access => ({ shopper: true }),
  customer: (): Access => ({ customer: true }),
  platform: (): Access => ({ platform: true }),
  anyTenant: (): Access => ({ anyTenant: true }),
  /** Staff with the permission, or a customer acting on their own resource (the service checks ownership). */
  staffOrCustomer: (permission: Permission): Access => ({ staff: permission, customer: true }),
};

export function describeAccess(a: Access): string {
  if (a.public) return 'Public: no credential needed.';
  const parts: string[] = [];
  if (a.platform) parts.push('the platform secret');
  if (a.anyTenant) parts.push('any credential of a shop');
  if (a.staff) parts.push(`staff (JWT or secret key) with \`${a.staff}\``);
  if (a.shopper) parts.push('a shopper (publishable key, or a customer JWT)');
  else if (a.customer) parts.push('a logged-in customer (for their own resources)');
  return `Requires ${parts.join(' or ')}.`;
}

/**
 * Whether the principal may use an entry point with this declaration (a REST route now; a GraphQL field or a
 * realtime channel next): every transport asks here and gets the same answer. Throws a coded refusal that names
 * the credentials the entry point takes.
 */
export function authorizeAccess(p: Principal, a: Access): void {
  if (a.anyTenant && 'tenantId' in p) return;
  // A refusal says which credentials the route takes, so a client knows what to send instead.
  const takes = describeAccess(a).replace(/^Requires /, 'This route takes ').replace(/\.$/, '');
  switch (p.kind) {
    case 'user':
    case 'api_key':
      if (!a.staff) throw forbidden('principal_not_allowed', `Staff credentials cannot use this route. ${takes}.`);
      if (!p.permissions.has(a.staff)) throw forbidden('permission_denied', `This needs the ${a.staff} permission`);
      return;
    case 'customer':
      if (!a.customer && !a.shopper) throw forbidden('principal_not_allowed', `Customers cannot use this route. ${takes}.`);
      return;
    case 'shopper':
      if (!a.shopper) throw a.customer ? unauthenticated('authentication_required', `A publishable key alone is not enough: log in as a customer, or use staff credentials. ${takes}.`) : forbidden('principal_not_allowed', `A publishable key alone cannot use this route. ${takes}.`);
      return;
    case 'platform':
      if (!a.platform) throw forbidden('principal_not_allowed', `The platform secret cannot use this route. ${takes}.`);
      return;
    case 'anonymous':
    case 'system':
      throw unauthenticated('authentication_required', 'This route needs a credential');
  }
}
