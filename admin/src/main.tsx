import { render } from 'preact';
import { Link, Route, Router, Switch, useLocation } from 'wouter-preact';
import { logout, shopSlug } from './api.ts';
import { useEffect } from 'preact/hooks';
import { closeRealtime, realtime, useRealtimeState } from './realtime.ts';
import { MeProvider, useCan } from './session.tsx';
import { Login } from './pages/Login.tsx';
import { Dashboard } from './pages/Dashboard.tsx';
import { Orders } from './pages/Orders.tsx';
import { OrderDetail } from './pages/Order.tsx';
import { Products } from './pages/Products.tsx';
import { ProductPage } from './pages/Product.tsx';
import { Imports } from './pages/Imports.tsx';
import { CustomerDetail, Customers } from './pages/Customers.tsx';
import { Webhooks } from './pages/Webhooks.tsx';
import { Jobs } from './pages/Jobs.tsx';
import { Staff } from './pages/Staff.tsx';
import { Settings } from './pages/Settings.tsx';
import './styles.css';

function Shell() {
  const can = useCan();
  const live = useRealtimeState();
  // One connection for the signed-in tab, opened at once (the header says whether it is up).
  useEffect(() => void realtime(), []);
  const [location] = useLocation();
  const nav = [
    { href: '/', label: 'Dashboard', show: can('reports:read') },
    { href: '/orders', label: 'Orders', show: can('orders:read') },
    { href: '/products', label: 'Products', show: can('catalog:read') },
    { href: '/customers', label: 'Customers', show: can('crm:read') },
    { href: '/imports', label: 'Imports', show: can('imports:read') },
    { href: '/webhooks', label: 'Webhooks', show: can('webhooks:read') },
    { href: '/jobs', label: 'Jobs', show: can('jobs:read') },
    { href: '/staff', label: 'Staff', show: can('users:read') || can('roles:read') || can('api_keys:read') },
    { href: '/settings', label: 'Settings', show: can('shop:read') },
  ];
  return (
    <div class="shell">
      <header>
        <strong class="brand">Stockroom</strong>
        <span class="shop">{shopSlug()}</span>
        <nav aria-label="Main">
          {nav
            .filter((n) => n.show)
            .map((n) => (
              <Link key={n.href} href={n.href} aria-current={location === n.href || (n.href !== '/' && location.startsWith(`${n.href}/`)) ? 'page' : undefined}>
                {n.label}
              </Link>
            ))}
        </nav>
        <span class={`live live-${live}`} title="Live updates" aria-live="polite">
          {live === 'open' ? 'live' : live}
        </span>
        <button
          type="button"
          class="link"
          onClick={async () => {
            closeRealtime();
            await logout();
          }}
        >
          Log out
        </button>
      </header>
      <main>
        <Switch>
          <Route path="/" component={Dashboard} />
          <Route path="/orders" component={Orders} />
          <Route path="/orders/:id">{(p: { id: string }) => <OrderDetail id={p.id} />}</Route>
          <Route path="/products" component={Products} />
          <Route path="/products/:id">{(p: { id: string }) => <ProductPage id={p.id} />}</Route>
          <Route path="/imports" component={Imports} />
          <Route path="/customers" component={Customers} />
          <Route path="/customers/:id">{(p: { id: string }) => <CustomerDetail id={p.id} />}</Route>
          <Route path="/webhooks" component={Webhooks} />
          <Route path="/jobs" component={Jobs} />
          <Route path="/staff" component={Staff} />
          <Route path="/settings" component={Settings} />
          <Route>
            <p>Not found.</p>
          </Route>
        </Switch>
      </main>
    </div>
  );
}

function App() {
  return (
    <Router base="/admin">
      <MeProvider fallback={<Login />}>
        <Shell />
      </MeProvider>
    </Router>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
