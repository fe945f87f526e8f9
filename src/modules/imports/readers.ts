import { parse } from 'csv-parse';
import { Readable } from 'node:stream';
import { parseMoney } from '../../lib/money.ts';
import type { ImportProduct, ImportVariant, RowProblem } from '../catalog/index.ts';
import type { ImportContact } from '../crm/index.ts';

/** One record of the file: its cells (CSV) or value (NDJSON), or why it could not be read. */
export type SourceRecord = ({ line: number; cells: string[] } | { line: number; json: unknown } | { line: number; unreadable: { code: string; message: string } }) & {
  /** How far into the file this record ends (bytes), when known: the import's progress. */
  bytes?: number;
};

/** A longer NDJSON line is refused (the row), so one line can never take the memory. */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * The records of a file read from its chunks, a few chunks at a time: the whole file is never in memory. `onBytes`
 * hears how far into the file the reader is.
 */
export async function* readRecords(chunks: AsyncIterable<Uint8Array>, format: 'csv' | 'ndjson', onBytes: (n: number) => void): AsyncGenerator<SourceRecord> {
  let bytes = 0;
  async function* counted() {
    for await (const c of chunks) {
      bytes += c.byteLength;
      onBytes(bytes);
      yield Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    }
  }
  if (format === 'csv') {
    const skipped: SourceRecord[] = [];
    const parser = parse({ bom: true, skip_empty_lines: true, info: true, skip_records_with_error: true, relax_column_count: true, max_record_size: MAX_LINE_BYTES });
    parser.on('skip', (err: Error & { code?: string; lines?: number }) => skipped.push({ line: err.lines ?? 0, unreadable: { code: 'unreadable_row', message: err.message.replace(/ on line \d+$/, '') } }));
    const source = Readable.from(counted());
    source.on('error', (e) => parser.destroy(e));
    source.pipe(parser);
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
      while (skipped.length) yield skipped.shift() as SourceRecord;
      yield { line: r.info.lines, cells: r.record, bytes: r.info.bytes };
    }
    while (skipped.length) yield skipped.shift() as SourceRecord;
    return;
  }
  // NDJSON: a value per line; blank lines are skipped.
  let line = 0;
  let consumed = 0;
  let rest = Buffer.alloc(0);
  let tooLong = false;
  const take = function* (text: Buffer, last: boolean): Generator<SourceRecord> {
    let buf = rest.length ? Buffer.concat([rest, text]) : text;
    let at: number;
    while ((at = buf.indexOf(10)) >= 0) {
      line++;
      const raw = buf.subarray(0, at);
      buf = buf.subarray(at + 1);
      consumed += at + 1;
      if (tooLong) {
        tooLong = false;
        yield { line, unreadable: { code: 'line_too_long', message: `A line is at most ${MAX_LINE_BYTES} bytes` } };
        continue;
      }
      const r = one(line, raw);
      if (r) yield { ...r, bytes: consumed };
    }
    if (buf.length > MAX_LINE_BYTES) {
      consumed += buf.length;
      tooLong = true;
      buf = Buffer.alloc(0);
    }
    rest = Buffer.from(buf);
    if (last && (rest.length || tooLong)) {
      line++;
      if (tooLong) yield { line, unreadable: { code: 'line_too_long', message: `A line is at most ${MAX_LINE_BYTES} bytes` } };
      else {
        const r = one(line, rest);
        if (r) yield r;
      }
    }
  };
  for await (const c of counted()) yield* take(c, false);
  yield* take(Buffer.alloc(0), true);
}

function one(line: number, raw: Buffer): SourceRecord | null {
  let text = raw.toString('utf8');
  if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return null;
  try {
    return { line, json: JSON.parse(text) as unknown };
  } catch (e) {
    return { line, unreadable: { code: 'invalid_json', message: (e as Error).message } };
  }
}

// --- CSV header: which column holds what ----------------------------------------------------------------------

export interface Header {
  names: string[];
  index: Map<string, number>;
  /** `stock` and `stock:<location>` columns → location id. */
  stock: Map<number, string>;
  /** `attribute:<key>` (products) or `custom:<key>` (contacts) columns. */
  extra: Map<number, string>;
}

