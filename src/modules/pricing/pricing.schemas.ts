import Type from 'typebox';
import { Body, Name, Timestamp } from '../../http/schemas.ts';
import { Amount } from '../catalog/index.ts';

export const Country = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2, e.g. DE' });
const Region = Type.String({ minLength: 1, maxLength: 10, pattern: '^[A-Z0-9-]+$', description: 'ISO 3166-2 subdivision code, e.g. CA or DE-BY' });
const Id = Type.String({ minLength: 1, maxLength: 64 });
const Bp = Type.Integer({ minimum: 0, maximum: 10_000, description: 'Basis points: 1900 = 19 %' });

export const AddressSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    line1: Type.Optional(Type.String({ maxLength: 200 })),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Type.Optional(Type.String({ maxLength: 100 })),
    region: Type.Optional(Region),
    postal_code: Type.Optional(Type.String({ maxLength: 20 })),
    country: Country,
    phone: Type.Optional(Type.String({ maxLength: 30 })),
  },
  { additionalProperties: false, title: 'Address' },
);

export const TaxRateSchema = Type.Object({ id: Type.String(), country: Type.String(), region: Type.Union([Type.String(), Type.Null()]), name: Type.String(), rate_bp: Type.Integer(), created_at: Timestamp }, { title: 'TaxRate' });
export const TaxRateCreate = Body({ country: Country, region: Type.Optional(Type.Union([Region, Type.Null()])), name: Name(100), rate_bp: Bp }, 'TaxRateCreate');
export const TaxRatePatch = Body({ name: Type.Optional(Name(100)), rate_bp: Type.Optional(Bp) }, 'TaxRateUpdate');

const Tier = Type.Object({ up_to_grams: Type.Integer({ minimum: 1, maximum: 100_000_000 }), amount: Amount }, { additionalProperties: false });
const RateType = Type.Union([Type.Literal('flat'), Type.Literal('weight')]);
const Active = Type.Union([Type.Literal('active'), Type.Literal('inactive')]);
export const ShippingMethodSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    rate_type: RateType,
    amount: Type.Integer({ description: 'Flat rate (rate_type flat)' }),
    weight_tiers: Type.Array(Type.Object({ up_to_grams: Type.Integer(), amount: Type.Integer() })),
    free_over: Type.Union([Type.Integer(), Type.Null()], { description: 'Free when the discounted goods reach this amount' }),
    countries: Type.Array(Type.String(), { description: 'Where it ships; empty for everywhere' }),
    status: Active,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'ShippingMethod' },
);
const shippingFields = {
  amount: Type.Optional(Amount),
  weight_tiers: Type.Optional(Type.Array(Tier, { maxItems: 50 })),
  free_over: Type.Optional(Type.Union([Amount, Type.Null()])),
  countries: Type.Optional(Type.Array(Country, { maxItems: 250 })),
  status: Type.Optional(Active),
};
export const ShippingCreate = Body({ name: Name(100), rate_type: RateType, ...shippingFields }, 'ShippingMethodCreate');
export const ShippingPatch = Body({ name: Type.Optional(Name(100)), rate_type: Type.Optional(RateType), ...shippingFields }, 'ShippingMethodUpdate');

const DiscountKind = Type.Union([Type.Literal('percentage'), Type.Literal('fixed_amount'), Type.Literal('free_shipping')]);
const Limit = Type.Union([Type.Integer({ minimum: 1, maximum: 100_000_000 }), Type.Null()]);
export const DiscountSchema = Type.Object(
  {
    id: Type.String(),
    code: Type.String(),
    kind: DiscountKind,
    value: Type.Integer({ description: 'Basis points for percentage, minor units for fixed_amount' }),
    min_subtotal: Type.Integer(),
    starts_at: Type.Union([Timestamp, Type.Null()]),
    ends_at: Type.Union([Timestamp, Type.Null()]),
    usage_limit: Type.Union([Type.Integer(), Type.Null()]),
    per_customer_limit: Type.Union([Type.Integer(), Type.Null()]),
    times_used: Type.Integer(),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Discount' },
);
const discountFields = {
  value: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 })),
  min_subtotal: Type.Optional(Amount),
  starts_at: Type.Optional(Type.Union([Timestamp, Type.Null()])),
  ends_at: Type.Optional(Type.Union([Timestamp, Type.Null()])),
  usage_limit: Type.Optional(Limit),
  per_customer_limit: Type.Optional(Limit),
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
};
export const DiscountCreate = Body({ code: Type.String({ minLength: 3, maxLength: 40, pattern: '^[A-Za-z0-9_-]+$' }), kind: DiscountKind, ...discountFields }, 'DiscountCreate');
export const DiscountPatch = Body(discountFields, 'DiscountUpdate');

export const LineInput = Type.Object({ variant_id: Id, quantity: Type.Integer({ minimum: 1, maximum: 10_000 }) }, { additionalProperties: false });

export const QuoteBody = Body(
  {
    lines: Type.Array(LineInput, { minItems: 1, maxItems: 100 }),
    discount_code: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Null()])),
    shipping_method_id: Type.Optional(Type.Union([Id, Type.Null()])),
    shipping_address: Type.Optional(Type.Union([AddressSchema, Type.Null()])),
  },
  'QuoteRequest',
);

export const PricedLineSchema = Type.Object({
  variant_id: Type.String(),
  sku: Type.String(),
  title: Type.String(),
  quantity: Type.Integer(),
  unit_price: Type.Integer(),
  subtotal: Type.Integer(),
  discount: Type.Integer(),
  tax: Type.Integer(),
  total: Type.Integer(),
});

export const TotalsSchema = Type.Object(
  {
    currency: Type.String(),
    tax_mode: Type.Union([Type.Literal('exclusive'), Type.Literal('inclusive')]),
    tax_rate_bp: Type.Integer(),
    lines: Type.Array(PricedLineSchema),
    subtotal: Type.Integer(),
    discount_total: Type.Integer(),
    shipping_total: Type.Integer(),
    shipping_tax: Type.Integer(),
    tax_total: Type.Integer(),
    total: Type.Integer(),
    total_weight_grams: Type.Integer(),
    discount_code: Type.Union([Type.String(), Type.Null()]),
    shipping_method: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
  },
  { title: 'Totals' },
);
