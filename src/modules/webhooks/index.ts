/** The webhooks module's public face: endpoints, deliveries, and the outbox consumer. */
export * from './webhooks.service.ts';