const PRODUCT_COLUMNS = ['handle', 'title', 'description', 'status', 'category', 'images', 'option1_name', 'option1_value', 'option2_name', 'option2_value', 'option3_name', 'option3_value', 'sku', 'variant_title', 'price', 'compare_at_price', 'weight_grams', 'stock'];
const CONTACT_COLUMNS = ['email', 'first_name', 'last_name', 'phone', 'country', 'tags', 'email_marketing'];

/**
 * Reads a CSV header against what the kind takes. Unknown columns are refused (a typo would otherwise import
 * nothing silently), as are a location or contact field the shop does not have.
 */
export function readHeader(kind: 'products' | 'contacts', cells: string[], locations: ReadonlyMap<string, string>, defaultLocation: string, fields: ReadonlySet<string>): { header: Header; problems: RowProblem[] } {
  const names = cells.map((c) => c.trim().toLowerCase());
  const header: Header = { names, index: new Map(), stock: new Map(), extra: new Map() };
  const problems: RowProblem[] = [];
  const bad = (column: string, code: string, message: string) => problems.push({ row: 1, column, code, message });
  names.forEach((n, i) => {
    if (header.index.has(n)) return bad(cells[i] ?? n, 'duplicate_column', 'This column appears twice');
    header.index.set(n, i);
    if (kind === 'products') {
      if (n === 'stock') header.stock.set(i, defaultLocation);
      else if (n.startsWith('stock:')) {
        const loc = locations.get(n.slice(6).trim());
        if (loc) header.stock.set(i, loc);
        else bad(cells[i] ?? n, 'unknown_location', `No location named "${n.slice(6).trim()}" in this shop`);
      } else if (n.startsWith('attribute:') && n.length > 10) header.extra.set(i, n.slice(10).trim());
      else if (!PRODUCT_COLUMNS.includes(n)) bad(cells[i] ?? n, 'unknown_column', `Not a product column (${PRODUCT_COLUMNS.join(', ')}, stock:<location>, attribute:<key>)`);
    } else if (n.startsWith('custom:')) {
      const key = n.slice(7).trim();
      if (fields.has(key)) header.extra.set(i, key);
      else bad(cells[i] ?? n, 'unknown_field', `No contact field "${key}" (define it under /api/contact-fields)`);
    } else if (!CONTACT_COLUMNS.includes(n)) bad(cells[i] ?? n, 'unknown_column', `Not a contact column (${CONTACT_COLUMNS.join(', ')}, custom:<key>)`);
  });
  if (kind === 'products' && !header.index.has('sku')) bad('sku', 'missing_column', 'A product file needs a sku column');
  if (kind === 'products' && !header.index.has('handle') && !header.index.has('title')) bad('handle', 'missing_column', 'A product file needs a handle or a title column');
  if (kind === 'contacts' && !header.index.has('email')) bad('email', 'missing_column', 'A contact file needs an email column');
  return { header, problems };
}

const HANDLE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const SKU = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;
const STATUSES = ['draft', 'active', 'archived'] as const;

/** A handle from a title, as the API makes one. */
export function handleOf(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100);
}

/** A product row of a CSV: the product's fields (read from a product's first row) and one variant. */
export interface ProductRow {
  handle: string;
  product: Omit<ImportProduct, 'variants'>;
  variant: ImportVariant;
  problems: RowProblem[];
}

