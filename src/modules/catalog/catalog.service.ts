import type { Ctx, Executor } from '../../context.ts';
import type { ProductsTable, VariantsTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { AppError, conflict, invalid, malformed, notFound, type FieldProblem } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { toPage, type Page } from '../../lib/pagination.ts';
import { availableByVariant, setInitialStock } from '../inventory/index.ts';
import { slugify } from '../tenants/index.ts';
import { bumpVersion } from '../events/index.ts';
import { catalogRepository as repo, type ProductQuery, type ProductSort } from './catalog.repository.ts';
import { descendantsOf } from './categories.service.ts';

export interface ProductOption {
  name: string;
  values: string[];
}

export interface Variant {
  id: string;
  product_id: string;
  sku: string;
  title: string;
  price: number;
  compare_at_price: number | null;
  weight_grams: number;
  option_values: Record<string, string>;
  low_stock_threshold: number;
  position: number;
  /** Units available across locations (staff only; null for shoppers). */
  available: number | null;
  in_stock: boolean;
}

export interface Product {
  id: string;
  title: string;
  description: string;
  handle: string;
  status: ProductsTable['status'];
  category_id: string | null;
  images: string[];
  attributes: Record<string, string>;
  options: ProductOption[];
  variants: Variant[];
  price_range: { min: number; max: number };
  version: number;
  created_at: string;
  updated_at: string;
}

export interface VariantInput {
  sku: string;
  title?: string | undefined;
  price: number;
  compare_at_price?: number | null | undefined;
  weight_grams?: number | undefined;
  option_values?: Record<string, string> | undefined;
  low_stock_threshold?: number | undefined;
  /** Initial stock at the default location. */
  stock?: number | undefined;
}

export interface ProductInput {
  title: string;
  description?: string | undefined;
  handle?: string | undefined;
  status?: ProductsTable['status'] | undefined;
  category_id?: string | null | undefined;
  images?: string[] | undefined;
  attributes?: Record<string, string> | undefined;
  options?: ProductOption[] | undefined;
  variants: VariantInput[];
}

const isShopper = (ctx: Ctx) => ctx.principal.kind === 'shopper' || ctx.principal.kind === 'customer';

function toVariant(v: VariantsTable, available: number, shopper: boolean): Variant {
  return {
    id: v.id,
    product_id: v.product_id,
    sku: v.sku,
    title: v.title,
    price: Number(v.price),
    compare_at_price: v.compare_at_price === null ? null : Number(v.compare_at_price),
    weight_grams: v.weight_grams,
    option_values: JSON.parse(v.option_values) as Record<string, string>,
    low_stock_threshold: v.low_stock_threshold,
    position: v.position,
    available: shopper ? null : available,
    in_stock: available > 0,
  };
}

function toProduct(p: ProductsTable, variants: Variant[]): Product {
  return {
    id: p.id,
    title: p.title,
    description: p.description,
    handle: p.handle,
    status: p.status,
    category_id: p.category_id,
    images: JSON.parse(p.images) as string[],
    attributes: JSON.parse(p.attributes) as Record<string, string>,
    options: JSON.parse(p.options) as ProductOption[],
    variants,
    price_range: { min: Number(p.min_price), max: Number(p.max_price) },
    version: p.version,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}

/** Products with their variants and stock, in two queries for any number of products. */
async function hydrate(ctx: Ctx, rows: ProductsTable[]): Promise<Product[]> {
  const variants = await repo.variantsOf(ctx.db, ctx.tenantId, rows.map((r) => r.id));
  const stock = await availableByVariant(ctx.db, ctx.tenantId, variants.map((v) => v.id));
  const shopper = isShopper(ctx);
  return rows.map((p) =>
    toProduct(
      p,
      variants.filter((v) => v.product_id === p.id).map((v) => toVariant(v, stock.get(v.id) ?? 0, shopper)),
    ),
  );
}

// --- validation a schema cannot express ----------------------------------------------------------

function checkOptions(options: ProductOption[]): void {
  const names = new Set<string>();
  options.forEach((o, i) => {
    if (names.has(o.name)) throw invalid('invalid_options', `Option "${o.name}" is listed twice`, [{ pointer: `/body/options/${i}/name`, detail: 'duplicate' }]);
    names.add(o.name);
    if (new Set(o.values).size !== o.values.length) throw invalid('invalid_options', `Option "${o.name}" repeats a value`, [{ pointer: `/body/options/${i}/values`, detail: 'duplicate value' }]);
  });
}

function checkVariant(options: ProductOption[], v: VariantInput, pointer: string): Record<string, string> {
  const values = v.option_values ?? {};
  const problems: FieldProblem[] = [];
  for (const o of options) {
    const val = values[o.name];
    if (val === undefined) problems.push({ pointer: `${pointer}/option_values/${o.name}`, detail: 'is required' });
    else if (!o.values.includes(val)) problems.push({ pointer: `${pointer}/option_values/${o.name}`, detail: `must be one of: ${o.values.join(', ')}` });
  }
  for (const k of Object.keys(values)) if (!options.some((o) => o.name === k)) problems.push({ pointer: `${pointer}/option_values/${k}`, detail: 'is not an option of this product' });
  if (v.compare_at_price !== undefined && v.compare_at_price !== null && v.compare_at_price < v.price) problems.push({ pointer: `${pointer}/compare_at_price`, detail: 'must be at least the price' });
  if (problems.length) throw invalid('invalid_variant', 'A variant does not fit the product’s options', problems);
  return values;
}

function comboKey(options: ProductOption[], values: Record<string, string>): string {
  return options.map((o) => values[o.name]).join('\u0000');
}

async function checkCategory(ctx: Ctx, id: string | null | undefined): Promise<void> {
  if (id && !(await repo.findCategory(ctx.db, ctx.tenantId, id))) throw invalid('unknown_category', 'No such category in this shop', [{ pointer: '/body/category_id', detail: 'unknown category' }]);
}

function variantRow(ctx: Ctx, productId: string, v: VariantInput, values: Record<string, string>, position: number, now: string): VariantsTable {
  return {
    tenant_id: ctx.tenantId,
    id: newId('variant'),
    product_id: productId,
    sku: v.sku,
    title: v.title ?? (Object.values(values).join(' / ') || 'Default'),
    price: v.price,
    compare_at_price: v.compare_at_price ?? null,
    weight_grams: v.weight_grams ?? 0,
    option_values: JSON.stringify(values),
    low_stock_threshold: v.low_stock_threshold ?? 0,
    position,
    created_at: now,
    updated_at: now,
  };
}

function translateUnique(e: unknown, what: 'sku' | 'handle'): never {
  if (isUniqueViolation(e)) {
    const msg = String((e as Error).message);
    if (/sku/i.test(msg) || what === 'sku') throw conflict('sku_taken', 'A variant with this SKU exists in this shop');
    throw conflict('handle_taken', 'A product with this handle exists in this shop');
  }
  throw e;
}

/** Keeps the product's derived columns (price range, SKUs, search index) in step with its variants. */
async function refreshDerived(ctx: Ctx, productId: string, bumpFrom: number | null): Promise<void> {
  const p = await repo.findProduct(ctx.db, ctx.tenantId, productId);
  if (!p) throw notFound('Product');
  const vs = await repo.variantsOf(ctx.db, ctx.tenantId, [productId]);
  const prices = vs.map((v) => Number(v.price));
  const patch = { min_price: prices.length ? Math.min(...prices) : 0, max_price: prices.length ? Math.max(...prices) : 0, skus: vs.map((v) => v.sku).join(' '), updated_at: ctx.clock.now().toISOString() };
  if (!(await repo.updateProduct(ctx.db, ctx.tenantId, productId, bumpFrom ?? p.version, patch))) throw versionMismatch();
  await repo.syncSearch(ctx.db, { ...p, ...patch });
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
}

const versionMismatch = () => new AppError('precondition_failed', 'version_mismatch', 'The product was changed since you read it; fetch it again');

// --- products ------------------------------------------------------------------------------------

export async function createProduct(ctx: Ctx, input: ProductInput): Promise<Product> {
  const options = input.options ?? [];
  checkOptions(options);
  if (input.variants.length > 1 && options.length === 0) throw invalid('invalid_variant', 'Several variants need options to tell them apart', [{ pointer: '/body/options', detail: 'required with more than one variant' }]);
  await checkCategory(ctx, input.category_id);
  const now = ctx.clock.now().toISOString();
  const id = newId('product');
  const seen = new Set<string>();
  const skus = new Set<string>();
  const rows = input.variants.map((v, i) => {
    const values = checkVariant(options, v, `/body/variants/${i}`);
    const key = comboKey(options, values);
    if (seen.has(key)) throw invalid('invalid_variant', 'Two variants have the same option values', [{ pointer: `/body/variants/${i}/option_values`, detail: 'duplicate combination' }]);
    seen.add(key);
    if (skus.has(v.sku)) throw invalid('invalid_variant', 'Two variants have the same SKU', [{ pointer: `/body/variants/${i}/sku`, detail: 'duplicate SKU' }]);
    skus.add(v.sku);
    return variantRow(ctx, id, v, values, i, now);
  });
  const prices = rows.map((r) => r.price);
  const product: ProductsTable = {
    tenant_id: ctx.tenantId,
    id,
    title: input.title,
    description: input.description ?? '',
    handle: input.handle ?? slugify(input.title),
    status: input.status ?? 'draft',
    category_id: input.category_id ?? null,
    images: JSON.stringify(input.images ?? []),
    attributes: JSON.stringify(input.attributes ?? {}),
    options: JSON.stringify(options),
    skus: rows.map((r) => r.sku).join(' '),
    min_price: Math.min(...prices),
    max_price: Math.max(...prices),
    version: 1,
    created_at: now,
    updated_at: now,
  };
  try {
    await repo.insertProduct(ctx.db, product);
  } catch (e) {
    translateUnique(e, 'handle');
  }
  try {
    await repo.insertVariants(ctx.db, rows);
  } catch (e) {
    translateUnique(e, 'sku');
  }
  for (const [i, v] of input.variants.entries()) await setInitialStock(ctx, (rows[i] as VariantsTable).id, v.stock ?? 0);
  await repo.syncSearch(ctx.db, product);
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
  return getProduct(ctx, id);
}

export async function getProduct(ctx: Ctx, id: string): Promise<Product> {
  const p = await repo.findProduct(ctx.db, ctx.tenantId, id);
  if (!p || (isShopper(ctx) && p.status !== 'active')) throw notFound('Product');
  return (await hydrate(ctx, [p]))[0] as Product;
}

export async function updateProduct(
  ctx: Ctx,
  id: string,
  patch: Partial<Pick<ProductInput, 'title' | 'description' | 'handle' | 'status' | 'category_id' | 'images' | 'attributes'>>,
  expectedVersion: number | null,
): Promise<Product> {
  const p = await repo.findProduct(ctx.db, ctx.tenantId, id);
  if (!p) throw notFound('Product');
  if (expectedVersion !== null && expectedVersion !== p.version) throw versionMismatch();
  if (patch.category_id !== undefined) await checkCategory(ctx, patch.category_id);
  const next: Partial<ProductsTable> = { updated_at: ctx.clock.now().toISOString() };
  if (patch.title !== undefined) next.title = patch.title;
  if (patch.description !== undefined) next.description = patch.description;
  if (patch.handle !== undefined) next.handle = patch.handle;
  if (patch.status !== undefined) next.status = patch.status;
  if (patch.category_id !== undefined) next.category_id = patch.category_id;
  if (patch.images !== undefined) next.images = JSON.stringify(patch.images);
  if (patch.attributes !== undefined) next.attributes = JSON.stringify(patch.attributes);
  try {
    if (!(await repo.updateProduct(ctx.db, ctx.tenantId, id, p.version, next))) throw versionMismatch();
  } catch (e) {
    if (e instanceof AppError) throw e;
    translateUnique(e, 'handle');
  }
  await repo.syncSearch(ctx.db, { ...p, ...next });
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
  return getProduct(ctx, id);
}

export interface ListProductsQuery {
  limit: number;
  cursor?: string | undefined;
  q?: string | undefined;
  status?: ProductsTable['status'] | undefined;
  category_id?: string | undefined;
  collection_id?: string | undefined;
  min_price?: number | undefined;
  max_price?: number | undefined;
  in_stock?: boolean | undefined;
  handle?: string | undefined;
  sort?: ProductSort | undefined;
}

function decodeSortCursor(cursor: string | undefined): { id: string; k: string | number | null } | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { id?: unknown; k?: unknown };
    if (typeof v.id === 'string' && v.id.length <= 64 && (v.k === undefined || v.k === null || typeof v.k === 'string' || typeof v.k === 'number')) return { id: v.id, k: (v.k ?? null) as string | number | null };
  } catch {
    // fall through
  }
  throw malformed('invalid_cursor', 'The cursor is not one this API returned', [{ pointer: '/query/cursor', detail: 'malformed cursor' }]);
}

