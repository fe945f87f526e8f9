import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../deps.ts';
import { access } from './access.ts';
import { sendProblem } from './errors.ts';
import { problemResponse } from './problem.ts';

export const systemRoutes: FastifyPluginAsyncTypebox<{ deps: Deps; ready: () => Promise<void> }> = async (app, { ready }) => {
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
        summary: 'Readiness: the database answers',
        operationId: 'ready',
        response: { 200: Type.Object({ status: Type.Literal('ready') }), 503: problemResponse('Not ready') },
      },
    },
    async (req, reply) => {
      try {
        await ready();
        return { status: 'ready' as const };
      } catch (err) {
        req.log.warn({ err }, 'readiness check failed');
        return sendProblem(reply, 503, 'not_ready', 'The database is not reachable');
      }
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
