import type { Ctx } from '../../context.ts';
import type { CategoriesTable, ProductsTable, VariantsTable } from '../../db/schema.ts';
import { newId } from '../../lib/ids.ts';
import { assertRoom } from '../../lib/limits.ts';
import { bumpVersion } from '../events/index.ts';
import { setStockLevels, type LevelTarget } from '../inventory/index.ts';
import { slugify } from '../tenants/index.ts';
import { catalogRepository as repo } from './catalog.repository.ts';

/** One variant as an import file gives it: only what the file says is set; absent fields are left as they are. */
export interface ImportVariant {
  row: number;
  sku: string;
  title?: string | undefined;
  price?: number | undefined;
  compare_at_price?: number | null | undefined;
  weight_grams?: number | undefined;
  /** Option name → value. */
  option_values: Record<string, string>;
  /** Location id → units available there (a count). */
  stock: Map<string, number>;
  /** Where a field of this variant sits in the file (a CSV column, a JSON pointer): for the error report. */
  at(field: string): string;
}

/** A product as an import file gives it, matched to the shop's product by handle. */
export interface ImportProduct {
  row: number;
  handle: string;
  title?: string | undefined;
  description?: string | undefined;
  status?: ProductsTable['status'] | undefined;
  /** A category's handle or name; one that does not exist is made at the top level. */
  category?: string | undefined;
  images?: string[] | undefined;
  attributes?: Record<string, string> | undefined;
  /** Option names in order (values come from the variants). */
  options?: string[] | undefined;
  variants: ImportVariant[];
  at(field: string): string;
}

export interface RowProblem {
  row: number;
  column: string;
  code: string;
  message: string;
}

export interface BatchOutcome {
  created: number;
  updated: number;
  unchanged: number;
  /** Rows not imported (their product had a problem). */
  failed: number;
  problems: RowProblem[];
}

interface Plan {
  product: ProductsTable;
  isNew: boolean;
  productChanged: boolean;
  searchChanged: boolean;
  /** The product's variants after the import, old and new. */
  variants: VariantsTable[];
  newVariants: VariantsTable[];
  changedVariants: { id: string; patch: Partial<VariantsTable> }[];
  /** Row → created | updated (a row not here is unchanged, unless stock moves). */
  rowState: Map<number, 'created' | 'updated'>;
  rowOfVariant: Map<string, number>;
}

/**
 * Upserts a batch of products from an import, in the caller's transaction: a product by handle, a variant by SKU
 * (a SKU never moves between products). Only what differs is written — a product's version moves only when it
 * changed — so importing the same file again writes nothing. A product with any problem is skipped whole (no half
 * product), and each problem names its row and column. Stock given per location is set as a count.
 */
