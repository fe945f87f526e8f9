import type { Config } from '../config.ts';
import type { Ctx, Principal, RequestRecord, TenantPrincipal } from '../context.ts';
import type { Db } from '../db/database.ts';
import type { Clock } from '../lib/clock.ts';
import type { AppError} from '../lib/errors.ts';
import { invalid } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Page } from '../lib/pagination.ts';
import { addLine, createCart, removeLine, setLineQuantity, updateCart, viewCart, type PricedCart } from '../modules/carts/index.ts';
import { categoriesByIds, getCollection, getProduct, listCategories, listCollections, listProducts, type Product } from '../modules/catalog/index.ts';
import { listMessages, sendMessage } from '../modules/conversations/index.ts';
import { createCustomer, getCustomer, listCustomers } from '../modules/customers/index.ts';
import { adjustStock, listLocations, stockLevelsOf } from '../modules/inventory/index.ts';
import { listJobs } from '../modules/jobs/index.ts';
import { fulfil, getOrder, listOrders, type Order } from '../modules/orders/index.ts';
import type { PaymentGateway } from '../modules/payments/index.ts';
import { createDiscount, listDiscounts, listShippingMethods, listTaxRates, totalsOf } from '../modules/pricing/index.ts';
import { checkRange, salesReport } from '../modules/reports/index.ts';
import { getShop } from '../modules/tenants/index.ts';
import { createEndpoint, listEndpoints } from '../modules/webhooks/index.ts';
import { checkFilter, createContact, createSegment, getContact, getSegment, listContacts, listSegments, logActivity, segmentMembers, timeline, type Contact, type ContactFilter } from '../modules/crm/index.ts';
import { access, authorizeAccess, jobFor, type Access } from '../policy/index.ts';
import { checkout } from '../workflows/checkout.ts';
import { cancelOrder, captureOrder, refundOrder } from '../workflows/order-actions.ts';

/** What every resolver gets: the caller as the transport authenticated them, and the shared services. */
export interface GqlContext {
  principal: Principal;
  /** Why the credentials sent were refused (an expired token …): thrown by the first field that needs a caller. */
  authError: AppError | null;
  log: Logger;
  /** The request's exactly-once record when it came with an Idempotency-Key (checkout and money actions resume). */
  record?: RequestRecord | undefined;
}

export interface GqlDeps {
  db: Db;
  clock: Clock;
  config: Config;
  payments: PaymentGateway;
}

type Args = Record<string, unknown>;

/** A caller inside a shop, authorised by the same declaration a REST route makes. */
function ctxOf(deps: GqlDeps, c: GqlContext, decl: Access): Ctx {
  if (c.authError) throw c.authError;
  authorizeAccess(c.principal, decl);
  const p = c.principal as TenantPrincipal;
  return { tenantId: p.tenantId, principal: p, db: deps.db, clock: deps.clock, log: c.log };
}

const tx = <T>(deps: GqlDeps, ctx: Ctx, fn: (ctx: Ctx) => Promise<T>) => deps.db.transaction().execute((trx) => fn({ ...ctx, db: trx }));

/** first / after → the services' page request; more than 100 is refused, like REST's limit. */
export function pageOf(a: Args): { limit: number; cursor?: string | undefined } {
  const first = (a.first as number | null | undefined) ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > 100) throw invalid('page_size_out_of_range', '`first` takes 1 to 100', [{ pointer: '/first', detail: '1–100' }]);
  return { limit: first, cursor: (a.after as string | null | undefined) ?? undefined };
}

const snake = (s: string) => s.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
/** snake_case keys to camelCase, one level (JSON fields below stay as they are). */
function camel<T extends object>(o: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k.replace(/_([a-z0-9])/g, (_m, x: string) => x.toUpperCase())] = v;
  return out;
}
/** camelCase input fields to the services' snake_case, one level (nested inputs are mapped where they are used). */
function snaked(o: Args | null | undefined): Args {
  const out: Args = {};
  for (const [k, v] of Object.entries(o ?? {})) if (v !== null && v !== undefined) out[snake(k)] = v;
  return out;
}

