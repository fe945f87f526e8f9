/** The tenants module's public face: shops (tenants), their settings and status. */
export * from './tenants.service.ts';
