import type { Ctx } from '../../context.ts';
import { decodeKeyCursor, encodeKeyCursor, type Page, type PageRequest } from '../../lib/pagination.ts';
import type { CategoriesTable } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/database.ts';
import { conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { assertRoom } from '../../lib/limits.ts';
import { bumpVersion } from '../events/index.ts';
import { slugify } from '../tenants/index.ts';
import { catalogRepository as repo } from './catalog.repository.ts';

/** The category tree of a shop: a bounded collection (MAX_PER_SHOP.categories), read whole. */

/** A category and every category below it. */
export function descendantsOf(all: CategoriesTable[], root: string): string[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const c of all) if (c.parent_id === out[i]) out.push(c.id);
  return out;
}

// --- categories ----------------------------------------------------------------------------------

export interface Category {
  id: string;
  parent_id: string | null;
  name: string;
  handle: string;
  position: number;
  created_at: string;
  updated_at: string;
}

const toCategory = (c: CategoriesTable): Category => ({ id: c.id, parent_id: c.parent_id, name: c.name, handle: c.handle, position: c.position, created_at: c.created_at, updated_at: c.updated_at });

/** Some categories by id (a GraphQL page's categories in one query); unknown ids are left out. */
export async function categoriesByIds(ctx: Ctx, ids: readonly string[]): Promise<Category[]> {
  return (await repo.categoriesByIds(ctx.db, ctx.tenantId, ids)).map(toCategory);
}

/** A page of the category tree as a flat list with parent ids, in menu order (position, then id). */
export async function listCategories(ctx: Ctx, page: PageRequest): Promise<Page<Category>> {
  const rows = await repo.pageCategories(ctx.db, ctx.tenantId, page.limit, decodeKeyCursor(page.cursor));
  const has_more = rows.length > page.limit;
  const data = (has_more ? rows.slice(0, page.limit) : rows).map(toCategory);
  const last = data.at(-1);
  return { data, has_more, next_cursor: has_more && last ? encodeKeyCursor(last.position, last.id) : null };
}

export async function createCategory(ctx: Ctx, input: { name: string; handle?: string | undefined; parent_id?: string | null | undefined; position?: number | undefined }): Promise<Category> {
  if (input.parent_id && !(await repo.findCategory(ctx.db, ctx.tenantId, input.parent_id))) throw invalid('unknown_category', 'No such parent category', [{ pointer: '/body/parent_id', detail: 'unknown category' }]);
  assertRoom(await repo.countCategories(ctx.db, ctx.tenantId), 'categories');
  const now = ctx.clock.now().toISOString();
  const row: CategoriesTable = { tenant_id: ctx.tenantId, id: newId('category'), parent_id: input.parent_id ?? null, name: input.name, handle: input.handle ?? slugify(input.name), position: input.position ?? 0, created_at: now, updated_at: now };
  try {
    await repo.insertCategory(ctx.db, row);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('handle_taken', 'A category with this handle exists');
    throw e;
  }
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
  return toCategory(row);
}

export async function updateCategory(ctx: Ctx, id: string, patch: { name?: string | undefined; handle?: string | undefined; parent_id?: string | null | undefined; position?: number | undefined }): Promise<Category> {
  const c = await repo.findCategory(ctx.db, ctx.tenantId, id);
  if (!c) throw notFound('Category');
  if (patch.parent_id) {
    const all = await repo.listCategories(ctx.db, ctx.tenantId);
    if (!all.some((x) => x.id === patch.parent_id)) throw invalid('unknown_category', 'No such parent category', [{ pointer: '/body/parent_id', detail: 'unknown category' }]);
    if (descendantsOf(all, id).includes(patch.parent_id)) throw invalid('category_cycle', 'A category cannot sit under itself or its descendants', [{ pointer: '/body/parent_id', detail: 'would make a cycle' }]);
  }
  const next: Partial<CategoriesTable> = { updated_at: ctx.clock.now().toISOString() };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.handle !== undefined) next.handle = patch.handle;
  if (patch.parent_id !== undefined) next.parent_id = patch.parent_id;
  if (patch.position !== undefined) next.position = patch.position;
  try {
    await repo.updateCategory(ctx.db, ctx.tenantId, id, next);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict('handle_taken', 'A category with this handle exists');
    throw e;
  }
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
  return toCategory({ ...c, ...next });
}

export async function deleteCategory(ctx: Ctx, id: string): Promise<void> {
  if (!(await repo.findCategory(ctx.db, ctx.tenantId, id))) throw notFound('Category');
  if (await repo.categoryInUse(ctx.db, ctx.tenantId, id)) throw conflict('category_in_use', 'The category has subcategories or products');
  await repo.deleteCategory(ctx.db, ctx.tenantId, id);
  await bumpVersion(ctx.db, ctx.tenantId, 'catalog');
}
