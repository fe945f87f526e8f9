import type { Executor } from '../../context.ts';
import { eventsRepository as repo } from './events.repository.ts';

/**
 * Change counters per shop and topic. Writers bump the counter in the same transaction as their change; readers
 * that cache derived data (the catalogue pages) compare it with the version they cached. Shared through the
 * database, so every API node sees a change at its next request.
 */
export type Topic = 'catalog';

export async function bumpVersion(db: Executor, tenantId: string, topic: Topic): Promise<void> {
  await repo.bumpVersion(db, tenantId, topic);
}

export async function currentVersion(db: Executor, tenantId: string, topic: Topic): Promise<number> {
  return repo.currentVersion(db, tenantId, topic);
}
