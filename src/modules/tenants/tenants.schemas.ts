import Type from 'typebox';
import { Body, Email, Name, NullableTimestamp, Page, PageQuery, Password, Timestamp } from '../../http/schemas.ts';
import { UserSchema } from '../staff/index.ts';

export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR' });
export const TimeZone = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$', description: 'IANA time zone, e.g. Europe/Berlin' });
export const TaxMode = Type.Union([Type.Literal('exclusive'), Type.Literal('inclusive')], { description: 'exclusive: tax is added to catalogue prices; inclusive: catalogue prices include tax' });
export const Slug = Type.String({ minLength: 3, maxLength: 40, pattern: '^[a-z0-9]+(-[a-z0-9]+)*$' });

export const TenantSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    slug: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('suspended')]),
    currency: Type.String(),
    timezone: Type.String(),
    tax_mode: TaxMode,
    suspended_at: NullableTimestamp,
    suspended_reason: Type.Union([Type.String(), Type.Null()]),
    cart_reminder_hours: Type.Integer({ description: 'Hours an abandoned cart waits for its one reminder email (0: none)' }),
    storefront_url: Type.Union([Type.String(), Type.Null()], { description: 'Where reminder links lead: <storefront_url>?cart=<id>' }),
    created_at: Timestamp,
    version: Type.Integer({ description: 'Bumped by every change; the ETag names it, send it back in If-Match' }),
    updated_at: Timestamp,
  },
  { title: 'Tenant' },
);

export const SignupBody = Body(
  {
    shop_name: Name(100),
    shop_slug: Type.Optional(Slug),
    email: Email,
    password: Password,
    owner_name: Type.Optional(Name(200)),
    currency: Type.Optional(Currency),
    timezone: Type.Optional(TimeZone),
    tax_mode: Type.Optional(TaxMode),
  },
  'SignupRequest',
);

export const SignupResponse = Type.Object({ tenant: TenantSchema, owner: UserSchema, publishable_key: Type.String() }, { title: 'SignupResponse' });

export const ShopPatch = Body(
  {
    name: Type.Optional(Name(100)),
    currency: Type.Optional(Currency),
    timezone: Type.Optional(TimeZone),
    tax_mode: Type.Optional(TaxMode),
    cart_reminder_hours: Type.Optional(Type.Integer({ minimum: 0, maximum: 720 })),
    storefront_url: Type.Optional(Type.Union([Type.String({ maxLength: 500, pattern: '^https?://[^\\s]+$' }), Type.Null()])),
  },
  'ShopUpdate',
);

export const TenantListQuery = Type.Object({ ...PageQuery, status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])) }, { additionalProperties: false });
export const TenantPage = Page(TenantSchema, 'Tenant');

export const PlatformCreateTenant = SignupBody;
export const SuspendBody = Body({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, 'SuspendRequest');