export function productRow(h: Header, cells: string[], line: number, currency: string): ProductRow {
  const problems: RowProblem[] = [];
  const col = (name: string) => h.names[h.index.get(name) ?? -1] ?? name;
  const at = (field: string) => (field.startsWith('option:') ? 'option1_value' : field === 'options' ? 'option1_name' : col(field));
  const get = (name: string): string | undefined => {
    const i = h.index.get(name);
    const v = i === undefined ? undefined : cells[i]?.trim();
    return v === '' ? undefined : v;
  };
  const bad = (column: string, code: string, message: string) => problems.push({ row: line, column, code, message });
  const title = get('title');
  const handle = get('handle') ?? (title ? handleOf(title) : '');
  if (!handle) bad(h.index.has('handle') ? 'handle' : 'title', 'required', 'A handle (or a title to make one from)');
  else if (!HANDLE.test(handle) || handle.length > 100) bad('handle', 'invalid', 'Lower-case letters, digits and single dashes, up to 100');
  if (title !== undefined && title.length > 200) bad('title', 'invalid', 'At most 200 characters');
  const description = get('description');
  if (description !== undefined && description.length > 20_000) bad('description', 'invalid', 'At most 20,000 characters');
  const status = get('status')?.toLowerCase();
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) bad('status', 'invalid', `One of ${STATUSES.join(', ')}`);
  const images = get('images')
    ?.split(/[\s|]+/)
    .filter(Boolean);
  if (images?.some((u) => !/^https:\/\/\S{1,2000}$/.test(u))) bad('images', 'invalid', 'https URLs, separated by spaces or |');
  const options: string[] = [];
  const values: Record<string, string> = {};
  for (const n of [1, 2, 3]) {
    const name = get(`option${n}_name`);
    const value = get(`option${n}_value`);
    if (name) {
      options.push(name);
      if (value !== undefined) values[name] = value;
    } else if (value !== undefined) values[`\u0000${n}`] = value; // a value under the name from the product's first row
  }
  const sku = get('sku');
  if (!sku) bad('sku', 'required', 'Every row is a variant and needs a SKU');
  else if (!SKU.test(sku)) bad('sku', 'invalid', 'Letters, digits and . _ / -, starting with a letter or digit, up to 100');
  const money = (name: string): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    const m = parseMoney(v, currency);
    if (m === null) bad(name, 'invalid_amount', `An amount in ${currency} like 19.99, with at most the currency's decimals`);
    return m ?? undefined;
  };
  const price = money('price');
  const compare = money('compare_at_price');
  const weightText = get('weight_grams');
  const weight = weightText === undefined ? undefined : /^\d{1,9}$/.test(weightText) ? Number(weightText) : (bad('weight_grams', 'invalid', 'A whole number of grams'), undefined);
  const stock = new Map<string, number>();
  for (const [i, location] of h.stock) {
    const v = cells[i]?.trim();
    if (v === undefined || v === '') continue;
    if (/^\d{1,9}$/.test(v)) stock.set(location, Number(v));
    else bad(h.names[i] ?? 'stock', 'invalid', 'A whole number of units, 0 or more');
  }
  const attributes: Record<string, string> = {};
  for (const [i, key] of h.extra) {
    const v = cells[i]?.trim();
    if (v) attributes[key] = v;
  }
  const variantTitle = get('variant_title');
  return {
    handle,
    product: { row: line, handle, title, description, status: status as ImportProduct['status'], category: get('category'), images, attributes: Object.keys(attributes).length ? attributes : undefined, options: options.length ? options : undefined, at },
    variant: { row: line, sku: sku ?? '', title: variantTitle, price, compare_at_price: compare, weight_grams: weight, option_values: values, stock, at },
    problems,
  };
}

/** Rows of one product (consecutive rows with its handle) as one product; values under unnamed options are named. */
export function groupRows(rows: readonly ProductRow[]): ImportProduct {
  const first = rows[0] as ProductRow;
  const names = first.product.options ?? [];
  const variants = rows.map((r) => {
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.variant.option_values)) {
      if (k.startsWith('\u0000')) {
        const name = names[Number(k.slice(1)) - 1];
        if (name) values[name] = v;
      } else values[k] = v;
    }
    const base = r.variant.at;
    const at = (field: string) => (field.startsWith('option:') ? `option${Math.max(1, names.indexOf(field.slice(7)) + 1)}_value` : base(field));
    return { ...r.variant, option_values: values, at };
  });
  return { ...first.product, variants };
}

