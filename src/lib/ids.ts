import { randomFillSync } from 'node:crypto';

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
  paymentAction: 'pact',
  job: 'job',
  webhookEndpoint: 'we',
  webhookDelivery: 'whd',
  webhookAttempt: 'wha',
  email: 'eml',
  passwordReset: 'pwr',
  schedule: 'sch',
  orderMessage: 'msg',
  contact: 'con',
  activity: 'act',
  scoreRule: 'rule',
  segment: 'seg',
  audit: 'aud',
  marketingConnection: 'mkc',
  syncRun: 'sync',
  app: 'app',
  connection: 'conn',
  import: 'imp',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

let lastTime = -1;
let lastRandom = '';

/**
 * A ULID (https://github.com/ulid/spec) in lower case: 48 bits of milliseconds, then 80 random bits from a
 * CSPRNG. Random bytes come from a pooled buffer: one system call per 400 ids instead of one per id.
 * Monotonic within the process (the spec's monotonic mode): ids made in the same millisecond (or while the clock
 * steps back) increment the random part, so they sort in the order they were made — an order's `order.created`
 * always sorts before the `order.paid` written a microsecond later.
 */
export function ulid(now = Date.now()): string {
  if (now <= lastTime) {
    const next = increment(lastRandom);
    if (next !== null) {
      lastRandom = next;
      return encodeTime(lastTime) + next;
    }
    // 2^80 ids in one millisecond: move on to the next one.
    now = lastTime + 1;
  }
  lastTime = now;
  lastRandom = randomPart();
  return encodeTime(now) + lastRandom;
}

function encodeTime(now: number): string {
  let out = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function randomPart(): string {
  if (poolAt + 10 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let out = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | pool[poolAt + i]!;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  poolAt += 10;
  return out;
}

/** The base32 string plus one, or null when it overflows. */
function increment(s: string): string | null {
  const chars = s.split('');
  for (let i = chars.length - 1; i >= 0; i--) {
    const v = ALPHABET.indexOf(chars[i]!);
    if (v < 31) {
      chars[i] = ALPHABET[v + 1]!;
      return chars.join('');
    }
    chars[i] = ALPHABET[0]!;
  }
  return null;
}

/** A prefixed, time-sortable id: prefix + `_` + lower-case ULID (26 chars of Crockford base32). */
export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}_${ulid()}`;
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
