import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { call, client, onSessionChange, signedIn } from './api.ts';

export interface Me {
  id: string;
  permissions: Set<string>;
  /** The shop's currency (prices are typed and shown in it) and name. */
  currency: string;
  shopName: string;
}

const MeContext = createContext<Me | null>(null);

/** Who is signed in, and what they may do: the console shows only what the API would allow. */
export function MeProvider({ children, fallback }: { children: ComponentChildren; fallback: ComponentChildren }) {
  const [me, setMe] = useState<Me | null>(null);
  const [on, setOn] = useState(signedIn());
  useEffect(() => onSessionChange(() => setOn(signedIn())), []);
  useEffect(() => {
    if (!on) {
      setMe(null);
      return;
    }
    (async () => {
      const m = await call(() => client.GET('/api/auth/me'));
      const permissions = new Set(m.permissions);
      const shop = permissions.has('shop:read') ? await call(() => client.GET('/api/shop')) : null;
      setMe({ id: m.id, permissions, currency: shop?.currency ?? 'EUR', shopName: shop?.name ?? '' });
    })().catch(() => setMe(null));
  }, [on]);
  if (!on) return <>{fallback}</>;
  if (!me) return <p class="loading">Loading…</p>;
  return <MeContext.Provider value={me}>{children}</MeContext.Provider>;
}

export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe outside MeProvider');
  return me;
}

/** Whether the signed-in staff member holds a permission (`orders:refund`, `catalog:write`…). */
export function useCan(): (permission: string) => boolean {
  const me = useMe();
  return (p) => me.permissions.has(p);
}
