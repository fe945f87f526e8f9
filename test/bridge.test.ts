import assert from 'node:assert/strict';
import { createServer, Socket, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import { AckPolicy, DeliverPolicy, connect as natsConnect } from 'nats';
import { consumersOf, jobHandlers } from '../src/background.ts';
import { systemClock } from '../src/lib/clock.ts';
import { COMMANDS, EXCHANGE, createBroker, handleCommand, type Broker } from '../src/modules/bridge/index.ts';
import { createMailer } from '../src/modules/email/index.ts';
import { Worker } from '../src/modules/jobs/index.ts';
import { dispatchEvents } from '../src/workflows/dispatch-events.ts';
import { seedCatalogue, type Catalogue } from './commerce-helpers.ts';
import { call, createShop, engines, startApp, type Shop, type TestApp } from './helpers.ts';

/** A TCP relay to the broker that the test can cut and restore: the broker "goes away" for the bridge only. */
async function relay(port: number) {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const listenOn = (p: number) =>
    new Promise<number>((resolve) => {
      server = createServer((client) => {
        const upstream = new Socket();
        upstream.connect(port, '127.0.0.1');
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.listen(p, '127.0.0.1', () => resolve((server?.address() as { port: number }).port));
    });
  const own = await listenOn(0);
  return {
    port: own,
    async cut() {
      const closing = new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      for (const s of sockets) s.destroy();
      sockets.clear();
      await closing;
    },
    async restore() {
      await listenOn(own);
    },
    async close() {
      await this.cut();
    },
  };
}

const BROKERS = [
  { name: 'NATS JetStream', url: (port: number) => `nats://127.0.0.1:${port}`, port: 4222 },
  { name: 'RabbitMQ', url: (port: number) => `amqp://guest:guest@127.0.0.1:${port}`, port: 5672 },
];

for (const engine of engines()) {
  for (const b of BROKERS) {
    describe(`broker bridge: ${b.name} [${engine.name}]`, () => {
      let t: TestApp;
      let shop: Shop;
      let cat: Catalogue;
      let proxy: Awaited<ReturnType<typeof relay>>;
      let broker: Broker;
      let worker: Worker;
      const got: { id: string; subject: string }[] = [];
      let stopListening: () => Promise<void> = async () => {};

      before(async () => {
        t = await startApp(engine);
        shop = await createShop(t.app);
        cat = await seedCatalogue(t.app, shop);
        proxy = await relay(b.port);
        broker = createBroker(b.url(proxy.port));
        const mailer = createMailer({ ...t.config.mail, dataDir: t.config.dataDir, log: t.app.log });
        worker = new Worker({ db: t.db, clock: systemClock, log: t.app.log, handlers: jobHandlers({ gateway: t.app.payments, webhooksAllowPrivate: false, mailer, broker }), queues: { broker: 2 }, pollMs: 50 });
        // What a downstream service sees: everything of this shop, straight from the broker (not through the relay).
        if (b.name === 'RabbitMQ') {
          const conn = await amqp.connect(b.url(b.port));
          const ch = await conn.createChannel();
          await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
          const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
          await ch.bindQueue(q.queue, EXCHANGE, `stockroom.${shop.tenantId}.#`);
          await ch.consume(q.queue, (m) => m && got.push({ id: String(m.properties.messageId), subject: m.fields.routingKey }), { noAck: true });
          stopListening = async () => void (await conn.close());
        } else {
          await broker.publish(`stockroom.${shop.tenantId}.hello`, `hello-${shop.tenantId}`, '{}', {}); // makes the stream
          const nc = await natsConnect({ servers: `127.0.0.1:${b.port}` });
          const js = nc.jetstream();
          const jsm = await nc.jetstreamManager();
          const ci = await jsm.consumers.add('STOCKROOM', { ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, filter_subject: `stockroom.${shop.tenantId}.>`, inactive_threshold: 60_000_000_000 });
          const consumer = await js.consumers.get('STOCKROOM', ci.name);
          const messages = await consumer.consume();
          void (async () => {
            for await (const m of messages) got.push({ id: String(m.headers?.get('Nats-Msg-Id')), subject: m.subject });
          })();
          stopListening = async () => {
            await messages.close();
            await nc.close();
          };
        }
      });
      after(async () => {
        await worker.stop();
        await stopListening();
        await broker.close();
        await proxy.close();
        await t.close();
      });

      const pump = async () => {
        for (let i = 0; i < 50; i++) {
          while ((await dispatchEvents(t.db, systemClock, consumersOf({ broker }))) > 0);
          await worker.tick();
          await worker.idle();
          const left = await t.db.selectFrom('jobs').select('id').where('type', '=', 'broker.publish').where('status', 'in', ['queued', 'running']).execute();
          if (left.length === 0) return;
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.fail('broker jobs did not drain');
      };
      const order = async () => {
        const r = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], email: 'b@example.com', payment: { provider: 'manual' } } });
        assert.equal(r.statusCode, 201, r.body);
        return r.json.id as string;
      };
      const eventIds = async (type: string) => (await t.db.selectFrom('outbox_events').select(['id', 'aggregate_id']).where('tenant_id', '=', shop.tenantId).where('type', '=', type).execute());
      const until = async (ok: () => boolean, ms = 5000) => {
        const end = Date.now() + ms;
        while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      };

      test('an order placed over the API appears once on the broker, under stockroom.<shop>.order.created, its event id as the message id', async () => {
        const id = await order();
        await pump();
        const created = (await eventIds('order.created')).find((e) => e.aggregate_id === id)!;
        await until(() => got.some((g) => g.id === created.id));
        await new Promise((r) => setTimeout(r, 300));
        const mine = got.filter((g) => g.id === created.id);
        assert.equal(mine.length, 1, JSON.stringify(got));
        assert.equal(mine[0]!.subject, `stockroom.${shop.tenantId}.order.created`);
      });

      test('the broker goes away during a burst: nothing is lost, and each event arrives once', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push(await order());
        await proxy.cut();
        for (let i = 0; i < 5; i++) ids.push(await order());
        const downRun = pump().catch(() => {});
        await new Promise((r) => setTimeout(r, 1500));
        await proxy.restore();
        await downRun;
        await pump();
        const created = (await eventIds('order.created')).filter((e) => ids.includes(e.aggregate_id));
        assert.equal(created.length, 10);
        await until(() => created.every((e) => got.some((g) => g.id === e.id)), 10_000);
        for (const e of created) {
          const n = got.filter((g) => g.id === e.id).length;
          // JetStream drops a repeated Nats-Msg-Id; RabbitMQ consumers drop a repeated message-id.
          if (b.name === 'NATS JetStream') assert.equal(n, 1, `${e.id} once`);
          else assert.ok(n >= 1, `${e.id} arrived`);
        }
        const distinct = new Set(got.filter((g) => created.some((e) => e.id === g.id)).map((g) => g.id));
        assert.equal(distinct.size, 10);
      });

      test('an inventory command published to the broker changes stock once, however often it is delivered', async () => {
        const applied: string[] = [];
        await broker.consume(COMMANDS, async (m) => void applied.push(await handleCommand(t.db, systemClock, t.app.log, m)));
        const cmd = JSON.stringify({ command_id: `wh-${shop.tenantId}-1`, variant_id: cat.v.NOTE, reason: 'count', set_to: 7 });
        await broker.publish(`stockroom.commands.${shop.tenantId}.inventory.adjust`, `cmd-a-${shop.tenantId}`, cmd, {});
        await broker.publish(`stockroom.commands.${shop.tenantId}.inventory.adjust`, `cmd-b-${shop.tenantId}`, cmd, {});
        await until(() => applied.filter((a) => a !== 'retry').length >= 2 || applied.includes('applied'), 8000);
        await new Promise((r) => setTimeout(r, 500));
        const stock = await call(t.app, { url: `/api/inventory?variant_id=${cat.v.NOTE}`, token: shop.token });
        assert.equal((stock.json.data as { available: number }[])[0]?.available, 7);
        const ledger = await t.db.selectFrom('inventory_ledger').select('id').where('tenant_id', '=', shop.tenantId).where('note', '=', `broker command wh-${shop.tenantId}-1`).execute();
        assert.equal(ledger.length, 1, 'applied once');
        assert.ok(applied.includes('applied'));
      });
    });
  }
}
