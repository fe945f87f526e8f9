import type { Permission } from '../modules/auth/permissions.ts';
import type { Principal } from '../context.ts';

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

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** false for routes whose response carries a one-time secret (never stored for replay). */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

/** OpenAPI security requirements for an access declaration. */
export function securityOf(a: Access): Record<string, string[]>[] {
  if (a.public) return [];
  const out: Record<string, string[]>[] = [];
  if (a.platform) out.push({ platformSecret: [] });
  if (a.anyTenant) out.push({ bearerJwt: [] }, { secretKey: [] }, { publishableKey: [] });
  if (a.staff) out.push({ bearerJwt: [] }, { secretKey: [] });
  if (a.shopper) out.push({ publishableKey: [] });
  if (a.customer || a.shopper) out.push({ bearerJwt: [] });
  return out.filter((v, i, arr) => arr.findIndex((w) => Object.keys(w)[0] === Object.keys(v)[0]) === i);
}

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
