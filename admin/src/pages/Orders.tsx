import { useEffect, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { call, client, type Ok } from '../api.ts';
import { money, when } from '../format.ts';
import { useChannel } from '../realtime.ts';
import { ProblemBanner, Status } from '../ui.tsx';

type Order = Ok<'/api/orders', 'get'>['data'][number];
const STATUSES = ['', 'pending_payment', 'paid', 'partially_fulfilled', 'fulfilled', 'completed', 'partially_refunded', 'refunded', 'cancelled'] as const;

export function Orders() {
  const [status, setStatus] = useState('');
  const [pages, setPages] = useState<Order[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [stale, setStale] = useState(0);

  const load = async (after: string | null) => {
    try {
      const page = await call(() => client.GET('/api/orders', { params: { query: { limit: 25, ...(status ? { status: status as Order['status'] } : {}), ...(after ? { cursor: after } : {}) } } }));
      setPages((p) => (after ? [...p, page.data] : [page.data]));
      setCursor(page.has_more ? (page.next_cursor ?? null) : null);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    void load(null);
  }, [status, stale]);
  // A new or changed order refreshes the first page.
  useChannel(
    'orders',
    () => setStale((n) => n + 1),
    () => setStale((n) => n + 1),
  );

  const orders = pages.flat();
  return (
    <section class="card" aria-label="Orders">
      <h1>Orders</h1>
      <div class="toolbar">
        <label for="status-filter">Status</label>
        <select id="status-filter" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s ? s.replace(/_/g, ' ') : 'all'}
            </option>
          ))}
        </select>
      </div>
      <ProblemBanner error={error} />
      <table class="list" tabIndex={0}>
        <thead>
          <tr>
            <th scope="col">Order</th>
            <th scope="col">Status</th>
            <th scope="col">Customer</th>
            <th scope="col">Total</th>
            <th scope="col">Placed</th>
          </tr>
        </thead>
        <tbody>
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
          {orders.length === 0 && (
            <tr>
              <td colSpan={5} class="muted">
                No orders.
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