/** Search and browse. Shoppers see active products only; staff filter by status. */
export async function listProducts(ctx: Ctx, query: ListProductsQuery): Promise<Page<Product>> {
  const sort = query.sort ?? 'newest';
  if (query.min_price !== undefined && query.max_price !== undefined && query.min_price > query.max_price) {
    throw malformed('validation_failed', 'min_price is above max_price', [{ pointer: '/query/min_price', detail: 'must not exceed max_price' }]);
  }
  let categoryIds: string[] | undefined;
  if (query.category_id) {
    const all = await repo.listCategories(ctx.db, ctx.tenantId);
    if (!all.some((c) => c.id === query.category_id)) categoryIds = [];
    else categoryIds = descendantsOf(all, query.category_id);
  }
  const q: ProductQuery = {
    limit: query.limit,
    statuses: isShopper(ctx) ? ['active'] : query.status ? [query.status] : ['draft', 'active', 'archived'],
    q: query.q,
    categoryIds,
    collectionId: query.collection_id,
    minPrice: query.min_price,
    maxPrice: query.max_price,
    inStock: query.in_stock,
    handle: query.handle,
    sort,
    after: decodeSortCursor(query.cursor),
  };
  const rows = await repo.searchProducts(ctx.db, ctx.tenantId, q);
  const page = toPage(rows, query.limit);
  const last = page.data.at(-1);
  const k = last ? (sort === 'price_asc' ? Number(last.min_price) : sort === 'price_desc' ? Number(last.max_price) : sort === 'title_asc' ? last.title : null) : null;
  return {
    data: await hydrate(ctx, page.data),
    has_more: page.has_more,
    next_cursor: page.has_more && last ? Buffer.from(JSON.stringify({ id: last.id, k })).toString('base64url') : null,
  };
}


