/** The events module's public face: emitting into the outbox, consumers by registration, versions of cached topics. */
export * from './consumers.ts';
export * from './events.ts';
export * from './versions.ts';
export { eventsRepository } from './events.repository.ts';
