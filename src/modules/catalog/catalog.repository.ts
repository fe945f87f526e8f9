import { sql } from 'kysely';
import type { Executor } from '../../context.ts';
import type { CategoriesTable, CollectionsTable, ProductsTable, VariantsTable } from '../../db/schema.ts';
import { dialectOf, inList } from '../../db/database.ts';

export type ProductSort = 'newest' | 'oldest' | 'price_asc' | 'price_desc' | 'title_asc';

export interface ProductQuery {
  limit: number;
  statuses: ProductsTable['status'][];
  q?: string | undefined;
  categoryIds?: string[] | undefined;
  collectionId?: string | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  inStock?: boolean | undefined;
  handle?: string | undefined;
  sort: ProductSort;
  after?: { id: string; k: string | number | null } | undefined;
}

/** Words of a search box turned into prefix terms both engines understand; anything else is dropped. */
export function searchTerms(q: string): string[] {
  return (q.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 8).map((t) => t.slice(0, 40));
}

/** Catalogue tables. Every query is scoped by tenant_id; search uses FTS5 (SQLite) or a tsvector (PostgreSQL). */
export const catalogRepository = {
  // categories
  async insertCategory(db: Executor, row: CategoriesTable) {
    await db.insertInto('categories').values(row).execute();
  },
  async categoriesByIds(db: Executor, tenantId: string, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return db.selectFrom('categories').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
  },
  async findCategory(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('categories').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async countCategories(db: Executor, tenantId: string): Promise<number> {
    return Number((await db.selectFrom('categories').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
  },
  /** A page of the tree as a flat list, in menu order: (position, id). */
  async pageCategories(db: Executor, tenantId: string, limit: number, after?: { key: number; id: string }) {
    let q = db.selectFrom('categories').selectAll().where('tenant_id', '=', tenantId).orderBy('position').orderBy('id').limit(limit + 1);
    if (after) q = q.where((eb) => eb.or([eb('position', '>', after.key), eb.and([eb('position', '=', after.key), eb('id', '>', after.id)])]));
    return q.execute();
  },
  async listCategories(db: Executor, tenantId: string) {
    return db.selectFrom('categories').selectAll().where('tenant_id', '=', tenantId).orderBy('position').orderBy('id').execute();
  },
  async updateCategory(db: Executor, tenantId: string, id: string, patch: Partial<CategoriesTable>) {
    await db.updateTable('categories').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async deleteCategory(db: Executor, tenantId: string, id: string) {
    await db.deleteFrom('categories').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async categoryInUse(db: Executor, tenantId: string, id: string): Promise<boolean> {
    const child = await db.selectFrom('categories').select('id').where('tenant_id', '=', tenantId).where('parent_id', '=', id).executeTakeFirst();
    const product = await db.selectFrom('products').select('id').where('tenant_id', '=', tenantId).where('category_id', '=', id).executeTakeFirst();
    return child !== undefined || product !== undefined;
  },

  // products
  async insertProduct(db: Executor, row: ProductsTable) {
    await db.insertInto('products').values(row).execute();
  },
  async findProduct(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('products').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async updateProduct(db: Executor, tenantId: string, id: string, version: number, patch: Partial<ProductsTable>): Promise<boolean> {
    const r = await db
      .updateTable('products')
      .set({ ...patch, version: version + 1 })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('version', '=', version)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async syncSearch(db: Executor, p: { tenant_id: string; id: string; title: string; description: string; skus: string }) {
    if (dialectOf(db) === 'postgres') return; // the tsvector column is generated from the row
    await db.deleteFrom('products_fts').where('tenant_id', '=', p.tenant_id).where('product_id', '=', p.id).execute();
    await db.insertInto('products_fts').values({ tenant_id: p.tenant_id, product_id: p.id, title: p.title, description: p.description, skus: p.skus }).execute();
  },

  async searchProducts(db: Executor, tenantId: string, q: ProductQuery) {
    let query = db.selectFrom('products as p').selectAll('p').where('p.tenant_id', '=', tenantId).where('p.status', 'in', q.statuses);
    if (q.handle) query = query.where('p.handle', '=', q.handle);
    if (q.categoryIds) query = query.where('p.category_id', 'in', q.categoryIds.length ? q.categoryIds : ['']);
    if (q.collectionId) {
      const cid = q.collectionId;
      query = query.where((eb) =>
        eb.exists(eb.selectFrom('collection_products as cp').select('cp.product_id').whereRef('cp.tenant_id', '=', 'p.tenant_id').whereRef('cp.product_id', '=', 'p.id').where('cp.collection_id', '=', cid)),
      );
    }
    if (q.minPrice !== undefined) query = query.where('p.max_price', '>=', q.minPrice);
    if (q.maxPrice !== undefined) query = query.where('p.min_price', '<=', q.maxPrice);
    if (q.inStock) {
      query = query.where((eb) =>
        eb.exists(
          eb
            .selectFrom('variants as v')
            .innerJoin('stock_levels as s', (j) => j.onRef('s.tenant_id', '=', 'v.tenant_id').onRef('s.variant_id', '=', 'v.id'))
            .select('v.id')
            .whereRef('v.tenant_id', '=', 'p.tenant_id')
            .whereRef('v.product_id', '=', 'p.id')
            .where('s.available', '>', 0),
        ),
      );
    }
    const terms = q.q ? searchTerms(q.q) : [];
    if (q.q !== undefined) {
      if (terms.length === 0) return [];
      if (dialectOf(db) === 'postgres') {
        const tsq = terms.map((t) => `${t}:*`).join(' & ');
        query = query.where(sql<boolean>`p.search @@ to_tsquery('simple', ${tsq})`);
      } else {
        const match = terms.map((t) => `"${t}"*`).join(' ');
        query = query.where('p.id', 'in', (eb) => eb.selectFrom('products_fts').select('product_id').where('tenant_id', '=', tenantId).where(sql<boolean>`products_fts match ${match}`));
      }
    }
    const a = q.after;
    switch (q.sort) {
      case 'newest':
        if (a) query = query.where('p.id', '<', a.id);
        query = query.orderBy('p.id', 'desc');
        break;
      case 'oldest':
        if (a) query = query.where('p.id', '>', a.id);
        query = query.orderBy('p.id', 'asc');
        break;
      case 'price_asc':
        if (a) query = query.where((eb) => eb.or([eb('p.min_price', '>', Number(a.k)), eb.and([eb('p.min_price', '=', Number(a.k)), eb('p.id', '>', a.id)])]));
        query = query.orderBy('p.min_price', 'asc').orderBy('p.id', 'asc');
        break;
      case 'price_desc':
        if (a) query = query.where((eb) => eb.or([eb('p.max_price', '<', Number(a.k)), eb.and([eb('p.max_price', '=', Number(a.k)), eb('p.id', '<', a.id)])]));
        query = query.orderBy('p.max_price', 'desc').orderBy('p.id', 'desc');
        break;
      case 'title_asc':
        if (a) query = query.where((eb) => eb.or([eb('p.title', '>', String(a.k)), eb.and([eb('p.title', '=', String(a.k)), eb('p.id', '>', a.id)])]));
        query = query.orderBy('p.title', 'asc').orderBy('p.id', 'asc');
        break;
    }
    return query.limit(q.limit + 1).execute();
  },

  // variants
  async insertVariants(db: Executor, rows: VariantsTable[]) {
    for (let i = 0; i < rows.length; i += 1000) await db.insertInto('variants').values(rows.slice(i, i + 1000)).execute();
  },
  async insertProducts(db: Executor, rows: ProductsTable[]) {
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('products').values(rows.slice(i, i + 500)).execute();
  },
  async productsByHandles(db: Executor, tenantId: string, handles: readonly string[]) {
    if (handles.length === 0) return [];
    return db.selectFrom('products').selectAll().where('tenant_id', '=', tenantId).where(inList(db, 'handle', handles)).execute();
  },
  async variantsBySkus(db: Executor, tenantId: string, skus: readonly string[]) {
    if (skus.length === 0) return [];
    return db.selectFrom('variants').selectAll().where('tenant_id', '=', tenantId).where(inList(db, 'sku', skus)).execute();
  },
  /** The search index of many products at once (an import). */
  async syncSearchMany(db: Executor, tenantId: string, rows: readonly { id: string; title: string; description: string; skus: string }[], fresh: boolean) {
    if (dialectOf(db) === 'postgres' || rows.length === 0) return;
    for (let i = 0; i < rows.length; i += 500) {
      const part = rows.slice(i, i + 500);
      // The index's ids are unindexed columns: deleting scans it, so products made in this batch skip it.
      if (!fresh) await db.deleteFrom('products_fts').where('tenant_id', '=', tenantId).where('product_id', 'in', part.map((p) => p.id)).execute();
      await db.insertInto('products_fts').values(part.map((p) => ({ tenant_id: tenantId, product_id: p.id, title: p.title, description: p.description, skus: p.skus }))).execute();
    }
  },
  async variantsOf(db: Executor, tenantId: string, productIds: readonly string[]) {
    if (productIds.length === 0) return [];
    return db.selectFrom('variants').selectAll().where('tenant_id', '=', tenantId).where(inList(db, 'product_id', productIds)).orderBy('product_id').orderBy('position').orderBy('id').execute();
  },
  async findVariant(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('variants').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async updateVariant(db: Executor, tenantId: string, id: string, patch: Partial<VariantsTable>) {
    await db.updateTable('variants').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async deleteVariant(db: Executor, tenantId: string, id: string) {
    await db.deleteFrom('variants').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  /** Variants with what selling them needs from their product. */
  async sellable(db: Executor, tenantId: string, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return db
      .selectFrom('variants as v')
      .innerJoin('products as p', (j) => j.onRef('p.tenant_id', '=', 'v.tenant_id').onRef('p.id', '=', 'v.product_id'))
      .select(['v.id', 'v.product_id', 'v.sku', 'v.title', 'v.price', 'v.weight_grams', 'v.low_stock_threshold', 'p.title as product_title', 'p.status as product_status'])
      .where('v.tenant_id', '=', tenantId)
      .where('v.id', 'in', ids)
      .execute();
  },

  // collections
  async insertCollection(db: Executor, row: CollectionsTable) {
    await db.insertInto('collections').values(row).execute();
  },
  async findCollection(db: Executor, tenantId: string, id: string) {
    return db.selectFrom('collections').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },
  async listCollections(db: Executor, tenantId: string, limit: number, after?: string) {
    let q = db.selectFrom('collections').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(limit + 1);
    if (after) q = q.where('id', '<', after);
    return q.execute();
  },
  async updateCollection(db: Executor, tenantId: string, id: string, patch: Partial<CollectionsTable>) {
    await db.updateTable('collections').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async deleteCollection(db: Executor, tenantId: string, id: string) {
    await db.deleteFrom('collections').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },
  async setCollectionProducts(db: Executor, tenantId: string, collectionId: string, productIds: readonly string[]) {
    await db.deleteFrom('collection_products').where('tenant_id', '=', tenantId).where('collection_id', '=', collectionId).execute();
    if (productIds.length) {
      await db
        .insertInto('collection_products')
        .values(productIds.map((product_id, position) => ({ tenant_id: tenantId, collection_id: collectionId, product_id, position })))
        .execute();
    }
  },
  /** Member product ids, in order, of each of the given collections (one query for a whole page). */
  async collectionProductIds(db: Executor, tenantId: string, collectionIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(collectionIds.map((id) => [id, []]));
    if (collectionIds.length === 0) return out;
    const rows = await db.selectFrom('collection_products').select(['collection_id', 'product_id']).where('tenant_id', '=', tenantId).where('collection_id', 'in', collectionIds).orderBy('collection_id').orderBy('position').execute();
    for (const r of rows) out.get(r.collection_id)?.push(r.product_id);
    return out;
  },
  async existingProductIds(db: Executor, tenantId: string, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return (await db.selectFrom('products').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute()).map((r) => r.id);
  },
};
