/** The idempotency module's public face: stored requests and answers, and the registry of live nodes. */
export { idempotencyRepository, type KeyRef } from './idempotency.repository.ts';
export * from './nodes.ts';