export async function importProducts(ctx: Ctx, input: readonly ImportProduct[], opts: { reference: string }): Promise<BatchOutcome> {
  const out: BatchOutcome = { created: 0, updated: 0, unchanged: 0, failed: 0, problems: [] };
  if (input.length === 0) return out;
  const now = ctx.clock.now().toISOString();
  const existing = new Map((await repo.productsByHandles(ctx.db, ctx.tenantId, [...new Set(input.map((p) => p.handle))])).map((p) => [p.handle, p]));
  const bySku = new Map((await repo.variantsBySkus(ctx.db, ctx.tenantId, [...new Set(input.flatMap((p) => p.variants.map((v) => v.sku)))])).map((v) => [v.sku, v]));
  const variantsOf = new Map<string, VariantsTable[]>();
  for (const v of await repo.variantsOf(ctx.db, ctx.tenantId, [...existing.values()].map((p) => p.id))) variantsOf.set(v.product_id, [...(variantsOf.get(v.product_id) ?? []), v]);
  const categories = new Categories(ctx, now);

  const plans: Plan[] = [];
  const planAt = new Map<string, number>(); // handle → index in plans
  const imported = new Set<ImportProduct>();
  const handles = new Set<string>();
  const skus = new Set<string>();
  for (const p of input) {
    const problems: RowProblem[] = [];
    const fail = (row: number, column: string, code: string, message: string) => problems.push({ row, column, code, message });
    // The same handle again in a batch (the file repeats it further down): merged into the earlier group.
    const earlier = planAt.get(p.handle) ?? -1;
    const earlierPlan = earlier >= 0 ? (plans[earlier] as Plan) : null;
    const prior = earlierPlan?.product ?? existing.get(p.handle) ?? null;
    if (handles.has(p.handle) && !prior) fail(p.row, p.at('handle'), 'duplicate_handle', 'This handle appears further up in a product that was not imported');
    handles.add(p.handle);
    const priorVariants = earlierPlan?.variants ?? (prior ? (variantsOf.get(prior.id) ?? []) : []);
    const plan = await planProduct(ctx, p, prior, priorVariants, bySku, skus, categories, now, fail);
    if (problems.length || !plan) {
      out.failed += p.variants.length || 1;
      out.problems.push(...problems);
      continue;
    }
    imported.add(p);
    if (earlierPlan) {
      plans[earlier] = {
        ...plan,
        isNew: earlierPlan.isNew,
        productChanged: earlierPlan.productChanged || plan.productChanged,
        searchChanged: earlierPlan.searchChanged || plan.searchChanged,
        newVariants: [...earlierPlan.newVariants, ...plan.newVariants],
        changedVariants: [...earlierPlan.changedVariants, ...plan.changedVariants],
        rowState: new Map([...earlierPlan.rowState, ...plan.rowState]),
        rowOfVariant: new Map([...earlierPlan.rowOfVariant, ...plan.rowOfVariant]),
      };
    } else {
      planAt.set(p.handle, plans.length);
      plans.push(plan);
    }
    for (const v of p.variants) {
      skus.add(v.sku);
      const kept = plan.variants.find((x) => x.sku === v.sku);
      if (kept) bySku.set(v.sku, kept);
    }
  }

  // Writes: new products and variants in bulk, changes one statement each, the search index, then stock.
  await categories.flush();
  const fresh = plans.filter((x) => x.isNew);
  await repo.insertProducts(ctx.db, fresh.map((x) => x.product));
  for (const x of plans.filter((x) => !x.isNew && x.productChanged)) {
    const { id, version } = x.product;
    const p = x.product;
    // Only the columns an import sets (PostgreSQL's search column is generated, never written).
    const patch: Partial<ProductsTable> = { title: p.title, description: p.description, status: p.status, category_id: p.category_id, images: p.images, attributes: p.attributes, options: p.options, skus: p.skus, min_price: p.min_price, max_price: p.max_price, updated_at: p.updated_at };
    if (!(await repo.updateProduct(ctx.db, ctx.tenantId, id, version, patch))) throw new Error(`product ${id} changed during the import; the batch is retried`);
    x.product.version = version + 1;
  }
  await repo.insertVariants(ctx.db, plans.flatMap((x) => x.newVariants));
  for (const x of plans) for (const c of x.changedVariants) await repo.updateVariant(ctx.db, ctx.tenantId, c.id, c.patch);
  await repo.syncSearchMany(ctx.db, ctx.tenantId, fresh.map((x) => x.product), true);
  await repo.syncSearchMany(ctx.db, ctx.tenantId, plans.filter((x) => !x.isNew && x.searchChanged).map((x) => x.product), false);

  const freshIds = new Set(plans.flatMap((x) => x.newVariants.map((v) => v.id)));
  const targets: LevelTarget[] = [];
  const rowOf = new Map<string, { plan: Plan; row: number }>();
  const planOf = new Map(plans.map((x) => [x.product.id, x]));
  for (const p of imported) {
    for (const v of p.variants) {
      const variant = bySku.get(v.sku);
      const plan = variant && planOf.get(variant.product_id);
      if (!variant || !plan) continue;
      rowOf.set(variant.id, { plan, row: v.row });
      for (const [location, quantity] of v.stock) targets.push({ variant_id: variant.id, location_id: location, quantity });
    }
  }
  const moved = await setStockLevels(ctx, targets, freshIds, { reference: opts.reference, note: 'import' });
  for (const id of moved) {
    const r = rowOf.get(id);
    if (r && !r.plan.rowState.has(r.row)) r.plan.rowState.set(r.row, 'updated');
  }
  if (plans.some((x) => x.isNew || x.productChanged || x.newVariants.length || x.changedVariants.length)) await bumpVersion(ctx.db, ctx.tenantId, 'catalog');

  for (const p of imported) {
    const plan = plans[planAt.get(p.handle) ?? -1];
    if (!plan) continue;
    for (const v of p.variants) {
      const state = plan.rowState.get(v.row);
      if (state === 'created') out.created++;
      else if (state === 'updated') out.updated++;
      else out.unchanged++;
    }
  }
  return out;
}

