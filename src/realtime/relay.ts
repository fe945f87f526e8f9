import type { Db } from '../db/database.ts';
import { messagesOfEvents } from '../modules/realtime/index.ts';
import type { RealtimeBus } from './bus.ts';

/**
 * The outbox publisher's after-commit hook: the messages the committed events became go on the bus at once, so
 * every node passes them on within milliseconds. Outside any transaction, and only a shortcut — a node that misses
 * one reads it from the history.
 */
export function relayCommitted(db: Db, bus: RealtimeBus) {
  return async (batch: readonly { tenant_id: string; id: string }[]): Promise<void> => {
    for (const m of await messagesOfEvents(db, batch)) await bus.publish({ t: 'message', m });
  };
}
