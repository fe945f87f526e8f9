import { ulid } from 'ulid';

/** Prefixes of every public id. An id says what it points at: `ord_01j…` is an order. */
export const ID_PREFIX = {
  tenant: 'ten',
  user: 'usr',
  role: 'role',
  customer: 'cus',
  session: 'ses',
  refreshToken: 'rtk',
  apiKey: 'key',
  event: 'evt',
  category: 'cat',
  product: 'prod',
  variant: 'var',
  collection: 'col',
  location: 'loc',
  ledger: 'led',
  reservation: 'res',
  taxRate: 'txr',
  shippingMethod: 'ship',
  discount: 'disc',
  cart: 'cart',
  cartLine: 'cli',
  order: 'ord',
  orderLine: 'oli',
  orderEvent: 'oev',
  fulfillment: 'ful',
  payment: 'pay',
  refund: 'rfd',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

/** A prefixed, time-sortable id: prefix + `_` + lower-case ULID (26 chars of Crockford base32). */
export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}_${ulid().toLowerCase()}`;
}

const ULID_RE = /^[0-9a-hjkmnp-tv-z]{26}$/;

/** The ULID part of an id of the given kind, or null when the string is not such an id. */
export function ulidOf(kind: IdKind, id: string): string | null {
  const prefix = `${ID_PREFIX[kind]}_`;
  if (!id.startsWith(prefix)) return null;
  const rest = id.slice(prefix.length);
  return ULID_RE.test(rest) ? rest : null;
}

export function isUlid(s: string): boolean {
  return ULID_RE.test(s);
}