// --- NDJSON: a product or contact per line, in the API's own shape ---------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A product line: the API's product shape (prices in minor units), matched by handle; `stock` a number or { location: n }. */
export function productLine(v: unknown, line: number, locations: ReadonlyMap<string, string>, defaultLocation: string): { item: ImportProduct | null; problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  const bad = (pointer: string, code: string, message: string) => problems.push({ row: line, column: pointer, code, message });
  const at = (field: string) => (field.startsWith('option:') ? '/variants' : `/${field}`);
  if (!isObj(v)) return { item: null, problems: [{ row: line, column: '', code: 'invalid', message: 'Each line is a JSON object (a product)' }] };
  const str = (key: string, max: number): string | undefined => {
    const x = v[key];
    if (x === undefined || x === null) return undefined;
    if (typeof x !== 'string' || x.length > max) bad(`/${key}`, 'invalid', `A string of at most ${max} characters`);
    return typeof x === 'string' ? x : undefined;
  };
  const title = str('title', 200);
  const handle = str('handle', 100) ?? (title ? handleOf(title) : '');
  if (!handle || !HANDLE.test(handle)) bad('/handle', handle ? 'invalid' : 'required', 'A handle of lower-case letters, digits and single dashes (or a title to make one from)');
  const status = str('status', 20);
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) bad('/status', 'invalid', `One of ${STATUSES.join(', ')}`);
  const images = v.images === undefined ? undefined : Array.isArray(v.images) && v.images.every((u) => typeof u === 'string' && /^https:\/\/\S{1,2000}$/.test(u)) ? (v.images as string[]) : (bad('/images', 'invalid', 'An array of https URLs'), undefined);
  const attributes = v.attributes === undefined ? undefined : isObj(v.attributes) && Object.values(v.attributes).every((x) => typeof x === 'string') ? (v.attributes as Record<string, string>) : (bad('/attributes', 'invalid', 'An object of strings'), undefined);
  let options: string[] | undefined;
  if (v.options !== undefined) {
    if (Array.isArray(v.options) && v.options.length <= 3 && v.options.every((o) => typeof o === 'string' || (isObj(o) && typeof o.name === 'string'))) options = v.options.map((o) => (typeof o === 'string' ? o : String((o as Obj).name)));
    else bad('/options', 'invalid', 'Up to 3 option names (or { name, values } objects)');
  }
  const variants: ImportVariant[] = [];
  if (!Array.isArray(v.variants) || v.variants.length === 0 || v.variants.length > 1000) bad('/variants', 'required', 'An array of 1–1000 variants');
  else
    v.variants.forEach((x, i) => {
      const p = `/variants/${i}`;
      const vat = (field: string) => (field.startsWith('option:') ? `${p}/option_values/${field.slice(7)}` : `${p}/${field}`);
      if (!isObj(x)) return bad(p, 'invalid', 'A variant object');
      const sku = typeof x.sku === 'string' && SKU.test(x.sku) ? x.sku : (bad(`${p}/sku`, x.sku === undefined ? 'required' : 'invalid', 'A SKU of letters, digits and . _ / -'), '');
      const int = (key: string, max: number): number | undefined => {
        const n = x[key];
        if (n === undefined || n === null) return undefined;
        if (!Number.isSafeInteger(n) || (n as number) < 0 || (n as number) > max) bad(`${p}/${key}`, 'invalid', `A whole number from 0 to ${max}`);
        return Number.isSafeInteger(n) ? (n as number) : undefined;
      };
      const stock = new Map<string, number>();
      if (typeof x.stock === 'number') {
        if (Number.isSafeInteger(x.stock) && x.stock >= 0) stock.set(defaultLocation, x.stock);
        else bad(`${p}/stock`, 'invalid', 'A whole number of units, 0 or more');
      } else if (isObj(x.stock)) {
        for (const [name, n] of Object.entries(x.stock)) {
          const loc = locations.get(name.toLowerCase());
          if (!loc) bad(`${p}/stock/${name}`, 'unknown_location', `No location named "${name}" in this shop`);
          else if (!Number.isSafeInteger(n) || (n as number) < 0) bad(`${p}/stock/${name}`, 'invalid', 'A whole number of units, 0 or more');
          else stock.set(loc, n as number);
        }
      } else if (x.stock !== undefined) bad(`${p}/stock`, 'invalid', 'A number, or an object of location name → number');
      const values = x.option_values === undefined ? {} : isObj(x.option_values) && Object.values(x.option_values).every((s) => typeof s === 'string') ? (x.option_values as Record<string, string>) : (bad(`${p}/option_values`, 'invalid', 'An object of option name → value'), {});
      variants.push({
        row: line,
        sku,
        title: typeof x.title === 'string' ? x.title.slice(0, 200) : undefined,
        price: int('price', 1_000_000_000_000),
        compare_at_price: x.compare_at_price === null ? null : int('compare_at_price', 1_000_000_000_000),
        weight_grams: int('weight_grams', 1_000_000_000),
        option_values: values,
        stock,
        at: vat,
      });
    });
  const category = str('category', 200);
  const description = str('description', 20_000);
  if (problems.length) return { item: null, problems };
  return { item: { row: line, handle, title, description, status: status as ImportProduct['status'], category, images, attributes, options, variants, at }, problems };
}

