import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import type { Access } from '../../http/access.ts';
import { access } from '../../http/access.ts';
import { problemResponse } from '../../http/problem.ts';
import { PageCache, sendEntry } from '../../http/page-cache.ts';
import { currentVersion } from '../events/index.ts';
import { contentEtag, fingerprint, ifMatchVersion, sendWithEtag, setEtag } from '../../http/etag.ts';
import { IdParams, NoContent, Page, PageQuery, PageOnlyQuery, pageRequest } from '../../http/schemas.ts';
import {
  addVariant,
  createCategory,
  createCollection,
  createProduct,
  deleteCategory,
  deleteCollection,
  deleteVariant,
  getCollection,
  getProduct,
  listCategories,
  listCollections,
  listProducts,
  updateCategory,
  updateCollection,
  updateProduct,
  updateVariant,
  type Product,
} from './index.ts';
import {
  CategoryCreate,
  CategoryPatch,
  CategorySchema,
  CollectionCreate,
  CollectionPatch,
  CollectionSchema,
  ProductCreate,
  ProductListQuery,
  ProductPage,
  ProductPatch,
  ProductSchema,
  VariantCreate,
  VariantPatch,
} from './catalog.schemas.ts';

const read: Access = { staff: 'catalog:read', shopper: true };
const write = access.staff('catalog:write');
const notModified = { 304: { description: 'Not Modified: your If-None-Match is current' } };
const productEtag = (p: Product) => fingerprint(p.variants.map((v) => [v.id, v.available, v.in_stock]));