async function planProduct(
  ctx: Ctx,
  p: ImportProduct,
  prior: ProductsTable | null,
  priorVariants: VariantsTable[],
  bySku: ReadonlyMap<string, VariantsTable>,
  seenSkus: ReadonlySet<string>,
  categories: Categories,
  now: string,
  fail: (row: number, column: string, code: string, message: string) => void,
): Promise<Plan | null> {
  const rowState = new Map<number, 'created' | 'updated'>();
  const isNew = prior === null;
  if (isNew && !p.title) fail(p.row, p.at('title'), 'required', 'A new product needs a title');
  if (p.variants.length === 0) fail(p.row, p.at('sku'), 'required', 'A product needs at least one variant (a SKU)');

  // Options: names from the file (or the product's own); a new value joins the option's list.
  const priorOptions = prior ? (JSON.parse(prior.options) as { name: string; values: string[] }[]) : [];
  const names = p.options ?? priorOptions.map((o) => o.name);
  if (prior && p.options && (priorVariants.length > 0 || priorOptions.length > 0) && names.join('\u0000') !== priorOptions.map((o) => o.name).join('\u0000')) {
    fail(p.row, p.at('options'), 'options_mismatch', `The product’s options are ${priorOptions.map((o) => o.name).join(', ') || 'none'}; change them in the API, not by import`);
    return null;
  }
  if (new Set(names).size !== names.length) fail(p.row, p.at('options'), 'invalid_options', 'An option is named twice');
  const options = names.map((name) => ({ name, values: [...(priorOptions.find((o) => o.name === name)?.values ?? [])] }));

  const variants = priorVariants.map((v) => ({ ...v }));
  const newVariants: VariantsTable[] = [];
  const changed = new Map<string, Partial<VariantsTable>>();
  const rowOfVariant = new Map<string, number>();
  const here = new Set<string>();
  for (const v of p.variants) {
    const other = bySku.get(v.sku);
    if (here.has(v.sku)) {
      fail(v.row, v.at('sku'), 'duplicate_sku', 'This SKU appears twice in this product');
      continue;
    }
    here.add(v.sku);
    if (seenSkus.has(v.sku) && !(other && prior && other.product_id === prior.id)) {
      fail(v.row, v.at('sku'), 'duplicate_sku', 'This SKU appears on another row of this file');
      continue;
    }
    if (other && (!prior || other.product_id !== prior.id)) {
      fail(v.row, v.at('sku'), 'sku_in_other_product', 'This SKU belongs to another product of the shop; a SKU never moves between products');
      continue;
    }
    for (const name of Object.keys(v.option_values)) if (!names.includes(name)) fail(v.row, v.at(`option:${name}`), 'unknown_option', `"${name}" is not an option of this product`);
    const current = variants.find((x) => x.sku === v.sku);
    const values: Record<string, string> = current ? { ...(JSON.parse(current.option_values) as Record<string, string>) } : {};
    Object.assign(values, v.option_values);
    for (const name of names) {
      const value = values[name];
      if (value === undefined || value === '') {
        fail(v.row, v.at(`option:${name}`), 'required', `A value for the option "${name}" is needed`);
        continue;
      }
      const o = options.find((x) => x.name === name) as { values: string[] };
      if (!o.values.includes(value)) o.values.push(value);
    }
    if (!current) {
      if (v.price === undefined) {
        fail(v.row, v.at('price'), 'required', 'A new variant needs a price');
        continue;
      }
      const compare = v.compare_at_price ?? null;
      if (compare !== null && compare < v.price) fail(v.row, v.at('compare_at_price'), 'invalid', 'Must be at least the price');
      const row: VariantsTable = {
        tenant_id: ctx.tenantId,
        id: newId('variant'),
        product_id: prior?.id ?? '',
        sku: v.sku,
        title: v.title ?? (names.map((n) => values[n]).join(' / ') || 'Default'),
        price: v.price,
        compare_at_price: compare,
        weight_grams: v.weight_grams ?? 0,
        option_values: JSON.stringify(Object.fromEntries(names.map((n) => [n, values[n] as string]))),
        low_stock_threshold: 0,
        position: variants.length,
        created_at: now,
        updated_at: now,
      };
      variants.push(row);
      newVariants.push(row);
      rowState.set(v.row, 'created');
      rowOfVariant.set(row.id, v.row);
      continue;
    }
    const patch: Partial<VariantsTable> = {};
    const optionJson = JSON.stringify(Object.fromEntries(names.map((n) => [n, values[n] as string])));
    if (optionJson !== current.option_values) patch.option_values = optionJson;
    if (v.title !== undefined && v.title !== current.title) patch.title = v.title;
    if (v.price !== undefined && v.price !== Number(current.price)) patch.price = v.price;
    if (v.compare_at_price !== undefined && v.compare_at_price !== (current.compare_at_price === null ? null : Number(current.compare_at_price))) patch.compare_at_price = v.compare_at_price;
    if (v.weight_grams !== undefined && v.weight_grams !== current.weight_grams) patch.weight_grams = v.weight_grams;
    const price = patch.price ?? Number(current.price);
    const compare = patch.compare_at_price !== undefined ? patch.compare_at_price : current.compare_at_price === null ? null : Number(current.compare_at_price);
    if (compare !== null && compare < price) fail(v.row, v.at('compare_at_price'), 'invalid', 'Must be at least the price');
    rowOfVariant.set(current.id, v.row);
    if (Object.keys(patch).length) {
      patch.updated_at = now;
      Object.assign(current, patch);
      changed.set(current.id, { ...(changed.get(current.id) ?? {}), ...patch });
      rowState.set(v.row, 'updated');
    }
  }
  // Variants are told apart by their option values.
  if (variants.length > 1 && names.length === 0) fail(p.row, p.at('options'), 'invalid_variant', 'Several variants need options to tell them apart');
  const combos = new Map<string, string>();
  for (const v of variants) {
    const key = v.option_values;
    if (combos.has(key) && names.length > 0) fail(rowOfVariant.get(v.id) ?? p.row, p.at('options'), 'duplicate_combination', `Two variants (${combos.get(key)}, ${v.sku}) have the same option values`);
    combos.set(key, v.sku);
  }

  const categoryId = p.category === undefined ? undefined : p.category === '' ? null : await categories.resolve(p.category);
  const prices = variants.map((v) => Number(v.price));
  const base: ProductsTable = prior
    ? { ...prior }
    : {
        tenant_id: ctx.tenantId,
        id: newId('product'),
        title: p.title ?? '',
        description: '',
        handle: p.handle,
        status: 'draft',
        category_id: null,
        images: '[]',
        attributes: '{}',
        options: '[]',
        skus: '',
        min_price: 0,
        max_price: 0,
        version: 1,
        created_at: now,
        updated_at: now,
      };
  const next: ProductsTable = {
    ...base,
    title: p.title ?? base.title,
    description: p.description ?? base.description,
    status: p.status ?? base.status,
    category_id: categoryId === undefined ? base.category_id : categoryId,
    images: p.images ? JSON.stringify(p.images) : base.images,
    attributes: p.attributes ? JSON.stringify(p.attributes) : base.attributes,
    options: JSON.stringify(options),
    skus: variants.map((v) => v.sku).join(' '),
    min_price: prices.length ? Math.min(...prices) : 0,
    max_price: prices.length ? Math.max(...prices) : 0,
  };
  for (const v of newVariants) v.product_id = next.id;
  const keys = ['title', 'description', 'status', 'category_id', 'images', 'attributes', 'options', 'skus', 'min_price', 'max_price'] as const;
  const productChanged = !isNew && keys.some((k) => String(next[k]) !== String(base[k]));
  if (productChanged) next.updated_at = now;
  // The product row counts as updated when what the file says of the product changed (not its derived price range).
  const own = ['title', 'description', 'status', 'category_id', 'images', 'attributes', 'options'] as const;
  if (!isNew && own.some((k) => String(next[k]) !== String(base[k])) && !rowState.has(p.row)) rowState.set(p.row, 'updated');
  if (isNew) for (const v of p.variants) rowState.set(v.row, 'created');
  return {
    product: next,
    isNew,
    productChanged,
    searchChanged: !isNew && (next.title !== base.title || next.description !== base.description || next.skus !== base.skus),
    variants,
    newVariants,
    changedVariants: [...changed].map(([id, patch]) => ({ id, patch })),
    rowState,
    rowOfVariant,
  };
}

