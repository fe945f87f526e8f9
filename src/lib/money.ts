/**
 * Money is an integer number of minor units (cents, pence, yen) with an ISO 4217 currency. Never floats.
 *
 * THE rounding rule (the only one): a fractional minor unit is rounded half away from zero, once, at the
 * line where it arises — tax per order line and per shipping charge, discount per line. Totals are sums of
 * already-rounded amounts, so the parts always add up to the total.
 *
 * Percentages are basis points (1 % = 100 bp), so rates are integers too.
 */

/** Rounds numerator/denominator (integers, denominator > 0) to the nearest integer, halves away from zero. */
export function divRound(numerator: number, denominator: number): number {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || denominator <= 0) throw new RangeError('divRound needs safe integers and a positive denominator');
  const sign = numerator < 0 ? -1 : 1;
  const n = Math.abs(numerator);
  const q = Math.floor(n / denominator);
  const r = n - q * denominator;
  return sign * (2 * r >= denominator ? q + 1 : q);
}

/**
 * a × b / d rounded by the rule, exactly: the product of two amounts in range (10^12 × 10^4) can pass 2^53, where
 * a double loses units, so a product that large is computed with BigInt. The result must be a safe integer.
 */
export function mulDivRound(a: number, b: number, d: number): number {
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || !Number.isSafeInteger(d) || d <= 0) throw new RangeError('mulDivRound needs safe integers and a positive denominator');
  const p = a * b;
  if (Number.isSafeInteger(p)) return divRound(p, d);
  const n = BigInt(a) * BigInt(b);
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const bd = BigInt(d);
  let q = abs / bd;
  if (2n * (abs % bd) >= bd) q += 1n;
  const out = Number(neg ? -q : q);
  if (!Number.isSafeInteger(out)) throw new RangeError('mulDivRound result out of the safe integer range');
  return out;
}

/** amount × bp / 10 000, rounded by the rule. */
export function percentOf(amount: number, bp: number): number {
  return mulDivRound(amount, bp, 10_000);
}

/** The tax contained in a gross (tax-inclusive) amount at a rate: gross − round(gross × 10 000 / (10 000 + bp)). */
export function taxIncluded(gross: number, bp: number): number {
  return gross - mulDivRound(gross, 10_000, 10_000 + bp);
}

/** The tax added on top of a net amount. */
export function taxAdded(net: number, bp: number): number {
  return percentOf(net, bp);
}

/**
 * Splits `total` over `weights` in proportion, in whole units, so the parts add up exactly to `total`
 * (largest remainder; ties go to the earlier line). Used to spread an order discount over its lines.
 * Integer arithmetic throughout (BigInt), so large amounts split exactly.
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0 || total === 0) return weights.map(() => 0);
  const bt = BigInt(total);
  const bs = BigInt(sum);
  const raw = weights.map((w) => ({ q: (bt * BigInt(w)) / bs, r: (bt * BigInt(w)) % bs }));
  const parts = raw.map((x) => Number(x.q));
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = raw.map((x, i) => ({ i, r: x.r })).sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of order) {
    if (left <= 0) break;
    parts[i] = (parts[i] as number) + 1;
    left--;
  }
  return parts;
}

/** Minor units per major unit, ISO 4217 (the currencies that differ from 2). */
const EXPONENTS: Record<string, number> = { BHD: 3, BIF: 0, CLP: 0, DJF: 0, GNF: 0, IQD: 3, ISK: 0, JOD: 3, JPY: 0, KMF: 0, KRW: 0, KWD: 3, LYD: 3, OMR: 3, PYG: 0, RWF: 0, TND: 3, UGX: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0 };

export function currencyExponent(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

/** 1234 EUR → "12.34 EUR" (for emails and logs, never for arithmetic). */
export function formatMoney(amount: number, currency: string): string {
  const e = currencyExponent(currency);
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  const major = Math.floor(abs / 10 ** e);
  const minor = abs % 10 ** e;
  return `${sign}${major}${e ? `.${String(minor).padStart(e, '0')}` : ''} ${currency}`;
}

/**
 * The largest amount anywhere: a price, a line, an order total, a refund — 10^12 minor units (ten billion of a
 * two-decimal currency), far above any real order and far enough below 2^53 that sums of a hundred lines stay
 * exact. An input whose computed amounts would pass it is refused with 422 `amount_too_large`.
 */
export const MAX_AMOUNT = 1_000_000_000_000;

/** True when an amount is a whole number of minor units within ±MAX_AMOUNT. */
export function inRange(amount: number): boolean {
  return Number.isSafeInteger(amount) && Math.abs(amount) <= MAX_AMOUNT;
}

/**
 * A decimal amount as people write it ("19.99", "5", "1,299.00" is refused) → minor units of the currency, exactly
 * (string arithmetic, no floats). Null when it is not a plain non-negative amount with at most the currency's
 * decimals, or is out of range.
 */
export function parseMoney(text: string, currency: string): number | null {
  const e = currencyExponent(currency);
  const m = /^(\d{1,13})(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > e) return null;
  const amount = Number(m[1]) * 10 ** e + Number(frac.padEnd(e, '0') || '0');
  return inRange(amount) ? amount : null;
}