export const catalogRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['catalog'];
  // Storefronts read the same pages over and over; they are served from memory until the shop's catalogue or stock changes.
  const pages = new PageCache(1000);
  const withEtag = (reply: Parameters<typeof setEtag>[0], p: Product) => setEtag(reply, p.id, p.version, productEtag(p));

  // --- products
  app.get(
    '/api/products',
    {
      config: { access: read },
      schema: { tags, summary: 'Search and browse products (shoppers see active products only)', operationId: 'listProducts', querystring: ProductListQuery, response: { 200: ProductPage, ...notModified } },
    },
    async (req, reply) => {
      const ctx = deps.ctx(req);
      const version = await currentVersion(ctx.db, ctx.tenantId, 'catalog');
      const key = `${ctx.tenantId}|${ctx.principal.kind === 'shopper' || ctx.principal.kind === 'customer' ? 'shop' : 'staff'}|${req.url}`;
      const hit = pages.get(key, version);
      if (hit) return sendEntry(req, reply, hit);
      const page = await listProducts(ctx, { ...req.query, limit: req.query.limit ?? 20 });
      return sendEntry(req, reply, pages.set(key, version, reply.serialize(page) as string));
    },
  );
  app.post(
    '/api/products',
    { config: { access: write }, schema: { tags, summary: 'Create a product with its variants (and their initial stock)', operationId: 'createProduct', body: ProductCreate, response: { 201: ProductSchema } } },
    async (req, reply) => {
      const p = await deps.tx(req, (ctx) => createProduct(ctx, req.body));
      withEtag(reply, p);
      return reply.code(201).header('location', `/api/products/${p.id}`).send(p);
    },
  );
  app.get(
    '/api/products/:id',
    { config: { access: read }, schema: { tags, summary: 'Read a product (ETag; If-None-Match answers 304)', operationId: 'getProduct', params: IdParams, response: { 200: ProductSchema, ...notModified } } },
    async (req, reply) => {
      const p = await getProduct(deps.ctx(req), req.params.id);
      const etag = `"${p.id}.${p.version}.${productEtag(p)}"`;
      return sendWithEtag(req, reply, etag, p);
    },
  );
  app.patch(
    '/api/products/:id',
    {
      config: { access: write },
      schema: { tags, summary: 'Change a product; send If-Match with its ETag (archive with status "archived")', operationId: 'updateProduct', params: IdParams, body: ProductPatch, response: { 200: ProductSchema, 412: problemResponse('If-Match names an old version') } },
    },
    async (req, reply) => {
      const expected = ifMatchVersion(req, req.params.id);
      const p = await deps.tx(req, (ctx) => updateProduct(ctx, req.params.id, req.body, expected));
      withEtag(reply, p);
      return p;
    },
  );

  // --- variants
  app.post(
    '/api/products/:id/variants',
    { config: { access: write }, schema: { tags, summary: 'Add a variant', operationId: 'addVariant', params: IdParams, body: VariantCreate, response: { 201: ProductSchema } } },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => addVariant(ctx, req.params.id, req.body))),
  );
  app.patch(
    '/api/variants/:id',
    { config: { access: write }, schema: { tags, summary: 'Change a variant (price, SKU, weight …)', operationId: 'updateVariant', params: IdParams, body: VariantPatch, response: { 200: ProductSchema } } },
    async (req) => deps.tx(req, (ctx) => updateVariant(ctx, req.params.id, req.body)),
  );
  app.delete(
    '/api/variants/:id',
    { config: { access: write }, schema: { tags, summary: 'Remove a variant (not the last one)', operationId: 'deleteVariant', params: IdParams, response: { 200: ProductSchema } } },
    async (req) => deps.tx(req, (ctx) => deleteVariant(ctx, req.params.id)),
  );

  // --- categories
  app.get('/api/categories', { config: { access: read }, schema: { tags, summary: 'The category tree, as a flat list with parent ids', operationId: 'listCategories', querystring: PageOnlyQuery, response: { 200: Page(CategorySchema, 'Category'), ...notModified } } }, async (req, reply) => {
    const body = await listCategories(deps.ctx(req), pageRequest(req.query));
    return sendWithEtag(req, reply, contentEtag(body), body);
  });
  app.post('/api/categories', { config: { access: write }, schema: { tags, summary: 'Create a category', operationId: 'createCategory', body: CategoryCreate, response: { 201: CategorySchema } } }, async (req, reply) =>
    reply.code(201).send(await deps.tx(req, (ctx) => createCategory(ctx, req.body))),
  );
  app.patch('/api/categories/:id', { config: { access: write }, schema: { tags, summary: 'Change or move a category', operationId: 'updateCategory', params: IdParams, body: CategoryPatch, response: { 200: CategorySchema } } }, async (req) =>
    deps.tx(req, (ctx) => updateCategory(ctx, req.params.id, req.body)),
  );
  app.delete('/api/categories/:id', { config: { access: write }, schema: { tags, summary: 'Delete an empty category', operationId: 'deleteCategory', params: IdParams, response: { 204: NoContent } } }, async (req, reply) => {
    await deps.tx(req, (ctx) => deleteCategory(ctx, req.params.id));
    return reply.code(204).send(null);
  });

  // --- collections
  app.get(
    '/api/collections',
    { config: { access: read }, schema: { tags, summary: 'List collections', operationId: 'listCollections', querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }), response: { 200: Type.Object({ data: Type.Array(CollectionSchema), has_more: Type.Boolean(), next_cursor: Type.Union([Type.String(), Type.Null()]) }) } } },
    async (req) => listCollections(deps.ctx(req), req.query.limit ?? 20, req.query.cursor),
  );
  app.post('/api/collections', { config: { access: write }, schema: { tags, summary: 'Create a collection', operationId: 'createCollection', body: CollectionCreate, response: { 201: CollectionSchema } } }, async (req, reply) =>
    reply.code(201).send(await deps.tx(req, (ctx) => createCollection(ctx, req.body))),
  );
  app.get('/api/collections/:id', { config: { access: read }, schema: { tags, summary: 'Read a collection', operationId: 'getCollection', params: IdParams, response: { 200: CollectionSchema } } }, async (req) =>
    getCollection(deps.ctx(req), req.params.id),
  );
  app.patch('/api/collections/:id', { config: { access: write }, schema: { tags, summary: 'Change a collection (product_ids replaces the members)', operationId: 'updateCollection', params: IdParams, body: CollectionPatch, response: { 200: CollectionSchema } } }, async (req) =>
    deps.tx(req, (ctx) => updateCollection(ctx, req.params.id, req.body)),
  );
  app.delete('/api/collections/:id', { config: { access: write }, schema: { tags, summary: 'Delete a collection', operationId: 'deleteCollection', params: IdParams, response: { 204: NoContent } } }, async (req, reply) => {
    await deps.tx(req, (ctx) => deleteCollection(ctx, req.params.id));
    return reply.code(204).send(null);
  });
};
