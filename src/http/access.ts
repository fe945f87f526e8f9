import type { Principal } from '../context.ts';
import type { Access } from '../policy/access.ts';

/** Routes declare who they let in with the policy's Access declarations (src/policy/access.ts). */
export { access, describeAccess, type Access } from '../policy/access.ts';

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
