import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../deps.ts';
import { access } from './access.ts';
import { sendProblem } from './errors.ts';
import { problemResponse } from './problem.ts';

/** A readiness check: each dependency named, so a 503 says which one failed. */
export type ReadinessCheck = { name: string; check: () => Promise<void> };

export const systemRoutes: FastifyPluginAsyncTypebox<{ deps: Deps; ready: readonly ReadinessCheck[] }> = async (app, { ready }) => {
  app.get(
    '/api/health',
    {
      config: { access: access.public() },
      schema: { tags: ['system'], summary: 'Liveness: the process answers', operationId: 'health', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/api/ready',
    {
      config: { access: access.public() },
      schema: {
        tags: ['system'],
        summary: 'Readiness: the database answers (and Redis, when configured)',
        operationId: 'ready',
        response: { 200: Type.Object({ status: Type.Literal('ready') }), 503: problemResponse('Not ready') },
      },
    },
    async (req, reply) => {
      for (const r of ready) {
        try {
          await Promise.race([r.check(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
        } catch (err) {
          req.log.warn({ err, dependency: r.name }, 'readiness check failed');
          return sendProblem(reply, 503, 'not_ready', `${r.name} is not reachable`);
        }
      }
      return { status: 'ready' as const };
    },
  );

  app.get(
    '/api/openapi.json',
    {
      config: { access: access.public() },
      schema: { tags: ['system'], summary: 'This API as an OpenAPI 3.1 document', operationId: 'openapi', response: { 200: Type.Object({}, { additionalProperties: true }) } },
    },
    async () => app.swagger(),
  );
};
