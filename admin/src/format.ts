/** Integer minor units + ISO 4217 currency, shown in the browser's locale. */
export function money(minor: number | string | null | undefined, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(Number(minor ?? 0) / 10 ** digitsOf(currency));
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

const digitsOf = (currency: string) => new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

/** A price typed by staff ("12.50") as integer minor units; NaN when it is not a number. */
export function toMinor(value: string, currency: string): number {
  const n = Number(value.replace(',', '.'));
  return Number.isFinite(n) ? Math.round(n * 10 ** digitsOf(currency)) : Number.NaN;
}

/** Minor units as staff type them ("12.50"). */
export function fromMinor(minor: number | null | undefined, currency: string): string {
  return minor === null || minor === undefined ? '' : (minor / 10 ** digitsOf(currency)).toFixed(digitsOf(currency));
}
