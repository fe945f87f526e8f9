/**
 * A typed GraphQL client for Stockroom with gql.tada and plain fetch (docs/graphql.md). The types come from the
 * committed schema: `npx gql.tada generate-output` writes examples/graphql-env.d.ts from schema.graphql, and
 * `npm run typecheck` compiles this file against it — a query that does not match the schema does not compile.
 */
import { print } from 'graphql';
import { initGraphQLTada, type ResultOf, type TadaDocumentNode, type VariablesOf } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

export const graphql = initGraphQLTada<{ introspection: introspection; scalars: { DateTime: string; JSON: unknown } }>();

export const CatalogueQuery = graphql(`
  query Catalogue($first: Int, $after: String) {
    products(first: $first, after: $after) {
      nodes { id title priceMin variants { id sku price inStock } category { name } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const CreateCart = graphql(`
  mutation CreateCart($input: CartCreateInput!) {
    cartCreate(input: $input) { id lines { id variantId quantity } totals { total currency } }
  }
`);

export const Checkout = graphql(`
  mutation Checkout($input: CheckoutInput!) {
    checkout(input: $input) { id name status total currency }
  }
`);

export type Client = <R, V>(doc: TadaDocumentNode<R, V>, variables: V, headers?: Record<string, string>) => Promise<R>;

/** What a query answers and takes, as types (for components that hold a result). */
export type Catalogue = ResultOf<typeof CatalogueQuery>;
export type CatalogueVariables = VariablesOf<typeof CatalogueQuery>;

/** A fetch-based client: credentials as for REST, errors thrown with the API's `extensions.code`. */
export function client(url: string, credentials: { publishableKey?: string; token?: string }): Client {
  return (async (doc: TadaDocumentNode<unknown, unknown>, variables: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(credentials.publishableKey ? { 'x-publishable-key': credentials.publishableKey } : {}),
        ...(credentials.token ? { authorization: `Bearer ${credentials.token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ query: print(doc), variables }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
    if (body.errors?.length) throw Object.assign(new Error(body.errors[0]?.message), { code: body.errors[0]?.extensions?.code });
    return body.data;
  }) as Client;
}

/** The storefront's path: browse, fill a cart, check out (with an Idempotency-Key, so a retry never orders twice). */
export async function shop(url: string, publishableKey: string) {
  const api = client(url, { publishableKey });
  const page = await api(CatalogueQuery, { first: 10 });
  const variant = page.products.nodes.flatMap((p) => p.variants).find((v) => v.inStock);
  if (!variant) throw new Error('nothing in stock');
  const cart = await api(CreateCart, { input: { email: 'typed@example.com', lines: [{ variantId: variant.id, quantity: 1 }] } });
  const order = await api(Checkout, { input: { cartId: cart.cartCreate.id, payment: { provider: 'test', cardNumber: '4242424242424242' } } }, { 'idempotency-key': `typed-${cart.cartCreate.id}` });
  return { products: page.products.nodes.length, total: cart.cartCreate.totals?.total ?? 0, order: order.checkout };
}
