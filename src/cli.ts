import { Command, CommanderError, Option } from 'commander';
import { ConfigError, configMarkdown, loadConfig, type Config } from './config.ts';
import { PG_NO_DATABASE, createDb, createPostgresDatabase } from './db/database.ts';
import { migrateDown, migrateUp, migrationStatus } from './db/migrator.ts';
import { systemClock } from './lib/clock.ts';
import { AppError } from './lib/errors.ts';
import { randomSecret } from './lib/crypto.ts';
import { generatePrivateKeyPem, loadSigningKey } from './modules/auth/index.ts';
import { SYSTEM_ROLES, type SystemRole } from './policy/permissions.ts';
import { insertUser, systemRoleId } from './modules/staff/index.ts';
import { findTenantBySlug } from './modules/tenants/index.ts';
import { seedDemo } from './seed.ts';
import { handleSignals, startServer } from './server.ts';
import { signup } from './workflows/signup.ts';
import { VERSION } from './version.ts';
import { buildSchema, printSchema } from 'graphql';
import { SDL } from './graphql/sdl.ts';
import { Redis } from 'ioredis';
import { RedisBus } from './realtime/bus.ts';
import { relayCommitted } from './realtime/relay.ts';
import { OutboxWake } from './realtime/wake.ts';
import { createBroker } from './modules/bridge/index.ts';
import { consentSecretOf } from './modules/crm/index.ts';
import { createImport, formatOf, runImport, type ImportView } from './modules/imports/index.ts';
import { createReadStream, statSync } from 'node:fs';
import { startTracing } from './tracing.ts';
import { basename } from 'node:path';
import type { Logger } from './lib/log.ts';
import { pino } from 'pino';
import { LOG_REDACT } from './app.ts';
import { EVENT_CONSUMERS, QUEUES, startBackground } from './background.ts';
import { replayEvents } from './workflows/dispatch-events.ts';
import { buildPayments } from './modules/payments/index.ts';
import { createMailer } from './modules/email/index.ts';

/** Exit codes: 0 ok · 1 failure · 2 usage · 78 configuration (EX_CONFIG). */
const EXIT_USAGE = 2;
const EXIT_CONFIG = 78;

class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

function config(): Config {
  return loadConfig();
}

async function withDb<T>(fn: (db: ReturnType<typeof createDb>, cfg: Config) => Promise<T>, opts: { migrate?: boolean } = {}): Promise<T> {
  const cfg = config();
  const db = createDb(cfg.database);
  try {
    if (opts.migrate) await migrateUp(db);
    return await fn(db, cfg);
  } finally {
    await db.destroy();
  }
}

function password(given: string | undefined): { value: string; generated: boolean } {
  const v = given ?? process.env.STOCKROOM_PASSWORD;
  return v ? { value: v, generated: false } : { value: randomSecret(15), generated: true };
}

const program = new Command('stockroom')
  .description('Stockroom: a multi-tenant commerce backend')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();

