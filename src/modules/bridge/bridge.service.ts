import type { Ctx } from '../../context.ts';
import type { Db } from '../../db/database.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { assertOutsideTransaction } from '../../lib/outside.ts';
import { originHeaders, outsideCall } from '../../lib/origin.ts';
import { findEvent, type EventConsumer } from '../events/index.ts';
import { adjustStock } from '../inventory/index.ts';
import { enqueue } from '../jobs/index.ts';
import type { Broker, Incoming } from './broker.ts';
import { bridgeRepository as repo } from './bridge.repository.ts';

/** Subjects (NATS) and routing keys (RabbitMQ): `stockroom.<tenant>.<event type>`; commands under `stockroom.commands.`. */
export const subjectOf = (tenantId: string, type: string) => `stockroom.${tenantId}.${type}`;
export const COMMANDS = 'stockroom.commands.>';

/**
 * The broker bridge as an event consumer: each committed event becomes a `broker.publish` job, ordered per shop
 * and aggregate (the jobs' ordering key), so a broker that is down only delays — the outbox and the jobs keep
 * everything, and each event is published (at least once) with its id as the broker's de-duplication id.
 */
export const brokerConsumer: EventConsumer = {
  name: 'broker',
  types: '*',
  async handle(db, clock, e) {
    await enqueue(db, clock, { tenantId: e.tenant_id, queue: 'broker', type: 'broker.publish', payload: { event_id: e.id }, maxAttempts: 500, dedupeKey: `broker:${e.id}`, orderingKey: `broker:${e.tenant_id}:${e.aggregate_id}` });
  },
};

/** The `broker.publish` job: the event, as JSON, to its subject; resolves once the broker confirmed it. */
export async function publishEvent(db: Db, broker: Broker, tenantId: string, eventId: string): Promise<{ published: string | null }> {
  assertOutsideTransaction(db, 'broker');
  const e = await findEvent(db, tenantId, eventId);
  if (!e) return { published: null };
  const body = JSON.stringify({ id: e.id, type: e.type, version: e.version, tenant_id: e.tenant_id, aggregate_id: e.aggregate_id, created_at: e.created_at, data: JSON.parse(e.payload) as unknown });
  const subject = subjectOf(e.tenant_id, e.type);
  // The event's origin travels on: the request id and trace of the request that wrote it.
  const origin = { ...(e.request_id ? { 'x-request-id': e.request_id } : {}), ...(e.traceparent ? { traceparent: e.traceparent } : {}) };
  await outsideCall('broker', `broker publish ${e.type}`, { 'messaging.destination.name': subject, 'messaging.message.id': e.id }, async () => broker.publish(subject, e.id, body, { 'stockroom-event-type': e.type, 'stockroom-tenant': e.tenant_id, ...origin, ...originHeaders() }));
  return { published: subjectOf(e.tenant_id, e.type) };
}

interface AdjustCommand {
  command_id: string;
  variant_id: string;
  location_id?: string;
  reason: 'adjustment' | 'return' | 'count';
  delta?: number;
  set_to?: number;
  note?: string;
}

const badCommand = (detail: string) => new AppError('invalid', 'invalid_command', detail);

function parseAdjust(body: string): AdjustCommand {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw badCommand('not JSON');
  }
  const c = v as Partial<AdjustCommand>;
  if (typeof c.command_id !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(c.command_id)) throw badCommand('command_id: 1–128 visible characters');
  if (typeof c.variant_id !== 'string') throw badCommand('variant_id is required');
  if (c.reason !== 'adjustment' && c.reason !== 'return' && c.reason !== 'count') throw badCommand('reason: adjustment, return or count');
  if ((c.delta === undefined) === (c.set_to === undefined)) throw badCommand('send exactly one of delta or set_to');
  for (const k of ['delta', 'set_to'] as const) if (c[k] !== undefined && !Number.isSafeInteger(c[k])) throw badCommand(`${k} is an integer`);
  return c as AdjustCommand;
}

/**
 * A command from the broker — `stockroom.commands.<tenant>.inventory.adjust` with `{command_id, variant_id,
 * location_id?, reason, delta | set_to, note?}` — applied once per command id: the command's row and the stock
 * change commit together; a repeat is acknowledged without effect. A command that cannot apply (no such variant,
 * stock below zero, a malformed body) is recorded with its error code and acknowledged; a passing failure is
 * handed back to the broker to deliver again.
 */
export async function handleCommand(db: Db, clock: Clock, log: Logger, m: Incoming): Promise<'applied' | 'duplicate' | 'refused' | 'retry'> {
  const parts = /^stockroom\.commands\.(ten_[0-9a-z]+)\.inventory\.adjust$/.exec(m.subject);
  if (!parts || !(await repo.tenantExists(db, parts[1] as string))) {
    log.warn({ subject: m.subject }, 'broker command for no known shop or type; dropped');
    m.ack();
    return 'refused';
  }
  const tenantId = parts[1] as string;
  let cmd: AdjustCommand;
  try {
    cmd = parseAdjust(m.body);
  } catch (e) {
    log.warn({ subject: m.subject, err: (e as Error).message }, 'malformed broker command; dropped');
    m.ack();
    return 'refused';
  }
  const at = clock.now().toISOString();
  try {
    const result = await db.transaction().execute(async (trx) => {
      if (!(await repo.claim(trx, { tenant_id: tenantId, id: cmd.command_id, type: 'inventory.adjust', outcome: '{}', received_at: at }))) return 'duplicate' as const;
      const ctx: Ctx = { tenantId, principal: { kind: 'system', tenantId }, db: trx, clock, log };
      const r = await adjustStock(ctx, { variant_id: cmd.variant_id, location_id: cmd.location_id, reason: cmd.reason, delta: cmd.delta, set_to: cmd.set_to, note: cmd.note ?? `broker command ${cmd.command_id}` });
      await repo.setOutcome(trx, tenantId, cmd.command_id, JSON.stringify({ applied: true, ledger_entry_id: r.ledger_entry_id, available: r.available }));
      return 'applied' as const;
    });
    m.ack();
    return result;
  } catch (e) {
    if (e instanceof AppError) {
      // Recorded (once), so a repeat of a refused command is refused the same way without trying again.
      await repo.claim(db, { tenant_id: tenantId, id: cmd.command_id, type: 'inventory.adjust', outcome: JSON.stringify({ applied: false, code: e.code, detail: e.message }), received_at: at });
      log.warn({ command_id: cmd.command_id, code: e.code }, 'broker command refused');
      m.ack();
      return 'refused';
    }
    log.error({ err: e, command_id: cmd.command_id }, 'broker command failed; the broker delivers it again');
    m.retry();
    return 'retry';
  }
}

export async function commandOutcome(db: Db, tenantId: string, commandId: string) {
  const r = await repo.find(db, tenantId, commandId);
  return r ? (JSON.parse(r.outcome) as Record<string, unknown>) : null;
}
