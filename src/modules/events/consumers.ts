import type { Executor } from '../../context.ts';
import type { OutboxEventsTable } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';

export type OutboxEvent = OutboxEventsTable;

/**
 * A consumer of domain events (webhooks, email, and next realtime, the CRM timeline, the broker bridge). Modules
 * define their consumers and the composition root registers them; the outbox publisher knows none by name.
 *
 * `handle` runs in the publisher's transaction and only turns the event into the consumer's own durable work —
 * jobs in its own queue — so a slow consumer delays nobody; it runs in a savepoint, so a failing one is retried on
 * its own (an `event.consume` job) while the others go on. It must be idempotent per event: a replay hands the
 * same events on again.
 */
export interface EventConsumer {
  readonly name: string;
  /** The event types it takes, or '*' for every type. */
  readonly types: readonly string[] | '*';
  handle(db: Executor, clock: Clock, e: OutboxEvent): Promise<void>;
}

export const wants = (c: EventConsumer, type: string): boolean => c.types === '*' || c.types.includes(type);
