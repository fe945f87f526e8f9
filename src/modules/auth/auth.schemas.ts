import Type from 'typebox';
import { Body, Email, Password } from '../../http/schemas.ts';

export const LoginBody = Body({ shop: Type.String({ minLength: 1, maxLength: 64, description: 'The shop’s slug' }), email: Email, password: Password }, 'StaffLogin', { shop: 'demo', email: 'owner@demo.stockroom.test', password: 'correct horse battery staple' });
export const RefreshBody = Body({ refresh_token: Type.String({ minLength: 1, maxLength: 200 }) }, 'RefreshRequest');
export const LogoutBody = Body({ refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, 'LogoutRequest');

export const MeSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('user'), Type.Literal('api_key'), Type.Literal('customer'), Type.Literal('shopper')]),
    tenant_id: Type.String(),
    id: Type.String({ description: 'User, key or customer id' }),
    permissions: Type.Array(Type.String()),
  },
  { title: 'Me' },
);