/** Categories named by an import: found by handle or name, made at the top level when missing. */
class Categories {
  private all: CategoriesTable[] | null = null;
  private readonly made: CategoriesTable[] = [];
  private readonly ctx: Ctx;
  private readonly now: string;
  constructor(ctx: Ctx, now: string) {
    this.ctx = ctx;
    this.now = now;
  }
  private readonly known = new Map<string, string>();
  async resolve(name: string): Promise<string> {
    const key = name.trim().toLowerCase();
    const hit = this.known.get(key);
    if (hit) return hit;
    this.all ??= await repo.listCategories(this.ctx.db, this.ctx.tenantId);
    const found = this.all.find((c) => c.handle === key || c.name.toLowerCase() === key);
    if (found) {
      this.known.set(key, found.id);
      return found.id;
    }
    assertRoom(this.all.length, 'categories');
    let handle = slugify(name) || 'category';
    if (this.all.some((c) => c.handle === handle)) handle = `${handle}-${this.all.length}`;
    const row: CategoriesTable = { tenant_id: this.ctx.tenantId, id: newId('category'), parent_id: null, name: name.trim(), handle, position: 0, created_at: this.now, updated_at: this.now };
    this.all.push(row);
    this.made.push(row);
    this.known.set(key, row.id);
    return row.id;
  }
  async flush(): Promise<void> {
    for (const c of this.made) await repo.insertCategory(this.ctx.db, c);
  }
}
