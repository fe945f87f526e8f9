/** The staff module's public face: staff users and roles, and what login and password reset need of them. */
export * from './staff.service.ts';
export { PermissionSchema, UserSchema } from './staff.schemas.ts';
