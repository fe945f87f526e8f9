import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'wouter-preact';
import { ApiError, call, client, type Ok } from '../api.ts';
import { fromMinor, money, toMinor } from '../format.ts';
import { useCan, useMe } from '../session.tsx';
import { Card, Field, ProblemBanner, useAction } from '../ui.tsx';

type Product = Ok<'/api/products/{id}', 'get'>;
type Variant = Product['variants'][number];
type Level = Ok<'/api/inventory', 'get'>['data'][number];

interface DraftVariant {
  sku: string;
  price: string;
  compare_at_price: string;
  weight_grams: string;
  stock: string;
  option_values: Record<string, string>;
}

const blankVariant = (): DraftVariant => ({ sku: '', price: '', compare_at_price: '', weight_grams: '', stock: '0', option_values: {} });

/** Every combination of the options' values (a variant each), keeping what was typed for combinations already there. */
function combine(options: { name: string; values: string[] }[], old: DraftVariant[]): DraftVariant[] {
  const named = options.filter((o) => o.name.trim() && o.values.length);
  if (!named.length) return old.length ? [old[0] as DraftVariant] : [blankVariant()];
  let combos: Record<string, string>[] = [{}];
  for (const o of named) combos = combos.flatMap((c) => o.values.map((v) => ({ ...c, [o.name.trim()]: v })));
  return combos.map((ov) => old.find((v) => JSON.stringify(v.option_values) === JSON.stringify(ov)) ?? { ...blankVariant(), option_values: ov });
}

/** A new product: its options generate the variants; each variant has its SKU, price and initial stock. */
function NewProduct() {
  const { currency } = useMe();
  const [, navigate] = useLocation();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [status, setStatus] = useState<'draft' | 'active'>('active');
  const [options, setOptions] = useState<{ name: string; values: string }[]>([]);
  const [variants, setVariants] = useState<DraftVariant[]>([blankVariant()]);
  const parsed = options.map((o) => ({ name: o.name, values: o.values.split(',').map((v) => v.trim()).filter(Boolean) }));
  useEffect(() => setVariants((old) => combine(parsed, old)), [JSON.stringify(parsed)]);
  const save = useAction(async () => {
    const body = {
      title,
      ...(description ? { description } : {}),
      status,
      ...(parsed.some((o) => o.name.trim()) ? { options: parsed.filter((o) => o.name.trim()).map((o) => ({ name: o.name.trim(), values: o.values })) } : {}),
      variants: variants.map((v) => ({
        sku: v.sku,
        price: toMinor(v.price, currency),
        ...(v.compare_at_price ? { compare_at_price: toMinor(v.compare_at_price, currency) } : {}),
        ...(v.weight_grams ? { weight_grams: Number(v.weight_grams) } : {}),
        ...(Object.keys(v.option_values).length ? { option_values: v.option_values } : {}),
        stock: Number(v.stock || 0),
      })),
    };
    const p = await call(() => client.POST('/api/products', { body: body as never }));
    navigate(`/products/${p.id}`);
  });
  const err = save.error instanceof ApiError ? save.error : null;
  const set = (i: number, patch: Partial<DraftVariant>) => setVariants((vs) => vs.map((v, j) => (j === i ? { ...v, ...patch } : v)));
  return (
    <form
      aria-label="New product"
      class="grid"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <Card title="New product" wide>
        <Field label="Title" name="title" value={title} onInput={setTitle} required error={err?.field('title')} />
        <Field label="Description" name="description" value={description} onInput={setDescription} error={err?.field('description')} />
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value as 'draft')}>
            <option value="active">active</option>
            <option value="draft">draft</option>
          </select>
        </div>
      </Card>
      <Card title="Options" wide>
        {options.map((o, i) => (
          <div class="row" key={i}>
            <Field label={`Option ${i + 1} name`} name={`option${i}`} value={o.name} onInput={(v) => setOptions((os) => os.map((x, j) => (j === i ? { ...x, name: v } : x)))} />
            <Field label={`Option ${i + 1} values (comma-separated)`} name={`values${i}`} value={o.values} onInput={(v) => setOptions((os) => os.map((x, j) => (j === i ? { ...x, values: v } : x)))} />
          </div>
        ))}
        {options.length < 3 && (
          <button type="button" class="secondary" onClick={() => setOptions((os) => [...os, { name: '', values: '' }])}>
            Add option
          </button>
        )}
      </Card>
      <Card title="Variants" wide>
        <table>
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">SKU</th>
              <th scope="col">Price ({currency})</th>
              <th scope="col">Compare at</th>
              <th scope="col">Weight (g)</th>
              <th scope="col">Stock</th>
            </tr>
          </thead>
          <tbody>
            {variants.map((v, i) => {
              const name = Object.values(v.option_values).join(' / ') || 'Default';
              const cell = (key: keyof Omit<DraftVariant, 'option_values'>, label: string, type = 'text') => (
                <td>
                  <input aria-label={`${label} of ${name}`} type={type} value={v[key]} step={type === 'number' ? 'any' : undefined} aria-invalid={err?.field(`variants/${i}/${key}`) ? 'true' : undefined} onInput={(e) => set(i, { [key]: (e.currentTarget as HTMLInputElement).value })} />
                  {err?.field(`variants/${i}/${key}`) && <span class="field-error">{err.field(`variants/${i}/${key}`)}</span>}
                </td>
              );
              return (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  {cell('sku', 'SKU')}
                  {cell('price', 'Price', 'number')}
                  {cell('compare_at_price', 'Compare-at price', 'number')}
                  {cell('weight_grams', 'Weight', 'number')}
                  {cell('stock', 'Stock', 'number')}
                </tr>
              );
            })}
          </tbody>
        </table>
        <ProblemBanner error={save.error} />
        <button type="submit" disabled={save.busy}>
          Create product
        </button>
      </Card>
    </form>
  );
}

