import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { Body, Name, Page, PageQuery, Timestamp, PageOnlyQuery, pageRequest } from '../../http/schemas.ts';
import { adjustStock, createLocation, stockLevelsOf, listLedger, listLocations } from './inventory.service.ts';

const Id = Type.String({ minLength: 1, maxLength: 64 });
const LocationSchema = Type.Object({ id: Type.String(), name: Type.String(), is_default: Type.Boolean(), created_at: Timestamp }, { title: 'Location' });
const LevelSchema = Type.Object({ variant_id: Type.String(), location_id: Type.String(), available: Type.Integer() }, { title: 'StockLevel' });
const LedgerSchema = Type.Object(
  {
    id: Type.String(),
    variant_id: Type.String(),
    location_id: Type.String(),
    delta: Type.Integer(),
    balance_after: Type.Integer(),
    reason: Type.Union([Type.Literal('sale'), Type.Literal('return'), Type.Literal('adjustment'), Type.Literal('count'), Type.Literal('release')]),
    actor: Type.String({ description: 'User, key, customer or "system"' }),
    reference: Type.Union([Type.String(), Type.Null()], { description: 'The order, for sales, releases and returns' }),
    note: Type.Union([Type.String(), Type.Null()]),
    created_at: Timestamp,
  },
  { title: 'LedgerEntry' },
);
const Adjustment = Body(
  {
    variant_id: Id,
    location_id: Type.Optional(Id),
    reason: Type.Union([Type.Literal('adjustment'), Type.Literal('return'), Type.Literal('count')], { description: 'count sets the level (set_to); adjustment and return change it (delta)' }),
    delta: Type.Optional(Type.Integer({ minimum: -1_000_000_000, maximum: 1_000_000_000 })),
    set_to: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  'StockAdjustment',
);

export const inventoryRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['inventory'];
  app.get('/api/locations', { config: { access: access.staff('inventory:read') }, schema: { tags, summary: 'Stock locations (a default one always exists)', operationId: 'listLocations', querystring: PageOnlyQuery, response: { 200: Page(LocationSchema, 'Location') } } }, async (req) =>
    deps.tx(req, (ctx) => listLocations(ctx, pageRequest(req.query))),
  );
  app.post(
    '/api/locations',
    { config: { access: access.staff('inventory:write') }, schema: { tags, summary: 'Add a stock location', operationId: 'createLocation', body: Body({ name: Name(100) }, 'LocationCreate'), response: { 201: LocationSchema } } },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => createLocation(ctx, req.body.name))),
  );
  app.get(
    '/api/inventory',
    {
      config: { access: access.staff('inventory:read') },
      schema: { tags, summary: 'Stock levels of a variant per location', operationId: 'getStockLevels', querystring: Type.Object({ variant_id: Id }, { additionalProperties: false }), response: { 200: Type.Object({ data: Type.Array(LevelSchema) }) } },
    },
    async (req) => ({ data: await stockLevelsOf(deps.ctx(req), req.query.variant_id) }),
  );
  app.post(
    '/api/inventory/adjustments',
    {
      config: { access: access.staff('inventory:write') },
      schema: { tags, summary: 'Adjust, return or count stock at a location (recorded in the ledger)', operationId: 'adjustStock', body: Adjustment, response: { 201: Type.Object({ variant_id: Type.String(), location_id: Type.String(), available: Type.Integer(), ledger_entry_id: Type.String() }) } },
    },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => adjustStock(ctx, req.body))),
  );
  app.get(
    '/api/inventory/ledger',
    {
      config: { access: access.staff('inventory:read') },
      schema: { tags, summary: 'The stock ledger: every change, who made it, when and why', operationId: 'listLedger', querystring: Type.Object({ ...PageQuery, variant_id: Type.Optional(Id), reference: Type.Optional(Id) }, { additionalProperties: false }), response: { 200: Page(LedgerSchema, 'LedgerEntry') } },
    },
    async (req) => listLedger(deps.ctx(req), { ...req.query, limit: req.query.limit ?? 20 }),
  );
};
