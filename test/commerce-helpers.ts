import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { call, type Shop } from './helpers.ts';

export interface Catalogue {
  /** variant ids by SKU */
  v: Record<string, string>;
  shipFlat: string;
  shipWeight: string;
}

export const ADDRESS_DE = { name: 'Erika Mustermann', line1: 'Hauptstr. 1', city: 'Berlin', postal_code: '10115', country: 'DE' };

/** A small shop: three products, a German VAT rate, flat and weight shipping, and a few discount codes. */
export async function seedCatalogue(app: FastifyInstance, shop: Shop, stock: Record<string, number> = {}): Promise<Catalogue> {
  const v: Record<string, string> = {};
  const products: [string, string, number, number][] = [
    ['Mug', 'MUG', 1200, 350],
    ['Notebook', 'NOTE', 800, 200],
    ['Lamp', 'LAMP', 4500, 1500],
  ];
  for (const [title, sku, price, weight] of products) {
    const r = await call(app, { method: 'POST', url: '/api/products', token: shop.token, body: { title, status: 'active', variants: [{ sku, price, weight_grams: weight, stock: stock[sku] ?? 100, low_stock_threshold: 2 }] } });
    assert.equal(r.statusCode, 201, r.body);
    v[sku] = (r.json.variants as { id: string }[])[0]!.id;
  }
  const tax = await call(app, { method: 'POST', url: '/api/tax-rates', token: shop.token, body: { country: 'DE', name: 'MwSt', rate_bp: 1900 } });
  assert.equal(tax.statusCode, 201, tax.body);
  const flat = await call(app, { method: 'POST', url: '/api/shipping-methods', token: shop.token, body: { name: 'Standard', rate_type: 'flat', amount: 490, free_over: 10000 } });
  const weight = await call(app, { method: 'POST', url: '/api/shipping-methods', token: shop.token, body: { name: 'Parcel', rate_type: 'weight', weight_tiers: [{ up_to_grams: 1000, amount: 500 }, { up_to_grams: 5000, amount: 900 }], countries: ['DE', 'AT'] } });
  assert.equal(flat.statusCode, 201, flat.body);
  assert.equal(weight.statusCode, 201, weight.body);
  for (const body of [
    { code: 'TENOFF', kind: 'percentage', value: 1000 },
    { code: 'FIVER', kind: 'fixed_amount', value: 500, min_subtotal: 2000 },
    { code: 'SHIPFREE', kind: 'free_shipping' },
    { code: 'OLD', kind: 'percentage', value: 5000, starts_at: '2020-01-01T00:00:00Z', ends_at: '2020-02-01T00:00:00Z' },
    { code: 'ONCE', kind: 'fixed_amount', value: 100, usage_limit: 1 },
    { code: 'ONEEACH', kind: 'fixed_amount', value: 100, per_customer_limit: 1 },
  ]) {
    const d = await call(app, { method: 'POST', url: '/api/discounts', token: shop.token, body });
    assert.equal(d.statusCode, 201, d.body);
  }
  return { v, shipFlat: flat.json.id as string, shipWeight: weight.json.id as string };
}


export const SUCCESS = { provider: 'test', card_number: '4242424242424242' };
export const DECLINE = { provider: 'test', card_number: '4000000000000002' };
export const ACTION = { provider: 'test', card_number: '4000002500003155' };
