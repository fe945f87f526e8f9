import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, client, type Ok } from '../api.ts';
import { useCan } from '../session.tsx';
import { Card, Field, ProblemBanner, useAction } from '../ui.tsx';

type Shop = Ok<'/api/shop', 'get'>;

export function Settings() {
  const can = useCan();
  const [shop, setShop] = useState<Shop | null>(null);
  const [etag, setEtag] = useState('');
  const [form, setForm] = useState({ name: '', currency: '', timezone: '', tax_mode: 'exclusive', storefront_url: '', cart_reminder_hours: '0' });
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const load = async () => {
    try {
      const r = await client.GET('/api/shop');
      const s = await call(async () => r);
      setShop(s);
      setEtag(r.response.headers.get('etag') ?? '');
      setForm({ name: s.name, currency: s.currency, timezone: s.timezone, tax_mode: s.tax_mode, storefront_url: s.storefront_url ?? '', cart_reminder_hours: String(s.cart_reminder_hours) });
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => void load(), []);
  const save = useAction(async () => {
    setSaved(false);
    await call(() =>
      client.PATCH('/api/shop', {
        params: { header: { 'If-Match': etag } } as never,
        body: { name: form.name, currency: form.currency, timezone: form.timezone, tax_mode: form.tax_mode as 'exclusive', storefront_url: form.storefront_url || null, cart_reminder_hours: Number(form.cart_reminder_hours) },
      }),
    );
    await load();
    setSaved(true);
  });
  if (!shop) return error ? <ProblemBanner error={error} /> : <p class="loading">Loading…</p>;
  const err = save.error instanceof ApiError ? save.error : null;
  const write = can('shop:write');
  return (
    <div class="grid">
      <Card title="Shop settings" wide>
        <form
          aria-label="Shop settings"
          onSubmit={(e) => {
            e.preventDefault();
            void save.run();
          }}
        >
          <Field label="Name" name="name" value={form.name} onInput={(v) => setForm({ ...form, name: v })} required error={err?.field('name')} />
          <Field label="Currency (ISO 4217)" name="currency" value={form.currency} onInput={(v) => setForm({ ...form, currency: v.toUpperCase() })} required error={err?.field('currency')} />
          <Field label="Time zone (IANA)" name="timezone" value={form.timezone} onInput={(v) => setForm({ ...form, timezone: v })} required error={err?.field('timezone')} />
          <div class="field">
            <label for="f-tax">Prices</label>
            <select id="f-tax" value={form.tax_mode} onChange={(e) => setForm({ ...form, tax_mode: (e.currentTarget as HTMLSelectElement).value })}>
              <option value="exclusive">exclude tax (tax is added)</option>
              <option value="inclusive">include tax</option>
            </select>
          </div>
          <Field label="Storefront URL" name="storefront_url" type="url" value={form.storefront_url} onInput={(v) => setForm({ ...form, storefront_url: v })} error={err?.field('storefront_url')} />
          <Field label="Abandoned-cart reminder after (hours, 0: never)" name="cart_reminder_hours" type="number" min={0} value={form.cart_reminder_hours} onInput={(v) => setForm({ ...form, cart_reminder_hours: v })} error={err?.field('cart_reminder_hours')} />
          <ProblemBanner error={err && err.problem.errors?.length ? null : save.error} />
          {saved && <p role="status">Saved.</p>}
          {write && (
            <button type="submit" disabled={save.busy}>
              Save
            </button>
          )}
        </form>
      </Card>
    </div>
  );
}
