import type { Ctx } from '../../context.ts';
import type { CollectionsTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage, type Page } from '../../lib/pagination.ts';
import { bumpVersion } from '../events/index.ts';
import { slugify } from '../tenants/index.ts';
import { catalogRepository as repo } from './catalog.repository.ts';

/** Hand-picked collections of products. */

// --- collections ---------------------------------------------------------------------------------

export interface Collection {
  id: string;
  title: string;
  handle: string;
  description: string;
  product_ids: string[];
  created_at: string;
  updated_at: string;
}

const toCollection = (c: CollectionsTable, productIds: string[]): Collection => ({ id: c.id, title: c.title, handle: c.handle, description: c.description, product_ids: productIds, created_at: c.created_at, updated_at: c.updated_at });

export async function getCollection(ctx: Ctx, id: string): Promise<Collection> {
  const c = await repo.findCollection(ctx.db, ctx.tenantId, id);
  if (!c) throw notFound('Collection');
  return toCollection(c, (await repo.collectionProductIds(ctx.db, ctx.tenantId, [id])).get(id) ?? []);
}

export async function listCollections(ctx: Ctx, limit: number, cursor?: string): Promise<Page<Collection>> {
  const page = toPage(await repo.listCollections(ctx.db, ctx.tenantId, limit, decodeCursor(cursor)), limit);
  const members = await repo.collectionProductIds(ctx.db, ctx.tenantId, page.data.map((c) => c.id));
  return { ...page, data: page.data.map((c) => toCollection(c, members.get(c.id) ?? [])) };
}

async function checkProducts(ctx: Ctx, ids: readonly string[]): Promise<void> {
  const found = new Set(await repo.existingProductIds(ctx.db, ctx.tenantId, ids));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) throw invalid('unknown_product', 'Some products are not in this shop', missing.map((id) => ({ pointer: `/body/product_ids/${ids.indexOf(id)}`, detail: 'unknown product' })));
}

export async function createCollection(ctx: Ctx, input: { title: string; handle?: string | undefined; description?: string | undefined; product_ids?: string[] | undefined }): Promise<Collection> {
  const ids = [...new Set(input.product_ids ?? [])];
  await checkProducts(ctx, ids);
  const now = ctx.clock.now().toISOString();
  const id = newId('collection');
  try {
    await repo.insertCollection(ctx.db, { tenant_id: ctx.tenantId, id, title: input.title, handle: input.handle ?? slugify(input.title), description: input.description ?? '', created_at: now, updated_at: now });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('handle_taken', 'A collection with this handle exists');
    throw e;
  }
  await repo.setCollectionProducts(ctx.db, ctx.tenantId, id, ids);
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
  return getCollection(ctx, id);
}

export async function updateCollection(ctx: Ctx, id: string, patch: { title?: string | undefined; handle?: string | undefined; description?: string | undefined; product_ids?: string[] | undefined }): Promise<Collection> {
  await getCollection(ctx, id);
  const next: Record<string, string> = { updated_at: ctx.clock.now().toISOString() };
  if (patch.title !== undefined) next.title = patch.title;
  if (patch.handle !== undefined) next.handle = patch.handle;
  if (patch.description !== undefined) next.description = patch.description;
  try {
    await repo.updateCollection(ctx.db, ctx.tenantId, id, next);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('handle_taken', 'A collection with this handle exists');
    throw e;
  }
  if (patch.product_ids !== undefined) {
    const ids = [...new Set(patch.product_ids)];
    await checkProducts(ctx, ids);
    await repo.setCollectionProducts(ctx.db, ctx.tenantId, id, ids);
  }
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
  return getCollection(ctx, id);
}

export async function deleteCollection(ctx: Ctx, id: string): Promise<void> {
  await getCollection(ctx, id);
  await repo.deleteCollection(ctx.db, ctx.tenantId, id);
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
}
