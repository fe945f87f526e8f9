import type { OrderStatus } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';

/**
 * The order state machine, as data. `transition()` in the service is the only code that changes an
 * order's status: it checks this table, writes with a condition on the current status, and records the event.
 *
 *   pending_payment ─► paid ─► partially_fulfilled ─► fulfilled ─► completed
 *         │             │                │                 │            │
 *         ▼             ▼                └──── partially_refunded ◄─────┘ ─► refunded
 *     cancelled     cancelled / partially_refunded / refunded
 */
export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending_payment: ['paid', 'cancelled'],
  paid: ['partially_fulfilled', 'fulfilled', 'cancelled', 'partially_refunded', 'refunded'],
  partially_fulfilled: ['partially_fulfilled', 'fulfilled', 'partially_refunded', 'refunded'],
  fulfilled: ['completed', 'partially_refunded', 'refunded'],
  completed: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded', 'partially_fulfilled', 'fulfilled', 'completed'],
  refunded: [],
  cancelled: [],
};

export const ORDER_STATUSES = Object.keys(TRANSITIONS) as OrderStatus[];

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw new AppError('conflict', 'invalid_order_transition', `An order that is ${from} cannot become ${to}`);
}