// --- variants ------------------------------------------------------------------------------------

export async function addVariant(ctx: Ctx, productId: string, input: VariantInput): Promise<Product> {
  const p = await repo.findProduct(ctx.db, ctx.tenantId, productId);
  if (!p) throw notFound('Product');
  const options = JSON.parse(p.options) as ProductOption[];
  const values = checkVariant(options, input, '/body');
  const existing = await repo.variantsOf(ctx.db, ctx.tenantId, [productId]);
  if (options.length === 0 && existing.length > 0) throw invalid('invalid_variant', 'Add options to the product before a second variant');
  if (existing.some((v) => comboKey(options, JSON.parse(v.option_values) as Record<string, string>) === comboKey(options, values))) {
    throw invalid('invalid_variant', 'A variant with these option values exists', [{ pointer: '/body/option_values', detail: 'duplicate combination' }]);
  }
  const row = variantRow(ctx, productId, input, values, existing.length, ctx.clock.now().toISOString());
  try {
    await repo.insertVariants(ctx.db, [row]);
  } catch (e) {
    translateUnique(e, 'sku');
  }
  await setInitialStock(ctx, row.id, input.stock ?? 0);
  await refreshDerived(ctx, productId, null);
  return getProduct(ctx, productId);
}

export async function updateVariant(
  ctx: Ctx,
  id: string,
  patch: { sku?: string | undefined; title?: string | undefined; price?: number | undefined; compare_at_price?: number | null | undefined; weight_grams?: number | undefined; low_stock_threshold?: number | undefined },
): Promise<Product> {
  const v = await repo.findVariant(ctx.db, ctx.tenantId, id);
  if (!v) throw notFound('Variant');
  const next: Partial<VariantsTable> = { updated_at: ctx.clock.now().toISOString() };
  for (const k of ['sku', 'title', 'price', 'compare_at_price', 'weight_grams', 'low_stock_threshold'] as const) {
    if (patch[k] !== undefined) (next as Record<string, unknown>)[k] = patch[k];
  }
  const price = next.price ?? Number(v.price);
  const cap = next.compare_at_price !== undefined ? next.compare_at_price : v.compare_at_price;
  if (cap !== null && cap !== undefined && cap < price) throw invalid('invalid_variant', 'compare_at_price must be at least the price', [{ pointer: '/body/compare_at_price', detail: 'below price' }]);
  try {
    await repo.updateVariant(ctx.db, ctx.tenantId, id, next);
  } catch (e) {
    translateUnique(e, 'sku');
  }
  await refreshDerived(ctx, v.product_id, null);
  return getProduct(ctx, v.product_id);
}