/** A contact line: { email, first_name, last_name, phone, country, tags: [], consent, custom: {} }. */
export function contactLine(v: unknown, line: number): { item: ImportContact | null; problems: RowProblem[] } {
  if (!isObj(v)) return { item: null, problems: [{ row: line, column: '', code: 'invalid', message: 'Each line is a JSON object (a contact)' }] };
  const problems: RowProblem[] = [];
  const str = (key: string): string | undefined => {
    const x = v[key];
    if (x === undefined || x === null || x === '') return undefined;
    if (typeof x !== 'string') problems.push({ row: line, column: `/${key}`, code: 'invalid', message: 'A string' });
    return typeof x === 'string' ? x : undefined;
  };
  const email = str('email');
  if (!email) problems.push({ row: line, column: '/email', code: 'required', message: 'Every contact needs an email' });
  const tags = v.tags === undefined ? undefined : Array.isArray(v.tags) && v.tags.every((t) => typeof t === 'string') ? (v.tags as string[]) : (problems.push({ row: line, column: '/tags', code: 'invalid', message: 'An array of strings' }), undefined);
  const consent = str('consent');
  if (consent !== undefined && consent !== 'subscribed' && consent !== 'unsubscribed') problems.push({ row: line, column: '/consent', code: 'invalid', message: 'subscribed or unsubscribed' });
  const custom = v.custom === undefined ? undefined : isObj(v.custom) ? v.custom : (problems.push({ row: line, column: '/custom', code: 'invalid', message: 'An object of field key → value' }), undefined);
  if (problems.length) return { item: null, problems };
  return {
    item: { row: line, email: email as string, first_name: str('first_name'), last_name: str('last_name'), phone: str('phone'), country: str('country'), tags, custom, consent: consent as ImportContact['consent'], at: (f) => (f.startsWith('custom:') ? `/custom/${f.slice(7)}` : `/${f}`) },
    problems,
  };
}

/** A contact row of a CSV. Tags are separated by commas; `email_marketing` is subscribed, unsubscribed or empty. */
export function contactRow(h: Header, cells: string[], line: number): { item: ImportContact | null; problems: RowProblem[] } {
  const get = (name: string): string | undefined => {
    const i = h.index.get(name);
    const v = i === undefined ? undefined : cells[i]?.trim();
    return v === '' ? undefined : v;
  };
  const problems: RowProblem[] = [];
  const email = get('email');
  if (!email) problems.push({ row: line, column: 'email', code: 'required', message: 'Every contact needs an email' });
  const marketing = get('email_marketing')?.toLowerCase();
  if (marketing !== undefined && marketing !== 'subscribed' && marketing !== 'unsubscribed') problems.push({ row: line, column: 'email_marketing', code: 'invalid', message: 'subscribed, unsubscribed or empty' });
  const custom: Record<string, unknown> = {};
  for (const [i, key] of h.extra) {
    const v = cells[i]?.trim();
    if (v) custom[key] = v;
  }
  if (problems.length) return { item: null, problems };
  return {
    item: {
      row: line,
      email: email as string,
      first_name: get('first_name'),
      last_name: get('last_name'),
      phone: get('phone'),
      country: get('country'),
      tags: get('tags')
        ?.split(',')
        .map((t) => t.trim())
        .filter(Boolean),
      custom,
      consent: marketing as ImportContact['consent'],
      at: (f) => (f.startsWith('custom:') ? `custom:${f.slice(7)}` : f === 'consent' ? 'email_marketing' : f),
    },
    problems,
  };
}
