import Type from 'typebox';
import { Body, IdParams, Name, Page, PageQuery, Timestamp } from '../../http/schemas.ts';
import { MAX_AMOUNT } from '../../lib/money.ts';

export const Amount = Type.Integer({ minimum: 0, maximum: MAX_AMOUNT, description: 'Minor units of the shop currency (cents)' });
export const Handle = Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' });
const Id = Type.String({ minLength: 1, maxLength: 64 });
const ProductStatus = Type.Union([Type.Literal('draft'), Type.Literal('active'), Type.Literal('archived')]);
const Url = Type.String({ format: 'uri', maxLength: 2000, pattern: '^https?://' });
const Attributes = Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 1000 }), { maxProperties: 50 });
const OptionValues = Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 100 }), { maxProperties: 3 });
const Sku = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]*$' });

export const OptionSchema = Type.Object({ name: Name(100), values: Type.Array(Name(100), { minItems: 1, maxItems: 100 }) }, { additionalProperties: false });

export const VariantSchema = Type.Object(
  {
    id: Type.String(),
    product_id: Type.String(),
    sku: Type.String(),
    title: Type.String(),
    price: Type.Integer(),
    compare_at_price: Type.Union([Type.Integer(), Type.Null()]),
    weight_grams: Type.Integer(),
    option_values: Type.Record(Type.String(), Type.String()),
    low_stock_threshold: Type.Integer(),
    position: Type.Integer(),
    available: Type.Union([Type.Integer(), Type.Null()], { description: 'Units available across locations (null for shoppers)' }),
    in_stock: Type.Boolean(),
  },
  { title: 'Variant' },
);

export const ProductSchema = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    description: Type.String(),
    handle: Type.String(),
    status: ProductStatus,
    category_id: Type.Union([Type.String(), Type.Null()]),
    images: Type.Array(Type.String()),
    attributes: Type.Record(Type.String(), Type.String()),
    options: Type.Array(Type.Object({ name: Type.String(), values: Type.Array(Type.String()) })),
    variants: Type.Array(VariantSchema),
    price_range: Type.Object({ min: Type.Integer(), max: Type.Integer() }),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Product' },
);

export const VariantCreate = Body(
  {
    sku: Sku,
    title: Type.Optional(Name(200)),
    price: Amount,
    compare_at_price: Type.Optional(Type.Union([Amount, Type.Null()])),
    weight_grams: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    option_values: Type.Optional(OptionValues),
    low_stock_threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    stock: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'Initial stock at the default location' })),
  },
  'VariantCreate',
);

export const VariantPatch = Body(
  {
    sku: Type.Optional(Sku),
    title: Type.Optional(Name(200)),
    price: Type.Optional(Amount),
    compare_at_price: Type.Optional(Type.Union([Amount, Type.Null()])),
    weight_grams: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000 })),
    low_stock_threshold: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  },
  'VariantUpdate',
);

export const ProductCreate = Body(
  {
    title: Name(200),
    description: Type.Optional(Type.String({ maxLength: 20_000 })),
    handle: Type.Optional(Handle),
    status: Type.Optional(ProductStatus),
    category_id: Type.Optional(Type.Union([Id, Type.Null()])),
    images: Type.Optional(Type.Array(Url, { maxItems: 50 })),
    attributes: Type.Optional(Attributes),
    options: Type.Optional(Type.Array(OptionSchema, { maxItems: 3 })),
    variants: Type.Array(VariantCreate, { minItems: 1, maxItems: 100 }),
  },
  'ProductCreate',
);

export const ProductPatch = Body(
  {
    title: Type.Optional(Name(200)),
    description: Type.Optional(Type.String({ maxLength: 20_000 })),
    handle: Type.Optional(Handle),
    status: Type.Optional(ProductStatus),
    category_id: Type.Optional(Type.Union([Id, Type.Null()])),
    images: Type.Optional(Type.Array(Url, { maxItems: 50 })),
    attributes: Type.Optional(Attributes),
  },
  'ProductUpdate',
);

export const ProductListQuery = Type.Object(
  {
    ...PageQuery,
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Words to search in title, description, handle and SKUs (prefix match)' })),
    status: Type.Optional(ProductStatus),
    category_id: Type.Optional(Id),
    collection_id: Type.Optional(Id),
    min_price: Type.Optional(Amount),
    max_price: Type.Optional(Amount),
    in_stock: Type.Optional(Type.Boolean()),
    handle: Type.Optional(Handle),
    sort: Type.Optional(Type.Union([Type.Literal('newest'), Type.Literal('oldest'), Type.Literal('price_asc'), Type.Literal('price_desc'), Type.Literal('title_asc')])),
  },
  { additionalProperties: false },
);
export const ProductPage = Page(ProductSchema, 'Product');

export const CategorySchema = Type.Object(
  { id: Type.String(), parent_id: Type.Union([Type.String(), Type.Null()]), name: Type.String(), handle: Type.String(), position: Type.Integer(), created_at: Timestamp, updated_at: Timestamp },
  { title: 'Category' },
);
export const CategoryCreate = Body({ name: Name(200), handle: Type.Optional(Handle), parent_id: Type.Optional(Type.Union([Id, Type.Null()])), position: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })) }, 'CategoryCreate');
export const CategoryPatch = Body({ name: Type.Optional(Name(200)), handle: Type.Optional(Handle), parent_id: Type.Optional(Type.Union([Id, Type.Null()])), position: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })) }, 'CategoryUpdate');

export const CollectionSchema = Type.Object(
  { id: Type.String(), title: Type.String(), handle: Type.String(), description: Type.String(), product_ids: Type.Array(Type.String()), created_at: Timestamp, updated_at: Timestamp },
  { title: 'Collection' },
);
export const CollectionCreate = Body({ title: Name(200), handle: Type.Optional(Handle), description: Type.Optional(Type.String({ maxLength: 5000 })), product_ids: Type.Optional(Type.Array(Id, { maxItems: 1000 })) }, 'CollectionCreate');
export const CollectionPatch = Body(
  { title: Type.Optional(Name(200)), handle: Type.Optional(Handle), description: Type.Optional(Type.String({ maxLength: 5000 })), product_ids: Type.Optional(Type.Array(Id, { maxItems: 1000 })) },
  'CollectionUpdate',
);

export { IdParams };
