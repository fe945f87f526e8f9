import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { Body, IdParams, Name, NullableTimestamp, Page, PageQuery, Timestamp } from '../../http/schemas.ts';
import { PermissionSchema } from '../staff/index.ts';
import { createApiKey, getApiKey, listApiKeys, revokeApiKey } from './api-keys.service.ts';

const KeyType = Type.Union([Type.Literal('secret'), Type.Literal('publishable')]);

export const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    type: KeyType,
    name: Type.String(),
    key: Type.Union([Type.String(), Type.Null()], { description: 'The key itself: always for publishable keys; for secret keys only in the response that creates it' }),
    redacted: Type.String({ description: 'Prefix and last four characters, to tell keys apart' }),
    permissions: Type.Array(PermissionSchema),
    created_by: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
    revoked_at: NullableTimestamp,
  },
  { title: 'ApiKey' },
);

const CreateBody = Body(
  {
    type: KeyType,
    name: Name(100),
    permissions: Type.Optional(Type.Array(PermissionSchema, { maxItems: 100, description: 'Secret keys only: what the key may do (at most what you may do)' })),
  },
  'ApiKeyCreate',
);

export const apiKeysRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  app.get(
    '/api/api-keys',
    {
      config: { access: access.staff('api_keys:read') },
      schema: {
        tags: ['api keys'],
        summary: 'List API keys',
        operationId: 'listApiKeys',
        querystring: Type.Object({ ...PageQuery, type: Type.Optional(KeyType), include_revoked: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: Page(ApiKeySchema, 'ApiKey') },
      },
    },
    async (req) => listApiKeys(deps.ctx(req), { ...req.query, limit: req.query.limit ?? 20 }),
  );
  app.post(
    '/api/api-keys',
    {
      // The response holds a secret shown once: it is never stored for idempotent replay.
      config: { access: access.staff('api_keys:write'), idempotent: false },
      schema: { tags: ['api keys'], summary: 'Create a secret or publishable key (a secret key is shown only in this response)', operationId: 'createApiKey', body: CreateBody, response: { 201: ApiKeySchema } },
    },
    async (req, reply) => reply.code(201).send(await createApiKey(deps.ctx(req), req.body)),
  );
  app.get(
    '/api/api-keys/:id',
    { config: { access: access.staff('api_keys:read') }, schema: { tags: ['api keys'], summary: 'Read an API key (never the secret)', operationId: 'getApiKey', params: IdParams, response: { 200: ApiKeySchema } } },
    async (req) => getApiKey(deps.ctx(req), req.params.id),
  );
  app.delete(
    '/api/api-keys/:id',
    { config: { access: access.staff('api_keys:write') }, schema: { tags: ['api keys'], summary: 'Revoke an API key at once', operationId: 'revokeApiKey', params: IdParams, response: { 200: ApiKeySchema } } },
    async (req) => {
      const key = await deps.tx(req, (ctx) => revokeApiKey(ctx, req.params.id));
      deps.auth.forgetKeys(); // other nodes: within PUBLISHABLE_KEY_TTL_MS
      return key;
    },
  );
};
