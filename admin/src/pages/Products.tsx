import { useEffect, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { call, client, type Ok } from '../api.ts';
import { money } from '../format.ts';
import { useCan, useMe } from '../session.tsx';
import { ProblemBanner, Status } from '../ui.tsx';

type Product = Ok<'/api/products', 'get'>['data'][number];

export function Products() {
  const can = useCan();
  const { currency } = useMe();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const [rows, setRows] = useState<Product[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (after: string | null) => {
    try {
      const page = await call(() => client.GET('/api/products', { params: { query: { limit: 25, ...(q.trim() ? { q: q.trim() } : {}), ...(status ? { status: status as 'active' } : {}), ...(after ? { cursor: after } : {}) } } }));
      setRows((r) => (after ? [...r, ...page.data] : page.data));
      setCursor(page.has_more ? (page.next_cursor ?? null) : null);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    const timer = setTimeout(() => void load(null), 200);
    return () => clearTimeout(timer);
  }, [q, status]);
  return (
    <section class="card" aria-label="Products">
      <h1>Products</h1>
      <div class="toolbar wide-toolbar">
        <label for="product-search">Search</label>
        <input id="product-search" type="search" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        <label for="product-status">Status</label>
        <select id="product-status" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}>
          <option value="">all</option>
          <option value="active">active</option>
          <option value="draft">draft</option>
          <option value="archived">archived</option>
        </select>
        {can('catalog:write') && (
          <Link href="/products/new" class="button">
            New product
          </Link>
        )}
      </div>
      <ProblemBanner error={error} />
      <table class="list" tabIndex={0}>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Status</th>
            <th scope="col">Variants</th>
            <th scope="col">Price</th>
            <th scope="col">Available</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => (
            <tr key={p.id}>
              <td>
                <Link href={`/products/${p.id}`}>{p.title}</Link>
              </td>
              <td>
                <Status value={p.status} />
              </td>
              <td>{p.variants.length}</td>
              <td>{p.price_range.min === p.price_range.max ? money(p.price_range.min, currency) : `${money(p.price_range.min, currency)} – ${money(p.price_range.max, currency)}`}</td>
              <td>{p.variants.reduce((n, v) => n + (v.available ?? 0), 0)}</td>
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colSpan={5} class="muted">
                No products.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {cursor && (
        <button type="button" onClick={() => void load(cursor)}>
          More
        </button>
      )}
    </section>
  );
}
