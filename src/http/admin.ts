import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { access } from './access.ts';
import { sendProblem } from './errors.ts';

export const ADMIN_PREFIX = '/admin';

/** Where `npm run build:admin` (run by `npm install`) puts the console. */
export const ADMIN_DIST = resolve(import.meta.dirname, '..', '..', 'admin', 'dist');

/**
 * The console calls only this server's API and realtime channels, and loads only its own files: its CSP says so
 * (the API's own CSP forbids everything, which a page cannot live with).
 */
const ADMIN_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/**
 * The admin console at /admin: the built single-page app (admin/dist), its hashed assets cached for a year, every
 * other path under /admin answered with its index.html (the app routes in the browser). Without a build, /admin
 * says how to make one (problem+json 503, `console_not_built`).
 */
export async function registerAdmin(app: FastifyInstance, dist = ADMIN_DIST): Promise<void> {
  app.addHook('onRoute', (route) => {
    if (route.url === ADMIN_PREFIX || route.url.startsWith(`${ADMIN_PREFIX}/`)) {
      route.config = { ...(route.config ?? {}), access: access.public() };
      route.schema = { ...(route.schema ?? {}), hide: true };
    }
  });
  const built = existsSync(join(dist, 'index.html'));
  await app.register(async (scope) => {
    scope.addHook('onSend', async (req, reply, payload) => {
      if (reply.statusCode < 400 || !String(reply.getHeader('content-type') ?? '').includes('json')) {
        reply.header('content-security-policy', ADMIN_CSP);
        reply.header('cache-control', req.url.startsWith(`${ADMIN_PREFIX}/assets/`) && reply.statusCode === 200 ? 'public, max-age=31536000, immutable' : 'no-cache');
      }
      return payload;
    });
    // `/admin/` (and `/admin`: the router ignores a trailing slash) and everything under it.
    const serve = (handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => {
      scope.get(`${ADMIN_PREFIX}/`, handler);
      scope.get(`${ADMIN_PREFIX}/*`, handler);
    };
    if (!built) {
      serve(async (_req, reply) => sendProblem(reply, 503, 'console_not_built', 'The admin console is not built: run `npm run build:admin` (npm install does it)'));
      return;
    }
    const index = readFileSync(join(dist, 'index.html'));
    await scope.register(fastifyStatic, { root: dist, prefix: `${ADMIN_PREFIX}/`, wildcard: false, index: false, decorateReply: false });
    // The page for the app's own routes (/admin/orders/ord_…): it routes in the browser. A missing asset stays a 404.
    serve(async (req, reply) => {
      if (req.url.startsWith(`${ADMIN_PREFIX}/assets/`)) return sendProblem(reply, 404, 'route_not_found', `No file ${req.url.split('?')[0]}`);
      return reply.type('text/html; charset=utf-8').send(index);
    });
  });
}