program
  .command('serve')
  .description('Migrate the database, seed the demo shop on first start, and serve the API')
  .action(async () => {
    const cfg = config();
    const server = await startServer(cfg);
    handleSignals(server, cfg.shutdownTimeoutSeconds);
    const lines = [`Stockroom ${VERSION} listening on ${server.url}  (API reference: ${server.url}/docs)`, `Admin console: ${server.url}/admin`, `Realtime: ${server.url.replace(/^http/, 'ws')}/api/realtime (WebSocket) and ${server.url}/api/realtime/sse  (channels: ${server.url}/api/asyncapi.json)`];
    if (server.demo) {
      lines.push(
        `Demo shop${server.demo.created ? ' created' : ''}: slug "${server.demo.shop}"`,
        `  staff login:      ${server.demo.email} / ${server.demo.password}`,
        `  publishable key:  ${server.demo.publishable_key}`,
        `  try: curl -s ${server.url}/api/auth/login -H 'content-type: application/json' -d '{"shop":"${server.demo.shop}","email":"${server.demo.email}","password":"${server.demo.password}"}'`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  });

program
  .command('worker')
  .description('Run job workers and the scheduler without the HTTP API (scale-out: run as many as you like)')
  .action(async () => {
    const cfg = config();
    const db = createDb(cfg.database);
    await migrateUp(db);
    const log = pino({ level: cfg.logLevel, redact: { paths: LOG_REDACT, censor: '[redacted]' } }) as unknown as Logger;
    const tracing = await startTracing(cfg);
    // With Redis, what the outbox publisher commits is relayed to every API node's realtime at once.
    const redis = cfg.redisUrl ? new Redis(cfg.redisUrl, { maxRetriesPerRequest: 2 }) : null;
    redis?.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
    const broker = cfg.brokerUrl ? createBroker(cfg.brokerUrl) : null;
    const bus = redis ? new RedisBus(redis, 'stockroom:', (err) => log.warn({ err }, 'realtime bus error')) : null;
    const bg = startBackground({
      db,
      clock: systemClock,
      log,
      gateway: buildPayments(cfg).gateway,
      webhooksAllowPrivate: cfg.webhooksAllowPrivate,
      mailer: createMailer({ ...cfg.mail, dataDir: cfg.dataDir, log }),
      realtimeHistoryHours: cfg.realtime.historyHours,
      links: { publicUrl: cfg.publicUrl, consentSecret: consentSecretOf(loadSigningKey(cfg)) },
      broker,
      onEventsCommitted: bus ? relayCommitted(db, bus) : undefined,
    });
    const wake = redis ? new OutboxWake(redis, 'stockroom:') : null;
    wake?.subscribe(() => bg.pump.wake());
    process.stdout.write(`Stockroom ${VERSION} worker ${bg.worker.id} running queues ${Object.entries(QUEUES).map(([q, n]) => `${q}×${n}`).join(', ')}\n`);
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      const force = setTimeout(() => process.exit(1), cfg.shutdownTimeoutSeconds * 1000);
      force.unref();
      bg.stop()
        .then(() => wake?.close())
        .then(() => broker?.close())
        .then(() => bus?.close())
        .then(() => redis?.quit())
        .then(() => tracing?.shutdown())
        .then(() => db.destroy())
        .then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });

program
  .command('graphql')
  .description('The GraphQL API')
  .command('schema')
  .description('Print the GraphQL schema (SDL) the server serves: `stockroom graphql schema > schema.graphql`')
  .action(() => {
    process.stdout.write(`${printSchema(buildSchema(SDL))}\n`);
  });

program
  .command('db')
  .description('The database itself')
  .command('create')
  .description('Create the PostgreSQL database DATABASE_URL names (the role needs CREATEDB); SQLite files are created on first use')
  .action(async () => {
    const cfg = config();
    if (cfg.database.dialect === 'sqlite') return console.log(`SQLite: ${cfg.database.file} is created on first use`);
    const name = decodeURIComponent(new URL(cfg.database.url).pathname.slice(1));
    console.log((await createPostgresDatabase(cfg.database.url)) === 'created' ? `created database "${name}"` : `database "${name}" exists`);
  });

program
  .command('events')
  .description('The outbox of domain events')
  .command('replay')
  .description('Hand published events from a position on to one consumer again (it is idempotent per event)')
  .requiredOption('--consumer <name>', `the consumer: ${EVENT_CONSUMERS.map((c) => c.name).join(', ')}`)
  .requiredOption('--from <event-id>', 'the first event (evt_…) to hand on again')
  .option('--tenant <tenant-id>', 'only this shop’s events')
  .action((opts: { consumer: string; from: string; tenant?: string }) =>
    withDb(async (db) => {
      const consumer = EVENT_CONSUMERS.find((c) => c.name === opts.consumer);
      if (!consumer) throw new CliError(`no consumer named "${opts.consumer}" (there are: ${EVENT_CONSUMERS.map((c) => c.name).join(', ')})`, EXIT_USAGE);
      console.log(`replayed ${await replayEvents(db, systemClock, consumer, opts.from, { tenantId: opts.tenant })} events to ${consumer.name}`);
    }),
  );

const imports = program.command('import').description('Import products or contacts from a CSV or NDJSON file (docs/integration.md)');
for (const kind of ['products', 'contacts'] as const) {
  imports
    .command(`${kind} <file>`)
    .description(`Import ${kind} from FILE (.csv, .ndjson or .jsonl) into a shop, with a progress bar; upserts by ${kind === 'products' ? 'handle and SKU' : 'email'}`)
    .requiredOption('--shop <slug>', 'the shop')
    .option('--dry-run', 'check every row and write the report; change nothing')
    .option('--format <format>', 'csv or ndjson, when the file name does not say')
    .action((file: string, opts: { shop: string; dryRun?: boolean; format?: string }) =>
      withDb(
        async (db, cfg) => {
          const tenant = await findTenantBySlug(db, opts.shop);
          if (!tenant) throw new CliError(`no shop with the slug "${opts.shop}"`, EXIT_USAGE);
          if (opts.format !== undefined && opts.format !== 'csv' && opts.format !== 'ndjson') throw new CliError('--format is csv or ndjson', EXIT_USAGE);
          let size: number;
          try {
            size = statSync(file).size;
          } catch {
            throw new CliError(`cannot read ${file}`, EXIT_USAGE);
          }
          const log = quietLog();
          const ctx = { tenantId: tenant.id, principal: { kind: 'system' as const, tenantId: tenant.id }, db, clock: systemClock, log };
          const v = await createImport(ctx, { kind, format: formatOf(basename(file), undefined, opts.format), filename: basename(file), dryRun: opts.dryRun ?? false }, createReadStream(file) as AsyncIterable<Buffer>, { maxBytes: Math.max(cfg.importMaxBytes, size) }, { queue: false });
          process.stderr.write(`import ${v.id} (${v.mode === 'dry_run' ? 'dry run' : 'apply'}; if stopped, continue with: stockroom import resume ${v.id} --shop ${opts.shop})\n`);
          await runWithProgress(db, log, tenant.id, v.id);
        },
        { migrate: true },
      ),
    );
}
imports
  .command('resume <id>')
  .description('Continue an import the CLI started, from its last committed batch')
  .requiredOption('--shop <slug>', 'the shop')
  .action((id: string, opts: { shop: string }) =>
    withDb(async (db) => {
      const tenant = await findTenantBySlug(db, opts.shop);
      if (!tenant) throw new CliError(`no shop with the slug "${opts.shop}"`, EXIT_USAGE);
      await runWithProgress(db, quietLog(), tenant.id, id);
    }),
  );

/** Runs an import in this process, drawing its progress on stderr; prints the outcome and where its report is. */
async function runWithProgress(db: ReturnType<typeof createDb>, log: Logger, tenantId: string, id: string): Promise<void> {
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let lastPercent = -10;
  const draw = (v: ImportView, last = false) => {
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    const line = `${progressBar(v.percent)} ${String(v.percent).padStart(3)}%  ${v.rows_done.toLocaleString('en')} rows  ${Math.round(v.rows_done / secs).toLocaleString('en')} rows/s  ${v.failed} failed`;
    if (tty) process.stderr.write(`\r${line}`);
    else if (last || v.percent >= lastPercent + 10) {
      lastPercent = v.percent;
      process.stderr.write(`${line}\n`);
    }
  };
  const v = await runImport(db, systemClock, log, tenantId, id, { onProgress: draw });
  draw(v, true);
  if (tty) process.stderr.write('\n');
  const secs = (Date.now() - started) / 1000;
  console.log(`${v.status}: ${v.rows_done} rows in ${secs.toFixed(1)} s — ${v.created} created, ${v.updated} updated, ${v.unchanged} unchanged, ${v.failed} failed${v.error ? ` (${v.error})` : ''}`);
  if (v.error_count > 0) console.log(`${v.error_count} problems: GET /api/imports/${v.id}/errors.csv`);
  if (v.status !== 'succeeded') process.exitCode = 1;
}

const progressBar = (percent: number, width = 30) => `[${'#'.repeat(Math.round((percent / 100) * width)).padEnd(width, '.')}]`;
const quietLog = () => pino({ level: 'warn' }) as unknown as Logger;

const migrate = program.command('migrate').description('Database migrations');
migrate
  .command('up', { isDefault: true })
  .description('Apply all pending migrations')
  .action(() =>
    withDb(async (db) => {
      const done = await migrateUp(db);
      console.log(done.length ? done.join('\n') : 'already up to date');
    }),
  );
migrate
  .command('down')
  .description('Undo the last migration (or all with --all)')
  .option('--all', 'undo every migration (drops all data)')
  .action((opts: { all?: boolean }) =>
    withDb(async (db) => {
      const done = await migrateDown(db, opts.all === true);
      console.log(done.length ? done.join('\n') : 'nothing to undo');
    }),
  );
migrate
  .command('status')
  .description('List migrations and when each ran')
  .action(() =>
    withDb(async (db) => {
      for (const m of await migrationStatus(db)) console.log(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}${m.executedAt ? `  ${m.executedAt}` : ''}`);
    }),
  );

program
  .command('seed')
  .description('Create the demo shop (slug "demo") if it does not exist, and print its credentials')
  .action(() =>
    withDb(async (db, cfg) => {
      const demo = await seedDemo(db, cfg, systemClock, true);
      if (!demo) throw new CliError('the demo shop exists but its credentials file is missing from DATA_DIR');
      console.log(`${demo.created ? 'created' : 'exists'}: shop "${demo.shop}"\nstaff login: ${demo.email} / ${demo.password}\npublishable key: ${demo.publishable_key}`);
    }, { migrate: true }),
  );

const tenant = program.command('tenant').description('Shops (tenants)');
tenant
  .command('create')
  .description('Create a shop with its owner and a publishable key')
  .requiredOption('--name <name>', 'shop name')
  .requiredOption('--email <email>', 'owner email')
  .option('--slug <slug>', 'shop slug used at login (default: from the name)')
  .option('--password <password>', 'owner password (default: $STOCKROOM_PASSWORD, else generated and printed)')
  .option('--currency <code>', 'ISO 4217 currency', 'USD')
  .option('--timezone <tz>', 'IANA time zone', 'UTC')
  .action((opts: { name: string; email: string; slug?: string; password?: string; currency: string; timezone: string }) =>
    withDb(async (db) => {
      if (!/^[A-Z]{3}$/.test(opts.currency)) throw new CliError('--currency: must be an ISO 4217 code such as EUR', EXIT_USAGE);
      if (opts.slug !== undefined && !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(opts.slug)) throw new CliError('--slug: lower-case letters, digits and dashes', EXIT_USAGE);
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(opts.email)) throw new CliError('--email: not an email address', EXIT_USAGE);
      const pw = password(opts.password);
      const r = await signup(db, systemClock, { shop_name: opts.name, shop_slug: opts.slug, email: opts.email, password: pw.value, currency: opts.currency, timezone: opts.timezone });
      console.log(`created tenant ${r.tenant.id} (slug "${r.tenant.slug}")\nowner: ${r.owner.email}${pw.generated ? ` / ${pw.value}` : ''}\npublishable key: ${r.publishable_key}`);
    }, { migrate: true }),
  );

const user = program.command('user').description('Staff users');
user
  .command('create')
  .description('Add a staff user to a shop')
  .requiredOption('--shop <slug>', 'the shop’s slug')
  .requiredOption('--email <email>', 'email')
  .addOption(new Option('--role <role>', 'built-in role').choices(Object.keys(SYSTEM_ROLES)).default('clerk'))
  .option('--name <name>', 'display name')
  .option('--password <password>', 'password (default: $STOCKROOM_PASSWORD, else generated and printed)')
  .action((opts: { shop: string; email: string; role: SystemRole; name?: string; password?: string }) =>
    withDb(async (db) => {
      const t = await findTenantBySlug(db, opts.shop);
      if (!t) throw new CliError(`no shop with slug "${opts.shop}"`);
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(opts.email)) throw new CliError('--email: not an email address', EXIT_USAGE);
      const pw = password(opts.password);
      const id = await insertUser(db, systemClock, t.id, { email: opts.email, name: opts.name ?? opts.email.split('@')[0] ?? opts.email, password: pw.value, roleId: await systemRoleId(db, t.id, opts.role) });
      console.log(`created user ${id} (${opts.role}) in shop "${t.slug}"${pw.generated ? `\npassword: ${pw.value}` : ''}`);
    }, { migrate: true }),
  );

const keys = program.command('keys').description('Signing keys');
keys
  .command('generate')
  .description('Print a new Ed25519 private key for JWT_PRIVATE_KEY (PEM, newlines as \\n)')
  .action(() => {
    console.log(generatePrivateKeyPem().trim().replace(/\n/g, '\\n'));
  });

program
  .command('config')
  .description('Check the configuration (exit 78 if it is invalid); --markdown prints the table of variables')
  .option('--markdown', 'print every variable with its default as a Markdown table')
  .action((opts: { markdown?: boolean }) => {
    if (opts.markdown) return console.log(configMarkdown());
    const cfg = config();
    console.log(`configuration ok: ${cfg.database.dialect}${cfg.redisUrl ? ' + redis' : ''}, listening on ${cfg.host}:${cfg.port}`);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : EXIT_USAGE);
  if (e instanceof ConfigError) {
    process.stderr.write(`stockroom: configuration error: ${e.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (e instanceof CliError) {
    process.stderr.write(`stockroom: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  if (e instanceof AppError) {
    process.stderr.write(`stockroom: ${e.message} (${e.code})\n`);
    process.exit(1);
  }
  const err = e as NodeJS.ErrnoException;
  if (err.code === PG_NO_DATABASE) {
    const cfg = (() => {
      try {
        return config();
      } catch {
        return null;
      }
    })();
    const name = cfg?.database.dialect === 'postgres' ? decodeURIComponent(new URL(cfg.database.url).pathname.slice(1)) : '?';
    process.stderr.write(`stockroom: the database "${name}" does not exist; create it with \`stockroom db create\` (the role needs CREATEDB) or \`createdb ${name}\`\n`);
    process.exit(1);
  }
  if (err.code === 'EADDRINUSE') process.stderr.write(`stockroom: port is already in use (${err.message})\n`);
  else if (err.code === 'ECONNREFUSED') process.stderr.write(`stockroom: cannot reach the database or Redis (${err.message})\n`);
  else process.stderr.write(`stockroom: ${err.stack ?? String(e)}\n`);
  process.exit(1);
}
