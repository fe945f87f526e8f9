// Bare Fastify + better-sqlite3: the ceiling Stockroom is compared with (same machine, same run).
import Fastify from 'fastify';
import SQLite from 'better-sqlite3';

const file = process.argv[2] ?? ':memory:';
const port = Number(process.argv[3] ?? 0);
const db = new SQLite(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('create table if not exists items (id integer primary key, title text not null, price integer not null, sku text not null)');
if ((db.prepare('select count(*) n from items').get() as { n: number }).n === 0) {
  const ins = db.prepare('insert into items (title, price, sku) values (?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 1000; i++) ins.run(`Item ${i}`, 1000 + i, `SKU-${i}`);
  })();
}
const page = db.prepare('select id, title, price, sku from items order by id limit 20');
const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
app.get('/items', async () => ({ data: page.all() }));
await app.listen({ host: '127.0.0.1', port });
const addr = app.server.address();
process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