export async function deleteVariant(ctx: Ctx, id: string): Promise<Product> {
  const v = await repo.findVariant(ctx.db, ctx.tenantId, id);
  if (!v) throw notFound('Variant');
  if ((await repo.variantsOf(ctx.db, ctx.tenantId, [v.product_id])).length === 1) throw conflict('last_variant', 'A product keeps at least one variant; archive the product instead');
  await repo.deleteVariant(ctx.db, ctx.tenantId, id);
  await refreshDerived(ctx, v.product_id, null);
  return getProduct(ctx, v.product_id);
}

export interface SellableVariant {
  id: string;
  product_id: string;
  sku: string;
  title: string;
  price: number;
  weight_grams: number;
  low_stock_threshold: number;
  active: boolean;
}

/** What pricing and checkout need of variants: price, weight, the line title, and whether it is on sale. */
export async function sellableVariants(db: Executor, tenantId: string, ids: readonly string[]): Promise<Map<string, SellableVariant>> {
  const rows = await repo.sellable(db, tenantId, [...new Set(ids)]);
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        product_id: r.product_id,
        sku: r.sku,
        title: r.title === 'Default' ? r.product_title : `${r.product_title} — ${r.title}`,
        price: Number(r.price),
        weight_grams: r.weight_grams,
        low_stock_threshold: r.low_stock_threshold,
        active: r.product_status === 'active',
      },
    ]),
  );
}