/** Stock of one variant per location: counted (set to) or adjusted, each recorded in the ledger. */
function StockRow({ variant, canWrite, places }: { variant: Variant; canWrite: boolean; places: Record<string, string> }) {
  const [levels, setLevels] = useState<Level[]>([]);
  const [counts, setCounts] = useState<Record<string, string>>({});
  const load = () => call(() => client.GET('/api/inventory', { params: { query: { variant_id: variant.id } } })).then((r) => setLevels(r.data));
  useEffect(() => void load(), [variant.id]);
  const count = useAction(async (locationId: string) => {
    await call(() => client.POST('/api/inventory/adjustments', { body: { variant_id: variant.id, location_id: locationId, reason: 'count', set_to: Number(counts[locationId]) } }));
    setCounts((c) => ({ ...c, [locationId]: '' }));
    await load();
  });
  return (
    <>
      {levels.map((l) => (
        <tr key={l.location_id}>
          <td>{variant.sku}</td>
          <td>{places[l.location_id] ?? l.location_id}</td>
          <td data-testid={`stock-${variant.sku}`}>{l.available}</td>
          <td>
            {canWrite && (
              <form
                class="inline"
                aria-label={`Count ${variant.sku} at ${places[l.location_id] ?? l.location_id}`}
                onSubmit={(e) => {
                  e.preventDefault();
                  void count.run(l.location_id);
                }}
              >
                <input aria-label={`New count of ${variant.sku}`} type="number" min={0} value={counts[l.location_id] ?? ''} onInput={(e) => setCounts((c) => ({ ...c, [l.location_id]: (e.currentTarget as HTMLInputElement).value }))} required />
                <button type="submit" disabled={count.busy}>
                  Set
                </button>
              </form>
            )}
          </td>
        </tr>
      ))}
      {count.error ? (
        <tr>
          <td colSpan={4}>
            <ProblemBanner error={count.error} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function EditProduct({ id }: { id: string }) {
  const can = useCan();
  const { currency } = useMe();
  const [product, setProduct] = useState<Product | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [title, setTitle] = useState('');
  const [status, setStatus] = useState('');
  const [prices, setPrices] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [places, setPlaces] = useState<Record<string, string>>({});
  useEffect(() => {
    if (can('inventory:read')) void call(() => client.GET('/api/locations', { params: { query: { limit: 100 } } })).then((r) => setPlaces(Object.fromEntries(r.data.map((l) => [l.id, l.name]))));
  }, []);
  const load = async () => {
    try {
      const r = await client.GET('/api/products/{id}', { params: { path: { id } } });
      const p = await call(async () => r);
      setProduct(p);
      setEtag(r.response.headers.get('etag'));
      setTitle(p.title);
      setStatus(p.status);
      setPrices(Object.fromEntries(p.variants.map((v) => [v.id, fromMinor(v.price, currency)])));
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => void load(), [id]);
  const saveProduct = useAction(async () => {
    await call(() => client.PATCH('/api/products/{id}', { params: { path: { id }, header: { 'If-Match': etag ?? '' } } as never, body: { title, status: status as 'active' } }));
    await load();
  });
  const savePrice = useAction(async (v: Variant) => {
    await call(() => client.PATCH('/api/variants/{id}', { params: { path: { id: v.id } }, body: { price: toMinor(prices[v.id] ?? '', currency) } }));
    await load();
  });
  if (!product) return error ? <ProblemBanner error={error} /> : <p class="loading">Loading…</p>;
  const write = can('catalog:write');
  const err = saveProduct.error instanceof ApiError ? saveProduct.error : null;
  return (
    <div class="grid">
      <Card title={product.title} wide>
        <form
          aria-label="Product"
          onSubmit={(e) => {
            e.preventDefault();
            void saveProduct.run();
          }}
        >
          <Field label="Title" name="title" value={title} onInput={setTitle} required error={err?.field('title')} />
          <div class="field">
            <label for="f-status">Status</label>
            <select id="f-status" value={status} disabled={!write} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}>
              <option value="active">active</option>
              <option value="draft">draft</option>
              <option value="archived">archived</option>
            </select>
          </div>
          <ProblemBanner error={saveProduct.error} />
          {write && (
            <button type="submit" disabled={saveProduct.busy}>
              Save
            </button>
          )}
        </form>
        {product.options.length > 0 && (
          <p class="muted">
            Options: {product.options.map((o) => `${o.name} (${o.values.join(', ')})`).join('; ')}
          </p>
        )}
      </Card>
      <Card title="Variants and prices" wide>
        <table>
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">SKU</th>
              <th scope="col">Price</th>
              <th scope="col">Available</th>
            </tr>
          </thead>
          <tbody>
            {product.variants.map((v) => (
              <tr key={v.id}>
                <th scope="row">{v.title}</th>
                <td>{v.sku}</td>
                <td>
                  {write ? (
                    <form
                      class="inline"
                      aria-label={`Price of ${v.sku}`}
                      onSubmit={(e) => {
                        e.preventDefault();
                        void savePrice.run(v);
                      }}
                    >
                      <input aria-label={`Price of ${v.sku} (${currency})`} type="number" step="any" min={0} value={prices[v.id] ?? ''} onInput={(e) => setPrices((p) => ({ ...p, [v.id]: (e.currentTarget as HTMLInputElement).value }))} />
                      <button type="submit" disabled={savePrice.busy}>
                        Save
                      </button>
                    </form>
                  ) : (
                    money(v.price, currency)
                  )}
                </td>
                <td>{v.available ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <ProblemBanner error={savePrice.error} />
      </Card>
      {can('inventory:read') && (
        <Card title="Stock per location" wide>
          <table>
            <thead>
              <tr>
                <th scope="col">SKU</th>
                <th scope="col">Location</th>
                <th scope="col">Available</th>
                <th scope="col">Count</th>
              </tr>
            </thead>
            <tbody>
              {product.variants.map((v) => (
                <StockRow key={v.id} variant={v} canWrite={can('inventory:write')} places={places} />
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}

export function ProductPage({ id }: { id: string }) {
  return id === 'new' ? <NewProduct /> : <EditProduct id={id} />;
}
