/** Integer minor units + ISO 4217 currency, shown in the browser's locale. */
export function money(minor: number | string | null | undefined, currency: string): string {
  const n = Number(minor ?? 0);
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(n / 10 ** digits);
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}
