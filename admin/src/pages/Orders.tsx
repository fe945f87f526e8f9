import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { call, client, type Ok } from '../api.ts';
import { money, when } from '../format.ts';
import { useChannel } from '../realtime.ts';
import { FilterSelect, ListTable, ProblemBanner, Status, usePaged } from '../ui.tsx';

type Order = Ok<'/api/orders', 'get'>['data'][number];
const STATUSES = ['', 'pending_payment', 'paid', 'partially_fulfilled', 'fulfilled', 'completed', 'partially_refunded', 'refunded', 'cancelled'] as const;

export function Orders() {
  const [status, setStatus] = useState('');
  const [stale, setStale] = useState(0);
  const list = usePaged((after) => call(() => client.GET('/api/orders', { params: { query: { limit: 25, ...(status ? { status: status as Order['status'] } : {}), ...(after ? { cursor: after } : {}) } } })), [status, stale]);
  // A new or changed order refreshes the first page.
  useChannel(
    'orders',
    () => setStale((n) => n + 1),
    () => setStale((n) => n + 1),
  );
  const orders = list.rows;
  return (
    <section class="card" aria-label="Orders">
      <h1>Orders</h1>
      <div class="toolbar">
        <FilterSelect id="status-filter" label="Status" value={status} options={STATUSES} onChange={setStatus} />
      </div>
      <ProblemBanner error={list.error} />
      <ListTable columns={['Order', 'Status', 'Customer', 'Total', 'Placed']} empty="No orders." more={list.more}>
        {orders.map((o) => (
          <tr key={o.id}>
            <td>
              <Link href={`/orders/${o.id}`}>{o.name}</Link>
            </td>
            <td>
              <Status value={o.status} />
            </td>
            <td>{o.email ?? '—'}</td>
            <td>{money(o.total, o.currency)}</td>
            <td>{when(o.created_at)}</td>
          </tr>
        ))}
      </ListTable>
    </section>
  );
}
