/** The payments module's public face: payments, refunds and provider actions, the providers and their gateway. */
export * from './gateway.ts';
export * from './payments.service.ts';
export * from './providers.ts';
export * from './registry.ts';
export { paymentsRepository } from './payments.repository.ts';
