import type { Ctx, Executor } from '../../context.ts';
import type { CartsTable } from '../../db/schema.ts';
import { AppError, conflict, invalid, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { maySeeCart } from '../../policy/index.ts';
import { sellableVariants } from '../catalog/index.ts';
import { availableByVariant } from '../inventory/index.ts';
import { quote, shippingOptions, MAX_LINE_QUANTITY, MAX_LINES, type Address, type Quote } from '../pricing/index.ts';
import { getShop } from '../tenants/index.ts';
import { cartsRepository as repo } from './carts.repository.ts';

export interface CartLine {
  id: string;
  variant_id: string;
  quantity: number;
}

export interface CartView {
  id: string;
  customer_id: string | null;
  status: CartsTable['status'];
  email: string | null;
  discount_code: string | null;
  shipping_method_id: string | null;
  shipping_address: Address | null;
  billing_address: Address | null;
  lines: CartLine[];
  /** Problems that keep the cart from being ordered as it is (an expired code, a product taken off sale …). */
  /**
   * What checkout would refuse now: a line no longer for sale, more than is in stock, a code or shipping method
   * that no longer applies. `pointer` names the field of the request that caused it, where there is one.
   */
  warnings: { code: string; detail: string; line_id: string | null; pointer: string | null }[];
  version: number;
  created_at: string;
  updated_at: string;
}

export interface PricedCart {
  cart: CartView;
  quote: Quote | null;
}

const parse = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

/** A cart the caller may see: a customer's own, a guest cart for the shop's publishable key, any for staff. */
async function load(ctx: Ctx, id: string): Promise<CartsTable> {
  const c = await repo.find(ctx.db, ctx.tenantId, id);
  if (!c || !maySeeCart(ctx.principal, c)) throw notFound('Cart');
  return c;
}

async function loadOpen(ctx: Ctx, id: string): Promise<CartsTable> {
  const c = await load(ctx, id);
  if (c.status !== 'open') throw conflict('cart_not_open', c.status === 'ordered' ? 'This cart has already been ordered' : 'This cart was merged into another');
  return c;
}

function bump(ctx: Ctx, c: CartsTable, patch: Partial<CartsTable>): Promise<void> {
  return repo.update(ctx.db, ctx.tenantId, c.id, c.version, { ...patch, updated_at: ctx.clock.now().toISOString() }).then((ok) => {
    if (!ok) throw conflict('cart_changed', 'The cart changed at the same time; read it again');
  });
}

/**
 * The cart with totals computed now; what cannot be applied any more is dropped from the totals and reported, as
 * are lines asking for more than is in stock (checkout still decides). `pointerOf` maps a variant to the field of
 * the request that added it, for warnings about it.
 */
export async function viewCart(ctx: Ctx, id: string, pointerOf: (variantId: string) => string | null = () => null): Promise<PricedCart> {
  const c = await load(ctx, id);
  const lines = await repo.lines(ctx.db, ctx.tenantId, id);
  const warnings: CartView['warnings'] = [];
  let q: Quote | null = null;
  if (lines.length) {
    const shop = await getShop(ctx);
    const sellable = await sellableVariants(ctx.db, ctx.tenantId, lines.map((l) => l.variant_id));
    const priceable = lines.filter((l) => {
      const ok = sellable.get(l.variant_id)?.active === true;
      if (!ok) warnings.push({ code: 'variant_unavailable', detail: `Line ${l.id} is no longer for sale`, line_id: l.id, pointer: pointerOf(l.variant_id) });
      return ok;
    });
    const stock = await availableByVariant(ctx.db, ctx.tenantId, priceable.map((l) => l.variant_id));
    for (const l of priceable) {
      const available = stock.get(l.variant_id) ?? 0;
      if (l.quantity > available) warnings.push({ code: 'insufficient_stock', detail: `Only ${available} of ${sellable.get(l.variant_id)?.sku ?? l.variant_id} in stock (the cart asks for ${l.quantity})`, line_id: l.id, pointer: pointerOf(l.variant_id) });
    }
    let discount = c.discount_code;
    let shipping = c.shipping_method_id;
    for (let attempt = 0; attempt < 3 && priceable.length; attempt++) {
      try {
        q = await quote(ctx, shop, { lines: priceable, discount_code: discount, shipping_method_id: shipping, shipping_address: parse<Address>(c.shipping_address), customer_key: c.customer_id ?? c.email });
        break;
      } catch (e) {
        if (!(e instanceof AppError) || e.kind !== 'invalid') throw e;
        warnings.push({ code: e.code, detail: e.message, line_id: null, pointer: e.errors?.[0]?.pointer ?? null });
        if (e.code.includes('discount')) discount = null;
        else if (e.code.includes('shipping')) shipping = null;
        else throw e;
      }
    }
  }
  return {
    cart: {
      id: c.id,
      customer_id: c.customer_id,
      status: c.status,
      email: c.email,
      discount_code: c.discount_code,
      shipping_method_id: c.shipping_method_id,
      shipping_address: parse<Address>(c.shipping_address),
      billing_address: parse<Address>(c.billing_address),
      lines: lines.map((l) => ({ id: l.id, variant_id: l.variant_id, quantity: l.quantity })),
      warnings,
      version: c.version,
      created_at: c.created_at,
      updated_at: c.updated_at,
    },
    quote: q,
  };
}

async function checkVariants(ctx: Ctx, ids: string[]): Promise<void> {
  const sellable = await sellableVariants(ctx.db, ctx.tenantId, ids);
  const bad = ids.filter((id) => !sellable.get(id)?.active);
  if (bad.length) throw invalid(bad.some((id) => !sellable.has(id)) ? 'unknown_variant' : 'variant_unavailable', 'Some variants cannot be sold', bad.map((id) => ({ pointer: '/body/variant_id', detail: `${id}: not for sale` })));
}

export async function createCart(ctx: Ctx, input: { email?: string | undefined; lines?: { variant_id: string; quantity: number }[] | undefined }): Promise<PricedCart> {
  const now = ctx.clock.now().toISOString();
  const p = ctx.principal;
  const row: CartsTable = {
    tenant_id: ctx.tenantId,
    id: newId('cart'),
    customer_id: p.kind === 'customer' ? p.customerId : null,
    status: 'open',
    email: input.email?.toLowerCase() ?? null,
    discount_code: null,
    shipping_method_id: null,
    shipping_address: null,
    billing_address: null,
    version: 1,
    created_at: now,
    updated_at: now,
  };
  await repo.insert(ctx.db, row);
  const lines = input.lines ?? [];
  if (lines.length) await checkVariants(ctx, lines.map((l) => l.variant_id));
  for (const l of lines) await repo.upsertLine(ctx.db, { tenant_id: ctx.tenantId, id: newId('cartLine'), cart_id: row.id, variant_id: l.variant_id, quantity: l.quantity, created_at: now }, 'add');
  await assertLimits(ctx, row.id);
  return viewCart(ctx, row.id, (v) => {
    const i = lines.findIndex((l) => l.variant_id === v);
    return i < 0 ? null : `/body/lines/${i}/quantity`;
  });
}

async function assertLimits(ctx: Ctx, cartId: string): Promise<void> {
  const lines = await repo.lines(ctx.db, ctx.tenantId, cartId);
  if (lines.length > MAX_LINES) throw invalid('too_many_lines', `A cart holds at most ${MAX_LINES} lines`);
  const big = lines.find((l) => l.quantity > MAX_LINE_QUANTITY);
  if (big) throw invalid('quantity_too_large', `At most ${MAX_LINE_QUANTITY} of one variant`, [{ pointer: '/body/quantity', detail: 'too large' }]);
}

export async function addLine(ctx: Ctx, cartId: string, input: { variant_id: string; quantity: number }): Promise<PricedCart> {
  const c = await loadOpen(ctx, cartId);
  await checkVariants(ctx, [input.variant_id]);
  await repo.upsertLine(ctx.db, { tenant_id: ctx.tenantId, id: newId('cartLine'), cart_id: cartId, variant_id: input.variant_id, quantity: input.quantity, created_at: ctx.clock.now().toISOString() }, 'add');
  await assertLimits(ctx, cartId);
  await bump(ctx, c, {});
  return viewCart(ctx, cartId, (v) => (v === input.variant_id ? '/body/quantity' : null));
}

export async function setLineQuantity(ctx: Ctx, cartId: string, lineId: string, quantity: number): Promise<PricedCart> {
  const c = await loadOpen(ctx, cartId);
  const line = await repo.findLine(ctx.db, ctx.tenantId, cartId, lineId);
  if (!line) throw notFound('Cart line');
  await repo.setLineQuantity(ctx.db, ctx.tenantId, lineId, quantity);
  await bump(ctx, c, {});
  return viewCart(ctx, cartId, (v) => (v === line.variant_id ? '/body/quantity' : null));
}

export async function removeLine(ctx: Ctx, cartId: string, lineId: string): Promise<PricedCart> {
  const c = await loadOpen(ctx, cartId);
  if (!(await repo.findLine(ctx.db, ctx.tenantId, cartId, lineId))) throw notFound('Cart line');
  await repo.deleteLine(ctx.db, ctx.tenantId, lineId);
  await bump(ctx, c, {});
  return viewCart(ctx, cartId);
}

export interface CartPatch {
  email?: string | null | undefined;
  discount_code?: string | null | undefined;
  shipping_method_id?: string | null | undefined;
  shipping_address?: Address | null | undefined;
  billing_address?: Address | null | undefined;
}

/** Sets details. A discount code or shipping method is checked against the cart now and refused with a code. */
export async function updateCart(ctx: Ctx, cartId: string, patch: CartPatch): Promise<PricedCart> {
  const c = await loadOpen(ctx, cartId);
  const next: Partial<CartsTable> = {};
  if (patch.email !== undefined) next.email = patch.email?.toLowerCase() ?? null;
  if (patch.discount_code !== undefined) next.discount_code = patch.discount_code?.trim().toUpperCase() ?? null;
  if (patch.shipping_method_id !== undefined) next.shipping_method_id = patch.shipping_method_id;
  if (patch.shipping_address !== undefined) next.shipping_address = patch.shipping_address ? JSON.stringify(patch.shipping_address) : null;
  if (patch.billing_address !== undefined) next.billing_address = patch.billing_address ? JSON.stringify(patch.billing_address) : null;
  if (next.discount_code || next.shipping_method_id) {
    const lines = await repo.lines(ctx.db, ctx.tenantId, cartId);
    if (lines.length === 0) throw invalid('empty_cart', 'Add something to the cart first');
    const merged = { ...c, ...next };
    await quote(ctx, await getShop(ctx), {
      lines,
      discount_code: merged.discount_code,
      shipping_method_id: merged.shipping_method_id,
      shipping_address: parse<Address>(merged.shipping_address),
      customer_key: merged.customer_id ?? merged.email,
    });
  }
  await bump(ctx, c, next);
  return viewCart(ctx, cartId);
}

export async function cartShippingOptions(ctx: Ctx, cartId: string) {
  const { cart, quote: q } = await viewCart(ctx, cartId);
  if (!q) return [];
  return shippingOptions(ctx.db, ctx.tenantId, q.breakdown.total_weight_grams, q.breakdown.subtotal - q.breakdown.discount_total, cart.shipping_address?.country ?? null);
}

/**
 * On login, a guest cart joins the customer: its lines go into the customer's open cart (quantities add
 * up), or it becomes the customer's cart if they have none. The guest cart is then `merged`.
 */
export async function mergeGuestCart(ctx: Ctx, guestCartId: string, customerId: string): Promise<string> {
  const guest = await repo.find(ctx.db, ctx.tenantId, guestCartId);
  if (!guest || guest.customer_id !== null) throw notFound('Cart');
  if (guest.status !== 'open') throw conflict('cart_not_open', 'This cart can no longer be merged');
  const mine = await repo.latestOpenOf(ctx.db, ctx.tenantId, customerId);
  const now = ctx.clock.now().toISOString();
  if (!mine) {
    if (!(await repo.update(ctx.db, ctx.tenantId, guest.id, guest.version, { customer_id: customerId, updated_at: now }))) throw conflict('cart_changed', 'The cart changed at the same time');
    return guest.id;
  }
  for (const l of await repo.lines(ctx.db, ctx.tenantId, guest.id)) {
    await repo.upsertLine(ctx.db, { tenant_id: ctx.tenantId, id: newId('cartLine'), cart_id: mine.id, variant_id: l.variant_id, quantity: l.quantity, created_at: now }, 'add');
  }
  const patch: Partial<CartsTable> = { updated_at: now };
  if (!mine.discount_code && guest.discount_code) patch.discount_code = guest.discount_code;
  if (!mine.shipping_address && guest.shipping_address) patch.shipping_address = guest.shipping_address;
  if (!mine.shipping_method_id && guest.shipping_method_id) patch.shipping_method_id = guest.shipping_method_id;
  if (!(await repo.update(ctx.db, ctx.tenantId, mine.id, mine.version, patch))) throw conflict('cart_changed', 'The cart changed at the same time');
  if (!(await repo.update(ctx.db, ctx.tenantId, guest.id, guest.version, { status: 'merged', updated_at: now }))) throw conflict('cart_changed', 'The cart changed at the same time');
  return mine.id;
}

/** For checkout: the open cart and its lines, or a coded refusal. */
export async function cartForCheckout(ctx: Ctx, cartId: string) {
  const c = await load(ctx, cartId);
  if (c.status !== 'open') throw conflict('cart_not_open', c.status === 'ordered' ? 'This cart has already been ordered' : 'This cart was merged into another');
  const lines = await repo.lines(ctx.db, ctx.tenantId, cartId);
  if (lines.length === 0) throw invalid('empty_cart', 'The cart is empty');
  return { cart: c, lines: lines.map((l) => ({ variant_id: l.variant_id, quantity: l.quantity })), shippingAddress: parse<Address>(c.shipping_address), billingAddress: parse<Address>(c.billing_address) };
}

/** Marks the cart ordered inside the order's transaction; a second order of the same cart fails here. */
export async function markCartOrdered(ctx: Ctx, cartId: string): Promise<void> {
  if (!(await repo.markOrdered(ctx.db, ctx.tenantId, cartId, ctx.clock.now().toISOString()))) throw conflict('cart_not_open', 'This cart has already been ordered');
}

/** Opens an ordered cart again: its checkout did not go through, so the shopper can pay another way. */
export async function reopenCart(ctx: Ctx, cartId: string): Promise<void> {
  await repo.reopen(ctx.db, ctx.tenantId, cartId, ctx.clock.now().toISOString());
}

/** An open cart with an email, and its lines, for the abandoned-cart reminder; null when it was ordered or emptied. */
export async function cartToRemind(db: Executor, tenantId: string, cartId: string) {
  const cart = await repo.find(db, tenantId, cartId);
  if (!cart || cart.status !== 'open' || !cart.email) return null;
  return { cart: { id: cart.id, email: cart.email }, lines: (await repo.lines(db, tenantId, cart.id)).map((l) => ({ variant_id: l.variant_id, quantity: l.quantity })) };
}

/** Carts to remind: open, with an email and lines, untouched since `before`, never reminded. */
export async function abandonedCarts(db: Executor, before: string, limit: number) {
  return repo.abandoned(db, before, limit);
}

/** The cart's one reminder went out (or is on its way): an order from it is recovered revenue. */
export async function markCartReminded(db: Executor, tenantId: string, cartId: string, at: string): Promise<void> {
  await repo.markReminded(db, tenantId, cartId, at);
}
