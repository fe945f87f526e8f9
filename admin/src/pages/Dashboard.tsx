import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { Link } from 'wouter-preact';
import { call, client, type Ok } from '../api.ts';
import { money, when } from '../format.ts';
import { useChannel } from '../realtime.ts';
import { useCan } from '../session.tsx';
import { Card, ProblemBanner, Status } from '../ui.tsx';

interface Dashboard {
  day: string;
  currency: string;
  orders: number;
  gross_sales: number;
  refunds: number;
  net_sales: number;
  average_order_value: number;
  orders_last_minute: number;
  top_products: { product_id: string; title: string; quantity: number; revenue: number }[];
  low_stock: { variant_id: string; product_id: string; sku: string; available: number; threshold: number }[];
}

interface FeedItem {
  order_id: string;
  number: string;
  status: string;
  total: number;
  currency: string;
  email: string | null;
  at: string;
}

type SalesDay = Ok<'/api/reports/sales', 'get'>['days'][number];

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** Net sales of the last 7 days (today's bar follows the live figures). */
function SalesChart({ days, currency }: { days: { date: string; net: number }[]; currency: string }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    if (!el.current) return;
    const data: uPlot.AlignedData = [days.map((_, i) => i), days.map((d) => d.net / 100)];
    if (!plot.current) {
      plot.current = new uPlot(
        {
          width: Math.min(640, el.current.clientWidth || 320),
          height: 200,
          legend: { show: false },
          scales: { x: { time: false } },
          axes: [{ values: (_u, ticks) => ticks.map((t) => days[t]?.date.slice(5) ?? '') }, { values: (_u, ticks) => ticks.map((t) => money(t * 100, currency)), size: 70 }],
          series: [{}, { label: 'Net sales', stroke: '#2563eb', fill: 'rgba(37,99,235,0.15)', width: 2, paths: uPlot.paths.bars?.({ size: [0.6] }) }],
        },
        data,
        el.current,
      );
    } else plot.current.setData(data);
  }, [days, currency]);
  useEffect(() => () => plot.current?.destroy(), []);
  return (
    <figure>
      <div ref={el} role="img" aria-label={`Net sales per day: ${days.map((d) => `${d.date} ${money(d.net, currency)}`).join(', ')}`} />
    </figure>
  );
}

export function Dashboard() {
  const can = useCan();
  const [dash, setDash] = useState<Dashboard | null>(null);
  const [week, setWeek] = useState<SalesDay[] | null>(null);
  const [feed, setFeed] = useState<FeedItem[]>([]);
  const [error, setError] = useState<unknown>(null);

  useChannel(can('reports:read') ? 'dashboard' : null, (m) => {
    if (m.event === 'dashboard.updated') setDash(m.data as unknown as Dashboard);
  });
  // The latest orders, merged with what came live (an order seen live keeps its newer status).
  const loadFeed = () =>
    call(() => client.GET('/api/orders', { params: { query: { limit: 10 } } }))
      .then((page) =>
        setFeed((f) => {
          const known = new Set(f.map((x) => x.order_id));
          const read = page.data.filter((o) => !known.has(o.id)).map((o) => ({ order_id: o.id, number: o.name, status: o.status, total: Number(o.total), currency: o.currency, email: o.email ?? null, at: o.created_at }));
          return [...f, ...read].sort((x, y) => (x.at < y.at ? 1 : -1)).slice(0, 15);
        }),
      )
      .catch(setError);
  useChannel(
    can('orders:read') ? 'orders' : null,
    (m) => {
      const d = m.data as Partial<FeedItem> & { name?: string };
      if (!d.order_id) return;
      setFeed((f) => {
        const prev = f.find((x) => x.order_id === d.order_id);
        const item: FeedItem = {
          order_id: d.order_id as string,
          number: d.name ?? (d.number !== undefined ? `#${d.number}` : (prev?.number ?? '')),
          status: String(d.status ?? prev?.status ?? m.event.replace('order.', '')),
          total: d.total !== undefined ? Number(d.total) : (prev?.total ?? 0),
          currency: d.currency ?? prev?.currency ?? '',
          email: d.email ?? prev?.email ?? null,
          at: prev?.at ?? m.at ?? new Date().toISOString(),
        };
        return [item, ...f.filter((x) => x.order_id !== item.order_id)].slice(0, 15);
      });
    },
    loadFeed,
  );

  // Seven days of sales once the shop's own date is known (the dashboard says it).
  const day = dash?.day;
  useEffect(() => {
    if (!day) return;
    call(() => client.GET('/api/reports/sales', { params: { query: { from: addDays(day, -6), to: day } } }))
      .then((r) => setWeek(r.days))
      .catch(setError);
  }, [day]);

  // The dashboard shows the shop's figures: without reports:read there is nothing here to show.
  if (!can('reports:read')) return <p>Welcome. Your role has no access to the shop's figures; the menu shows what it does have.</p>;
  if (!dash) return <p class="loading">Connecting to the live dashboard…</p>;
  const days = (week ?? []).map((d) => ({ date: d.date, net: d.date === dash.day ? dash.net_sales : d.net }));
  return (
    <div class="grid">
      <ProblemBanner error={error} />
      <Card title="Today">
        <dl class="figures">
          <div>
            <dt>Sales</dt>
            <dd data-testid="today-sales">{money(dash.gross_sales, dash.currency)}</dd>
          </div>
          <div>
            <dt>Orders</dt>
            <dd data-testid="today-orders">{dash.orders}</dd>
          </div>
          <div>
            <dt>Net</dt>
            <dd>{money(dash.net_sales, dash.currency)}</dd>
          </div>
          <div>
            <dt>Average order</dt>
            <dd>{money(dash.average_order_value, dash.currency)}</dd>
          </div>
        </dl>
      </Card>
      <Card title="Last 7 days" wide>
        {week ? <SalesChart days={days} currency={dash.currency} /> : <p class="loading">Loading…</p>}
      </Card>
      <Card title="Live orders">
        <ul class="feed" aria-live="polite" data-testid="order-feed">
          {feed.length === 0 && <li class="muted">No orders yet.</li>}
          {feed.map((o) => (
            <li key={o.order_id}>
              <Link href={`/orders/${o.order_id}`}>{o.number}</Link> <Status value={o.status} /> {o.currency && money(o.total, o.currency)} <span class="muted">{when(o.at)}</span>
            </li>
          ))}
        </ul>
      </Card>
      <Card title="Low stock">
        {dash.low_stock.length === 0 ? (
          <p class="muted">Nothing is running low.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">SKU</th>
                <th scope="col">Available</th>
                <th scope="col">Threshold</th>
              </tr>
            </thead>
            <tbody>
              {dash.low_stock.map((v) => (
                <tr key={v.variant_id}>
                  <td>{v.sku}</td>
                  <td>{v.available}</td>
                  <td>{v.threshold}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}
