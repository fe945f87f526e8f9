import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { Body, IdParams, NoContent, Page, PageQuery, Timestamp, PageOnlyQuery, pageRequest } from '../../http/schemas.ts';
import { WEBHOOK_EVENTS, createEndpoint, deleteEndpoint, getEndpoint, listDeliveries, listEndpoints, replayDelivery, rotateSecret, updateEndpoint } from './webhooks.service.ts';

const EventName = Type.Unsafe<string>({ type: 'string', enum: [...WEBHOOK_EVENTS], description: 'An event type, or * for all' });
const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'https URL that receives POSTs' });
const EndpointSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    description: Type.String(),
    events: Type.Array(Type.String()),
    status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
    disabled_reason: Type.Union([Type.String(), Type.Null()]),
    secret: Type.Union([Type.String(), Type.Null()], { description: 'whsec_… signing secret: only when created or rotated' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'WebhookEndpoint' },
);
const DeliverySchema = Type.Object(
  {
    id: Type.String(),
    endpoint_id: Type.String(),
    event_id: Type.String(),
    event_type: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    attempts: Type.Array(Type.Object({ status_code: Type.Union([Type.Integer(), Type.Null()]), duration_ms: Type.Integer(), error: Type.Union([Type.String(), Type.Null()]), at: Timestamp })),
    last_status_code: Type.Union([Type.Integer(), Type.Null()]),
    last_error: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
    delivered_at: Type.Union([Timestamp, Type.Null()]),
  },
  { title: 'WebhookDelivery' },
);

export const webhooksRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['webhooks'];
  const read = access.staff('webhooks:read');
  const write = access.staff('webhooks:write');
  const allowPrivate = deps.config.webhooksAllowPrivate;

  app.get('/api/webhook-endpoints', { config: { access: read }, schema: { tags, summary: 'Webhook endpoints', operationId: 'listWebhookEndpoints', querystring: PageOnlyQuery, response: { 200: Page(EndpointSchema, 'WebhookEndpoint') } } }, async (req) =>
    listEndpoints(deps.ctx(req), pageRequest(req.query)),
  );
  app.post(
    '/api/webhook-endpoints',
    {
      config: { access: write, idempotent: false },
      schema: { tags, summary: 'Subscribe a URL to events; the response shows its signing secret once', operationId: 'createWebhookEndpoint', body: Body({ url: Url, description: Type.Optional(Type.String({ maxLength: 500 })), events: Type.Array(EventName, { minItems: 1, maxItems: 50 }) }, 'WebhookEndpointCreate'), response: { 201: EndpointSchema } },
    },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => createEndpoint(ctx, req.body, allowPrivate))),
  );
  app.get('/api/webhook-endpoints/:id', { config: { access: read }, schema: { tags, summary: 'Read a webhook endpoint', operationId: 'getWebhookEndpoint', params: IdParams, response: { 200: EndpointSchema } } }, async (req) =>
    getEndpoint(deps.ctx(req), req.params.id),
  );
  app.patch(
    '/api/webhook-endpoints/:id',
    {
      config: { access: write },
      schema: { tags, summary: 'Change, disable or re-enable an endpoint', operationId: 'updateWebhookEndpoint', params: IdParams, body: Body({ url: Type.Optional(Url), description: Type.Optional(Type.String({ maxLength: 500 })), events: Type.Optional(Type.Array(EventName, { minItems: 1, maxItems: 50 })), status: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])) }, 'WebhookEndpointUpdate'), response: { 200: EndpointSchema } },
    },
    async (req) => deps.tx(req, (ctx) => updateEndpoint(ctx, req.params.id, req.body, allowPrivate)),
  );
  app.delete('/api/webhook-endpoints/:id', { config: { access: write }, schema: { tags, summary: 'Delete an endpoint and its delivery log', operationId: 'deleteWebhookEndpoint', params: IdParams, response: { 204: NoContent } } }, async (req, reply) => {
    await deps.tx(req, (ctx) => deleteEndpoint(ctx, req.params.id));
    return reply.code(204).send(null);
  });
  app.post(
    '/api/webhook-endpoints/:id/rotate-secret',
    { config: { access: write, idempotent: false }, schema: { tags, summary: 'Replace the signing secret (shown once in the response)', operationId: 'rotateWebhookSecret', params: IdParams, response: { 200: EndpointSchema } } },
    async (req) => deps.tx(req, (ctx) => rotateSecret(ctx, req.params.id)),
  );
  app.get(
    '/api/webhook-endpoints/:id/deliveries',
    { config: { access: read }, schema: { tags, summary: 'The delivery log: every attempt with status code and duration', operationId: 'listWebhookDeliveries', params: IdParams, querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }), response: { 200: Page(DeliverySchema, 'WebhookDelivery') } } },
    async (req) => listDeliveries(deps.ctx(req), req.params.id, req.query.limit ?? 20, req.query.cursor),
  );
  app.post('/api/webhook-deliveries/:id/replay', { config: { access: write }, schema: { tags, summary: 'Send a delivery again', operationId: 'replayWebhookDelivery', params: IdParams, response: { 202: Type.Object({ replayed: Type.Boolean() }) } } }, async (req, reply) => {
    await deps.tx(req, (ctx) => replayDelivery(ctx, req.params.id));
    return reply.code(202).send({ replayed: true });
  });
};
