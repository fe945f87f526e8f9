import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { buildApp } from './app.ts';
import { createDb, type Db } from './db/database.ts';
import { migrateUp } from './db/migrator.ts';
import { purgeExpiredIdempotencyKeys } from './http/idempotency.ts';
import { systemClock } from './lib/clock.ts';
import { seedDemo, type DemoCredentials } from './seed.ts';
import { expireReservations } from './workflows/order-actions.ts';

export interface RunningServer {
  app: FastifyInstance;
  db: Db;
  url: string;
  demo: DemoCredentials | null;
  close(): Promise<void>;
}

/** Migrates, seeds the demo shop on an empty database, and listens. */
export async function startServer(config: Config): Promise<RunningServer> {
  const db = createDb(config.database);
  try {
    await migrateUp(db);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  const demo = config.seedDemo ? await seedDemo(db, config, systemClock) : null;
  const app = await buildApp({ config, db });
  app.addHook('onClose', async () => {
    await db.destroy();
  });
  await app.listen({ host: config.host, port: config.port });
  const purge = setInterval(() => {
    purgeExpiredIdempotencyKeys(db, systemClock).catch((err: unknown) => app.log.warn({ err }, 'idempotency purge failed'));
  }, 3600_000);
  purge.unref();
  // Pending orders whose payment never came release their stock (every minute; the job system will take this over).
  const expire = setInterval(() => {
    expireReservations(db, systemClock, app.payments, app.log).catch((err: unknown) => app.log.warn({ err }, 'reservation expiry failed'));
  }, 60_000);
  expire.unref();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = config.publicUrl.replace(/:\d+$/, `:${port}`);
  let closing: Promise<void> | null = null;
  return {
    app,
    db,
    url,
    demo,
    close() {
      clearInterval(purge);
      clearInterval(expire);
      // Stops accepting, lets in-flight requests finish, then closes the database (onClose).
      closing ??= app.close();
      return closing;
    },
  };
}

/** SIGTERM / SIGINT: finish in-flight requests, close the database, exit; force-exit after the grace period. */
export function handleSignals(server: RunningServer, timeoutSeconds: number): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      server.app.log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, timeoutSeconds * 1000);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
