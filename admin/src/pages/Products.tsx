import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { call, client } from '../api.ts';
import { money } from '../format.ts';
import { useCan, useMe } from '../session.tsx';
import { FilterSelect, ListTable, ProblemBanner, Status, usePaged } from '../ui.tsx';


export function Products() {
  const can = useCan();
  const { currency } = useMe();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const list = usePaged((after) => call(() => client.GET('/api/products', { params: { query: { limit: 25, ...(q.trim() ? { q: q.trim() } : {}), ...(status ? { status: status as 'active' } : {}), ...(after ? { cursor: after } : {}) } } })), [q, status], 200);
  const rows = list.rows;
  return (
    <section class="card" aria-label="Products">
      <h1>Products</h1>
      <div class="toolbar wide-toolbar">
        <label for="product-search">Search</label>
        <input id="product-search" type="search" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        <FilterSelect id="product-status" label="Status" value={status} options={['', 'active', 'draft', 'archived']} onChange={setStatus} />
        {can('catalog:write') && (
          <Link href="/products/new" class="button">
            New product
          </Link>
        )}
      </div>
      <ProblemBanner error={list.error} />
      <ListTable columns={['Product', 'Status', 'Variants', 'Price', 'Available']} empty="No products." more={list.more}>
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
      </ListTable>
    </section>
  );
}
