/** The pricing module's public face: tax rates, shipping methods, discount codes and quotes (the price of a basket). */
export * from './pricing.service.ts';
export * from './discounts.service.ts';
export { AddressSchema, LineInput, TotalsSchema } from './pricing.schemas.ts';
