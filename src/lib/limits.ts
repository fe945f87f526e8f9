import { conflict } from './errors.ts';

/**
 * A shop's configuration collections are bounded: a maximum refuses the next one with 409 `too_many_<what>`, so that
 * what the core reads whole (the shipping methods of a quote, the category tree of a move) stays small. Their lists
 * are cursor-paginated like every other list.
 */
export const MAX_PER_SHOP = {
  categories: 10_000,
  locations: 100,
  tax_rates: 1_000,
  shipping_methods: 100,
  roles: 100,
  webhook_endpoints: 20,
  contact_fields: 100,
  score_rules: 200,
  segments: 200,
  apps: 50,
} as const;

export function assertRoom(current: number, what: keyof typeof MAX_PER_SHOP): void {
  const max = MAX_PER_SHOP[what];
  if (current >= max) throw conflict(`too_many_${what}`, `A shop has at most ${max} ${what.replace(/_/g, ' ')}; remove one first`);
}