const connection = <T, U>(p: Page<T>, map: (t: T) => U) => ({ nodes: p.data.map(map), pageInfo: { hasNextPage: p.has_more, endCursor: p.next_cursor } });

export const productOut = (p: Product) => ({ ...camel(p), priceMin: p.price_range.min, priceMax: p.price_range.max, variants: p.variants.map(camel) });
const cartOut = (p: PricedCart) => {
  const t = p.quote ? totalsOf(p.quote) : null;
  return {
    ...camel(p.cart),
    shippingAddress: p.cart.shipping_address ? camel(p.cart.shipping_address) : null,
    lines: p.cart.lines.map(camel),
    warnings: p.cart.warnings.map(camel),
    totals: t ? { ...camel(t), lines: t.lines.map(camel) } : null,
  };
};
export const orderOut = (o: Order) => ({ ...camel(o), lines: o.lines.map(camel), payments: o.payments.map(camel), shippingAddress: o.shipping_address ? camel(o.shipping_address) : null });
const address = (a: Args | null | undefined) => (a ? snaked(a) : undefined);
const lineIn = (l: Args) => ({ variant_id: l.variantId as string, quantity: l.quantity as number });
const qtyIn = (l: Args) => ({ line_id: l.lineId as string, quantity: l.quantity as number });

/**
 * Per-request batching (mercurius loaders): the categories of a page of products (and their parents) in one query,
 * however many products the page holds.
 */
export function buildLoaders(deps: GqlDeps) {
  const catalogRead: Access = { staff: 'catalog:read', shopper: true };
  const byIds = async (queries: { obj: { categoryId?: string | null; parentId?: string | null } }[], g: GqlContext, key: 'categoryId' | 'parentId') => {
    const ids = queries.map((q) => q.obj[key] ?? null);
    const wanted = [...new Set(ids.filter((x): x is string => x !== null))];
    const found = wanted.length ? await categoriesByIds(ctxOf(deps, g, catalogRead), wanted) : [];
    const map = new Map(found.map((c) => [c.id, camel(c)]));
    return ids.map((id) => (id ? (map.get(id) ?? null) : null));
  };
  return {
    Product: { category: (queries: { obj: { categoryId?: string | null } }[], g: GqlContext) => byIds(queries, g, 'categoryId') },
    Category: { parent: (queries: { obj: { parentId?: string | null } }[], g: GqlContext) => byIds(queries, g, 'parentId') },
  };
}

const contactOut = (k: Contact) => ({ ...camel(k), consent: camel(k.consent), scores: k.scores ? camel(k.scores) : null });
/** The filter input's camelCase to the services' snake_case (custom conditions as they are). */
const filterIn = (f: Args | null | undefined): ContactFilter => {
  const { custom, ...rest } = f ?? {};
  const out = snaked(rest) as ContactFilter;
  for (const k of ['min_r', 'min_f', 'min_m'] as const) if (out[k] !== undefined && (out[k] < 1 || out[k] > 5)) throw invalid('invalid_filter', `${k} is a quintile, 1–5`);
  if (custom) {
    out.custom = (custom as { key: string; op: string; value: string | number | boolean }[]).map((x, i) => {
      if (x.op !== 'eq' && x.op !== 'gt' && x.op !== 'lt') throw invalid('invalid_filter', 'op is eq, gt or lt', [{ pointer: `/filter/custom/${i}/op`, detail: x.op }]);
      if (!['string', 'number', 'boolean'].includes(typeof x.value)) throw invalid('invalid_filter', 'value is a string, number or boolean', [{ pointer: `/filter/custom/${i}/value`, detail: typeof x.value }]);
      return { key: x.key, op: x.op, value: x.value };
    });
  }
  return out;
};

