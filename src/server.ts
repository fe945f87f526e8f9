import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { startTracing } from './tracing.ts';
import { buildApp } from './app.ts';
import { createDb, type Db } from './db/database.ts';
import { migrateUp } from './db/migrator.ts';
import { systemClock } from './lib/clock.ts';
import { seedDemo, type DemoCredentials } from './seed.ts';
import { startBackground } from './background.ts';
import { createMailer } from './modules/email/index.ts';
import { relayCommitted } from './realtime/relay.ts';
import { createBroker } from './modules/bridge/index.ts';
import { consentSecretOf } from './modules/crm/index.ts';
import { loadSigningKey } from './modules/auth/index.ts';

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
  const inProcess = config.inProcessWorkers === 'on' || (config.inProcessWorkers === 'auto' && config.database.dialect === 'sqlite');
  // This process publishes to the broker when it runs the workers: then readiness includes it.
  const broker = inProcess && config.brokerUrl ? createBroker(config.brokerUrl) : null;
  const tracing = await startTracing(config);
  const app = await buildApp({ config, db, readiness: broker ? [{ name: 'The broker', check: () => withTimeout(broker.ping(), 3000) }] : [] });
  app.addHook('onClose', async () => {
    await db.destroy();
  });
  await app.listen({ host: config.host, port: config.port });
  // Embedded mode runs the job workers and the scheduler in this process; scale-out runs `stockroom worker`.
  const background = inProcess ? startBackground({ db, clock: systemClock, log: app.log, gateway: app.payments, webhooksAllowPrivate: config.webhooksAllowPrivate, mailer: createMailer({ ...config.mail, dataDir: config.dataDir, log: app.log }), realtimeHistoryHours: config.realtime.historyHours, onEventsCommitted: relayCommitted(db, app.realtime.bus), links: { publicUrl: config.publicUrl, consentSecret: consentSecretOf(loadSigningKey(config)) }, broker }) : null;
  if (background) app.realtime.wake.subscribe(() => background.pump.wake());
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
      // Stops accepting, lets in-flight requests and jobs finish, then closes the database (onClose).
      closing ??= (background ? background.stop() : Promise.resolve())
        .then(() => broker?.close())
        .then(() => app.close())
        .then(() => tracing?.shutdown());
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

/** Rejects after `ms` if the promise has not settled (a check must answer fast). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_r, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
