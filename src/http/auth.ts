import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../context.ts';
import { principalKey } from '../context.ts';
import { safeEqual } from '../lib/crypto.ts';
import { AppError, unauthenticated } from '../lib/errors.ts';
import type { AuthService } from '../modules/auth/index.ts';
import { authorizeAccess, type Access } from '../policy/access.ts';
import type { HttpRateLimits } from './rate-limit.ts';

const ANONYMOUS: Principal = { kind: 'anonymous' };

/**
 * The middleware chain of every request, in order: IP rate limit → authentication → principal rate limit
 * → permission check. It runs on `onRequest`, before the body is read, so unauthenticated or throttled
 * callers cost no parsing.
 */
export function registerAuth(app: FastifyInstance, deps: { auth: AuthService; limits: HttpRateLimits; platformSecret: string | null }): void {
  app.decorateRequest('principal', null as never);

  app.addHook('onRoute', (route) => {
    // CORS preflight and the API reference pages are public by nature.
    if (route.method === 'OPTIONS' || route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), access: route.config?.access ?? { public: true } };
    if (!route.config?.access) throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access)`);
  });

  app.addHook('onRequest', async (req, reply) => {
    req.principal = ANONYMOUS;
    await deps.limits.checkIp(req, reply);
    const accessDecl = req.routeOptions.config.access;
    if (!accessDecl || accessDecl.public) return; // not-found handler, or a public route
    const principal = await authenticate(req, accessDecl, deps);
    req.principal = principal;
    await deps.limits.checkPrincipal(principalKey(principal, req.ip), reply);
    authorizeAccess(principal, accessDecl);
  });
}

function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (h === undefined) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw unauthenticated('invalid_authorization_header', 'Use "Authorization: Bearer <token>"');
  return m[1] as string;
}

async function authenticate(req: FastifyRequest, a: Access, deps: { auth: AuthService; platformSecret: string | null }): Promise<Principal> {
  const token = bearer(req);
  const pkHeader = req.headers['x-publishable-key'];
  const pk = typeof pkHeader === 'string' ? pkHeader.trim() : null;

  if (a.platform) {
    // Platform routes take the operator's secret and nothing else.
    if (!deps.platformSecret) throw new AppError('not_found', 'route_not_found', 'The platform API is not enabled on this server');
    if (!token) throw unauthenticated('authentication_required', 'Send the platform secret as Authorization: Bearer <secret>');
    if (!safeEqual(token, deps.platformSecret)) throw unauthenticated('invalid_platform_secret', 'The platform secret is wrong');
    return { kind: 'platform' };
  }
  if (!token && !pk) throw unauthenticated('authentication_required', 'This route needs a credential: Authorization: Bearer <token or key>, or X-Publishable-Key');
  return deps.auth.principalFromCredentials({ token, publishableKey: pk });
}