/** Resolvers: each calls the service REST calls, after the same access declaration REST makes. */
export function buildResolvers(deps: GqlDeps) {
  const catalogRead: Access = { staff: 'catalog:read', shopper: true };
  const cartAccess: Access = { shopper: true, staff: 'orders:write' };
  const ordersRead = access.staffOrCustomer('orders:read');
  const ordersWrite = access.staff('orders:write');
  const c = (ctx: GqlContext, decl: Access) => ctxOf(deps, ctx, decl);

  return {
    Query: {
      products: async (_: unknown, a: Args, g: GqlContext) =>
        connection(
          await listProducts(c(g, catalogRead), {
            ...pageOf(a),
            q: (a.query as string | null) ?? undefined,
            category_id: (a.categoryId as string | null) ?? undefined,
            collection_id: (a.collectionId as string | null) ?? undefined,
            in_stock: (a.inStock as boolean | null) ?? undefined,
            min_price: (a.minPrice as number | null) ?? undefined,
            max_price: (a.maxPrice as number | null) ?? undefined,
            sort: (a.sort as never) ?? undefined,
          }),
          productOut,
        ),
      product: async (_: unknown, a: Args, g: GqlContext) => {
        const ctx = c(g, catalogRead);
        if (a.id) return productOut(await getProduct(ctx, a.id as string));
        if (!a.handle) throw invalid('id_or_handle_required', 'Give id or handle');
        const page = await listProducts(ctx, { limit: 1, handle: a.handle as string });
        return page.data[0] ? productOut(page.data[0]) : null;
      },
      categories: async (_: unknown, a: Args, g: GqlContext) => connection(await listCategories(c(g, catalogRead), pageOf(a)), camel),
      collections: async (_: unknown, a: Args, g: GqlContext) => {
        const p = pageOf(a);
        return connection(await listCollections(c(g, catalogRead), p.limit, p.cursor), camel);
      },
      collection: async (_: unknown, a: Args, g: GqlContext) => camel(await getCollection(c(g, catalogRead), a.id as string)),
      cart: async (_: unknown, a: Args, g: GqlContext) => cartOut(await viewCart(c(g, cartAccess), a.id as string)),
      me: async (_: unknown, _a: Args, g: GqlContext) => {
        const ctx = c(g, access.anyTenant());
        const p = ctx.principal;
        const id = p.kind === 'user' ? p.userId : p.kind === 'customer' ? p.customerId : p.kind === 'system' ? 'system' : p.keyId;
        return { kind: p.kind, tenantId: p.tenantId, id, permissions: 'permissions' in p ? [...p.permissions].sort() : [], customer: p.kind === 'customer' ? camel(await getCustomer(ctx, p.customerId)) : null };
      },
      orders: async (_: unknown, a: Args, g: GqlContext) => connection(await listOrders(c(g, ordersRead), { ...pageOf(a), status: (a.status as never) ?? undefined }), orderOut),
      order: async (_: unknown, a: Args, g: GqlContext) => orderOut(await getOrder(c(g, ordersRead), a.id as string)),
      customers: async (_: unknown, a: Args, g: GqlContext) => connection(await listCustomers(c(g, access.staff('customers:read')), { ...pageOf(a), email: (a.email as string | null) ?? undefined }), camel),
      customer: async (_: unknown, a: Args, g: GqlContext) => camel(await getCustomer(c(g, access.staff('customers:read')), a.id as string)),
      stockLevels: async (_: unknown, a: Args, g: GqlContext) => (await stockLevelsOf(c(g, access.staff('inventory:read')), a.variantId as string)).map(camel),
      locations: async (_: unknown, a: Args, g: GqlContext) => connection(await tx(deps, c(g, access.staff('inventory:read')), (ctx) => listLocations(ctx, pageOf(a))), camel),
      discounts: async (_: unknown, a: Args, g: GqlContext) => {
        const p = pageOf(a);
        return connection(await listDiscounts(c(g, access.staff('pricing:read')), p.limit, p.cursor), camel);
      },
      taxRates: async (_: unknown, a: Args, g: GqlContext) => connection(await listTaxRates(c(g, access.staff('pricing:read')), pageOf(a)), camel),
      shippingMethods: async (_: unknown, a: Args, g: GqlContext) => connection(await listShippingMethods(c(g, access.staff('pricing:read')), pageOf(a)), camel),
      webhookEndpoints: async (_: unknown, a: Args, g: GqlContext) => connection(await listEndpoints(c(g, access.staff('webhooks:read')), pageOf(a)), camel),
      jobs: async (_: unknown, a: Args, g: GqlContext) => {
        const ctx = c(g, access.staff('jobs:read'));
        return connection(await listJobs(ctx.db, { tenantId: ctx.tenantId, status: (a.status as never) ?? undefined, ...pageOf(a) }), (j) => camel(jobFor(ctx.principal, j)));
      },
      contacts: async (_: unknown, a: Args, g: GqlContext) => {
        const ctx = c(g, access.staff('crm:read'));
        return connection(await listContacts(ctx, await checkFilter(ctx.db, ctx.tenantId, filterIn(a.filter as Args | null), '/filter'), pageOf(a)), contactOut);
      },
      contact: async (_: unknown, a: Args, g: GqlContext) => contactOut(await getContact(c(g, access.staff('crm:read')), a.id as string)),
      segments: async (_: unknown, a: Args, g: GqlContext) => connection(await listSegments(c(g, access.staff('crm:read')), pageOf(a)), camel),
      segment: async (_: unknown, a: Args, g: GqlContext) => camel(await getSegment(c(g, access.staff('crm:read')), a.id as string)),
      salesReport: async (_: unknown, a: Args, g: GqlContext) => {
        const ctx = c(g, access.staff('reports:read'));
        checkRange(a.from as string, a.to as string);
        const r = await salesReport(ctx.db, ctx.tenantId, await getShop(ctx), a.from as string, a.to as string);
        return { ...r, days: r.days.map(camel) };
      },
    },

    Contact: {
      timeline: async (c: { id: string }, a: Args, g: GqlContext) =>
        connection(await timeline(ctxOf(deps, g, access.staff('crm:read')), c.id, { ...pageOf(a), types: (a.types as string[] | null) ?? undefined }), camel),
    },
    Segment: {
      count: async (s: { id: string; count?: number }, _a: Args, g: GqlContext) => s.count ?? (await getSegment(ctxOf(deps, g, access.staff('crm:read')), s.id)).count,
      members: async (s: { id: string }, a: Args, g: GqlContext) => connection(await segmentMembers(ctxOf(deps, g, access.staff('crm:read')), s.id, pageOf(a)), contactOut),
    },
    Collection: {
      products: async (col: { id: string }, a: Args, g: GqlContext) => connection(await listProducts(c(g, catalogRead), { ...pageOf(a), collection_id: col.id }), productOut),
    },
    Order: {
      messages: async (o: { id: string }, a: Args, g: GqlContext) => connection(await listMessages(c(g, ordersRead), o.id, pageOf(a)), camel),
    },

    Mutation: {
      cartCreate: async (_: unknown, a: Args, g: GqlContext) => {
        const i = a.input as Args;
        return cartOut(await tx(deps, c(g, cartAccess), (ctx) => createCart(ctx, { email: (i.email as string | null) ?? undefined, lines: (i.lines as Args[] | null)?.map(lineIn) })));
      },
      cartLinesAdd: async (_: unknown, a: Args, g: GqlContext) => cartOut(await tx(deps, c(g, cartAccess), (ctx) => addLine(ctx, a.cartId as string, lineIn(a.line as Args)))),
      cartLineUpdate: async (_: unknown, a: Args, g: GqlContext) => cartOut(await tx(deps, c(g, cartAccess), (ctx) => setLineQuantity(ctx, a.cartId as string, a.lineId as string, a.quantity as number))),
      cartLineRemove: async (_: unknown, a: Args, g: GqlContext) => cartOut(await tx(deps, c(g, cartAccess), (ctx) => removeLine(ctx, a.cartId as string, a.lineId as string))),
      cartUpdate: async (_: unknown, a: Args, g: GqlContext) => {
        const i = a.input as Args;
        const patch = { ...snaked(i), ...(i.shippingAddress ? { shipping_address: address(i.shippingAddress as Args) } : {}) };
        return cartOut(await tx(deps, c(g, cartAccess), (ctx) => updateCart(ctx, a.cartId as string, patch as never)));
      },
      checkout: async (_: unknown, a: Args, g: GqlContext) => {
        const i = a.input as Args;
        const payment = i.payment as Args;
        const input = {
          ...(i.cartId ? { cart_id: i.cartId as string } : {}),
          ...(i.lines ? { lines: (i.lines as Args[]).map(lineIn) } : {}),
          ...(i.email ? { email: i.email as string } : {}),
          ...(i.shippingMethodId ? { shipping_method_id: i.shippingMethodId as string } : {}),
          ...(i.shippingAddress ? { shipping_address: address(i.shippingAddress as Args) } : {}),
          payment: { provider: payment.provider as string, ...(payment.cardNumber ? { card_number: payment.cardNumber as string } : {}) },
        };
        return orderOut(await checkout(c(g, { shopper: true, staff: 'orders:write' }), { gateway: deps.payments }, input as never, g.record));
      },
      orderCapture: async (_: unknown, a: Args, g: GqlContext) => orderOut(await captureOrder(c(g, ordersWrite), deps.payments, a.id as string, g.record)),
      orderCancel: async (_: unknown, a: Args, g: GqlContext) =>
        orderOut(await cancelOrder(c(g, ordersWrite), deps.payments, a.id as string, { ...(a.restock !== null && a.restock !== undefined ? { restock: a.restock as boolean } : {}), ...(a.reason ? { reason: a.reason as string } : {}) }, g.record)),
      orderRefund: async (_: unknown, a: Args, g: GqlContext) => {
        const i = a.input as Args;
        const body = { ...snaked({ amount: i.amount, restock: i.restock, reason: i.reason }), ...(i.lines ? { lines: (i.lines as Args[]).map(qtyIn) } : {}) };
        return orderOut(await refundOrder(c(g, access.staff('orders:refund')), deps.payments, a.id as string, body as never, g.record));
      },
      orderFulfil: async (_: unknown, a: Args, g: GqlContext) => {
        const i = a.input as Args;
        return orderOut(
          await tx(deps, c(g, ordersWrite), async (ctx) => {
            await fulfil(ctx, a.id as string, { carrier: i.carrier as string, tracking_number: i.trackingNumber as string, ...(i.lines ? { lines: (i.lines as Args[]).map(qtyIn) } : {}) });
            return getOrder(ctx, a.id as string);
          }),
        );
      },
      orderMessageSend: async (_: unknown, a: Args, g: GqlContext) => camel(await tx(deps, c(g, access.staffOrCustomer('orders:write')), (ctx) => sendMessage(ctx, a.orderId as string, a.body as string))),
      stockAdjust: async (_: unknown, a: Args, g: GqlContext) => camel(await tx(deps, c(g, access.staff('inventory:write')), (ctx) => adjustStock(ctx, snaked(a.input as Args) as never))),
      customerCreate: async (_: unknown, a: Args, g: GqlContext) => camel(await tx(deps, c(g, access.staff('customers:write')), (ctx) => createCustomer(ctx, snaked(a.input as Args) as never))),
      discountCreate: async (_: unknown, a: Args, g: GqlContext) => camel(await tx(deps, c(g, access.staff('pricing:write')), (ctx) => createDiscount(ctx, snaked(a.input as Args) as never))),
      contactCreate: async (_: unknown, a: Args, g: GqlContext) => {
        const i = a.input as Args;
        return contactOut(await tx(deps, c(g, access.staff('crm:write')), (ctx) => createContact(ctx, { ...snaked({ email: i.email, firstName: i.firstName, lastName: i.lastName, phone: i.phone, country: i.country, tags: i.tags, stage: i.stage }), custom: (i.custom as Record<string, unknown> | null) ?? undefined, consent: (i.consent as never) ?? undefined } as never)));
      },
      contactNoteAdd: async (_: unknown, a: Args, g: GqlContext) =>
        camel(await tx(deps, c(g, access.staff('crm:write')), (ctx) => logActivity(ctx, a.contactId as string, { type: a.type === 'call' ? 'call' : 'note', body: a.body as string }))),
      segmentCreate: async (_: unknown, a: Args, g: GqlContext) => camel(await tx(deps, c(g, access.staff('crm:write')), (ctx) => createSegment(ctx, { name: a.name as string, filter: filterIn(a.filter as Args) }))),
      webhookEndpointCreate: async (_: unknown, a: Args, g: GqlContext) =>
        camel(await tx(deps, c(g, access.staff('webhooks:write')), (ctx) => createEndpoint(ctx, snaked(a.input as Args) as never, deps.config.webhooksAllowPrivate))),
    },
  };
}

