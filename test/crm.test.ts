import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EVENT_CONSUMERS, crmScoresJob, jobHandlers, remindTasks } from '../src/background.ts';
import { createMailer } from '../src/modules/email/index.ts';
import { Worker } from '../src/modules/jobs/index.ts';
import { consentSecretOf, consentToken } from '../src/modules/crm/index.ts';
import { loadSigningKey } from '../src/modules/auth/index.ts';
import { remindAbandonedCarts } from '../src/workflows/emails.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../src/lib/clock.ts';
import { dispatchEvents } from '../src/workflows/dispatch-events.ts';
import { SUCCESS, seedCatalogue, type Catalogue } from './commerce-helpers.ts';
import { PASSWORD, call, createShop, engines, login, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';

type Contact = { id: string; email: string; stage: string; order_count: number; total_spent: number; tags: string[]; custom: Record<string, unknown>; consent: { status: string }; customer_id: string | null; scores: { rfm: string; lead_score: number } | null; version: number };

/** The CRM from outside: contacts made by what happens in the shop, timelines, scores, segments, privacy. */
for (const engine of engines()) {
  describe(`CRM [${engine.name}]`, () => {
    let t: TestApp;
    let shop: Shop;
    let other: Shop;
    let cat: Catalogue;
    let worker: Worker;
    const work = async () => {
      for (let i = 0; i < 3; i++) {
        while ((await dispatchEvents(t.db, systemClock, EVENT_CONSUMERS)) > 0);
        await worker.tick();
        await worker.idle();
      }
    };
    const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, token = shop.token) => call(t.app, { method, url, token, ...(body !== undefined ? { body } : {}) });

    before(async () => {
      t = await startApp(engine, { env: { WEBHOOKS_ALLOW_PRIVATE: 'true' } });
      shop = await createShop(t.app);
      other = await createShop(t.app);
      cat = await seedCatalogue(t.app, shop);
      const mailer = createMailer({ ...t.config.mail, dataDir: t.config.dataDir, log: t.app.log });
      worker = new Worker({ db: t.db, clock: systemClock, log: t.app.log, handlers: jobHandlers({ gateway: t.app.payments, webhooksAllowPrivate: true, mailer, links: { publicUrl: 'https://api.shop.test', consentSecret: consentSecretOf(loadSigningKey(t.config)) } }), queues: { email: 4, default: 2 } });
    });
    after(() => t.close());

    test('a lead created over the API who then orders becomes a customer; the timeline shows the order and its confirmation email', async () => {
      const lead = await api('POST', '/api/contacts', { email: 'Lena@Example.com', first_name: 'Lena', tags: ['Trade Fair'], consent: { status: 'subscribed', source: 'fair form' } });
      assert.equal(lead.statusCode, 201, lead.body);
      assert.equal(lead.json.stage, 'lead');
      assert.equal(lead.json.email, 'lena@example.com');
      assert.deepEqual(lead.json.tags, ['trade fair']);
      assert.equal(problemOf(await api('POST', '/api/contacts', { email: 'lena@example.com' })).code, 'contact_exists');

      const o = await api('POST', '/api/orders', { lines: [{ variant_id: cat.v.LAMP, quantity: 1 }], email: 'lena@example.com', payment: SUCCESS });
      assert.equal(o.statusCode, 201, o.body);
      await work();
      const c = (await api('GET', `/api/contacts/${lead.json.id}`)).json as unknown as Contact;
      assert.equal(c.stage, 'customer');
      assert.equal(c.order_count, 1);
      assert.equal(c.total_spent, o.json.total);
      const tl = await api('GET', `/api/contacts/${lead.json.id}/timeline`);
      const types = (tl.json.data ?? []).map((a) => a.type);
      assert.ok(types.includes('order.created'), JSON.stringify(types));
      assert.ok(types.includes('order.paid'));
      const email = (tl.json.data ?? []).find((a) => a.type === 'email.sent') as { summary: string; data: { template: string; order_id: string; outcome: string } } | undefined;
      assert.equal(email?.data.template, 'order_confirmation', JSON.stringify(types));
      assert.equal(email?.data.order_id, o.json.id);
      assert.equal(email?.data.outcome, 'sent');
      const onlyOrders = await api('GET', `/api/contacts/${lead.json.id}/timeline?type=order.created`);
      assert.deepEqual((onlyOrders.json.data ?? []).map((a) => a.type), ['order.created']);
      // A second order: repeat. Replaying the events changes nothing.
      await api('POST', '/api/orders', { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], email: 'lena@example.com', payment: SUCCESS });
      await work();
      const { replayEvents } = await import('../src/workflows/dispatch-events.ts');
      const crm = EVENT_CONSUMERS.find((x) => x.name === 'crm')!;
      await replayEvents(t.db, systemClock, crm, 'evt_0');
      const again = (await api('GET', `/api/contacts/${lead.json.id}`)).json as unknown as Contact;
      assert.equal(again.stage, 'repeat');
      assert.equal(again.order_count, 2, 'a replay counts nothing twice');
    });

    test('customers who register become contacts linked to their account; guests who order too', async () => {
      const reg = await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email: 'acc@example.com', password: PASSWORD, first_name: 'Ada' } });
      assert.equal(reg.statusCode, 201);
      const g = await call(t.app, { method: 'POST', url: '/api/carts', pk: shop.pk, body: { email: 'guest@example.com', lines: [{ variant_id: cat.v.NOTE, quantity: 1 }] } });
      await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: g.json.id, payment: SUCCESS } });
      await work();
      const acc = (await api('GET', '/api/contacts?email=acc@example.com')).json.data?.[0] as unknown as Contact;
      assert.equal(acc.customer_id, (reg.json.customer as { id: string }).id);
      const guest = (await api('GET', '/api/contacts?email=guest@example.com')).json.data?.[0] as unknown as Contact;
      assert.equal(guest.stage, 'customer');
    });

    test('custom fields are typed and validated; notes and tasks land on the timeline; a due task is announced once', async () => {
      assert.equal((await api('POST', '/api/contact-fields', { key: 'vip_level', label: 'VIP level', type: 'choice', choices: ['gold', 'silver'] })).statusCode, 201);
      assert.equal((await api('POST', '/api/contact-fields', { key: 'birthday', label: 'Birthday', type: 'date' })).statusCode, 201);
      const c = (await api('POST', '/api/contacts', { email: 'max@example.com', custom: { vip_level: 'gold', birthday: '1990-02-28' } })).json;
      assert.deepEqual(c.custom, { vip_level: 'gold', birthday: '1990-02-28' });
      const bad = await api('POST', '/api/contacts', { email: 'bad@example.com', custom: { vip_level: 'platinum', birthday: '1990-02-30', nope: 1 } });
      assert.equal(problemOf(bad).code, 'invalid_custom_field');
      assert.equal(((bad.json.errors as unknown[]) ?? []).length, 3);
      const note = await api('POST', `/api/contacts/${c.id}/notes`, { body: 'Called about the wholesale offer', type: 'call' });
      assert.equal(note.statusCode, 201);
      const staff = (await api('GET', '/api/users')).json.data?.[0] as { id: string };
      const task = await api('POST', `/api/contacts/${c.id}/tasks`, { title: 'Send samples', assignee_id: staff.id, due_at: new Date(Date.now() - 1000).toISOString() });
      assert.equal(task.statusCode, 201, task.body);
      assert.equal(await remindTasks(t.db, systemClock), 1);
      assert.equal(await remindTasks(t.db, systemClock), 0, 'once');
      const due = await t.db.selectFrom('outbox_events').select('payload').where('tenant_id', '=', shop.tenantId).where('type', '=', 'crm.task_due').execute();
      assert.equal(JSON.parse(due[0]!.payload).task_id, task.json.id);
      const done = await api('PATCH', `/api/contacts/${c.id}/tasks/${task.json.id}`, { done: true });
      assert.ok(done.json.done_at);
      assert.deepEqual((await api('GET', `/api/contacts/${c.id}/timeline`)).json.data?.map((a) => a.type), ['task', 'call']);
    });

    test('scores: RFM quintiles and a lead score from the shop’s rules, explained, with history', async () => {
      assert.equal((await api('POST', '/api/score-rules', { name: 'Ordered', kind: 'activity', activity_type: 'order.created', points: 10, half_life_days: 30 })).statusCode, 201);
      assert.equal((await api('POST', '/api/score-rules', { name: 'Fair lead', kind: 'attribute', attribute: 'tag', value: 'trade fair', points: 5 })).statusCode, 201);
      await crmScoresJob(t.db, systemClock);
      const lena = (await api('GET', '/api/contacts?email=lena@example.com')).json.data?.[0] as unknown as Contact;
      assert.ok(lena.scores, 'scored');
      assert.match(lena.scores.rfm, /^[1-5]{3}$/);
      assert.equal(lena.scores.lead_score, 10 + 10 + 5, 'two orders just now and the tag');
      const s = (await api('GET', `/api/contacts/${lena.id}/scores`)).json as { current: { explanation: { lead: { name: string; points: number }[]; rfm: { frequency: number } } }; history: unknown[] };
      assert.deepEqual(s.current.explanation.lead.map((l) => [l.name, l.points]).sort(), [['Fair lead', 5], ['Ordered', 20]]);
      assert.equal(s.current.explanation.rfm.frequency, 2);
      assert.equal(s.history.length, 1);
      await crmScoresJob(t.db, systemClock);
      assert.equal(((await api('GET', `/api/contacts/${lena.id}/scores`)).json.history as unknown[]).length, 1, 'history grows only when a score changes');
      const max = (await api('GET', '/api/contacts?email=max@example.com')).json.data?.[0] as unknown as Contact;
      assert.equal(max.scores?.rfm, '000', 'no orders: no RFM');
    });

    test('segments: a saved filter of top customers lists them, counts them, and announces who enters', async () => {
      const seg = await api('POST', '/api/segments', { name: 'Top customers', filter: { min_orders: 2, consent: ['subscribed'] } });
      assert.equal(seg.statusCode, 201, seg.body);
      assert.equal(seg.json.count, 1);
      const members = await api('GET', `/api/segments/${seg.json.id}/members`);
      assert.deepEqual((members.json.data ?? []).map((m) => m.email), ['lena@example.com']);
      const vip = await api('POST', '/api/segments', { name: 'Gold', filter: { custom: [{ key: 'vip_level', op: 'eq', value: 'gold' }] } });
      assert.equal(vip.json.count, 1);
      // Someone new qualifies: the next evaluation announces it.
      await api('POST', '/api/orders', { lines: [{ variant_id: cat.v.MUG, quantity: 1 }], email: 'guest@example.com', payment: SUCCESS });
      await work();
      const guest = (await api('GET', '/api/contacts?email=guest@example.com')).json.data?.[0] as unknown as Contact;
      await api('PATCH', `/api/contacts/${guest.id}`, { consent: { status: 'subscribed', source: 'checkout box' } });
      const r = await crmScoresJob(t.db, systemClock);
      assert.ok(r.entered >= 1);
      const ev = await t.db.selectFrom('outbox_events').select('payload').where('tenant_id', '=', shop.tenantId).where('type', '=', 'segment.members_changed').execute();
      assert.ok(ev.some((e) => (JSON.parse(e.payload) as { entered: string[] }).entered.includes(guest.id)));
      assert.equal((await api('GET', `/api/segments/${seg.json.id}`)).json.count, 2);
    });

    test('consent: one-click unsubscribe and double opt-in links, by token, no login', async () => {
      const c = (await api('POST', '/api/contacts', { email: 'opt@example.com', consent: { status: 'pending', source: 'newsletter form' } })).json;
      const secret = consentSecretOf(loadSigningKey(t.config));
      const confirm = consentToken(secret, shop.tenantId, c.id as string, 'confirm');
      assert.equal((await call(t.app, { method: 'POST', url: `/api/consent/confirm?token=${confirm}` })).statusCode, 200);
      assert.equal(((await api('GET', `/api/contacts/${c.id}`)).json.consent as { status: string }).status, 'subscribed');
      const unsub = consentToken(secret, shop.tenantId, c.id as string, 'unsubscribe');
      assert.equal((await call(t.app, { method: 'POST', url: `/api/consent/unsubscribe?token=${unsub}` })).statusCode, 200);
      assert.equal(((await api('GET', `/api/contacts/${c.id}`)).json.consent as { status: string }).status, 'unsubscribed');
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/consent/unsubscribe?token=${unsub.slice(0, -2)}xx` })).code, 'invalid_token');
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: `/api/consent/confirm?token=${unsub}` })).code, 'invalid_token', 'a token is for one purpose');
    });

    test('newsletter sign-up from the storefront: double opt-in by a confirmation email whose link subscribes', async () => {
      const r = await call(t.app, { method: 'POST', url: '/api/newsletter', pk: shop.pk, body: { email: 'News@Example.com', first_name: 'Nia' } });
      assert.equal(r.statusCode, 202, r.body);
      assert.deepEqual(r.json, { consent: 'pending' });
      await work();
      const plain = (m: string) => m.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16)));
      const mailDir = join(t.config.dataDir, 'mail');
      const mail = readdirSync(mailDir).map((f) => plain(readFileSync(join(mailDir, f), 'utf8'))).find((m) => m.includes('To: news@example.com') && m.includes('confirm your subscription'));
      assert.ok(mail, 'a confirmation email');
      const link = /https:\/\/api\.shop\.test(\/api\/consent\/confirm\?token=[A-Za-z0-9._-]+)/.exec(mail)?.[1];
      assert.ok(link);
      assert.equal((await call(t.app, { url: link })).statusCode, 200);
      const c = (await api('GET', '/api/contacts?email=news@example.com')).json.data?.[0] as { source: string; consent: { status: string }; first_name: string };
      assert.deepEqual([c.source, c.consent.status, c.first_name], ['newsletter', 'subscribed', 'Nia']);
      const direct = await call(t.app, { method: 'POST', url: '/api/newsletter', pk: shop.pk, body: { email: 'quick@example.com', double_opt_in: false } });
      assert.deepEqual(direct.json, { consent: 'subscribed' });
    });

    test('merge two contacts (audited); export everything; erase: personal data gone, totals kept', async () => {
      const a = (await api('POST', '/api/contacts', { email: 'twin1@example.com', tags: ['a'] })).json;
      const b = (await api('POST', '/api/contacts', { email: 'twin2@example.com', tags: ['b'] })).json;
      await api('POST', `/api/contacts/${b.id}/notes`, { body: 'from b' });
      const merged = await api('POST', `/api/contacts/${a.id}/merge`, { contact_id: b.id });
      assert.deepEqual((merged.json.tags as string[]).sort(), ['a', 'b']);
      assert.equal(problemOf(await api('GET', `/api/contacts/${b.id}`)).status, 404);
      assert.equal((await api('GET', `/api/contacts/${a.id}/timeline`)).json.data?.[0]?.summary, 'from b');
      assert.equal((await api('GET', `/api/contacts/${a.id}/audit`)).json.data?.[0]?.action, 'merge');

      const lena = (await api('GET', '/api/contacts?email=lena@example.com')).json.data?.[0] as unknown as Contact;
      const exported = await api('GET', `/api/contacts/${lena.id}/export`);
      assert.equal(exported.statusCode, 200);
      assert.equal((exported.json.orders as unknown[]).length, 2);
      assert.ok((exported.json.timeline as unknown[]).length >= 4);
      const orderId = (exported.json.orders as { id: string; total: number }[])[0]!.id;
      const total = (exported.json.orders as { id: string; total: number }[])[0]!.total;
      const erased = await api('POST', `/api/contacts/${lena.id}/erase`);
      assert.equal(erased.statusCode, 200, erased.body);
      assert.equal(erased.json.orders, 2);
      assert.equal(problemOf(await api('GET', `/api/contacts/${lena.id}`)).status, 404);
      const order = await api('GET', `/api/orders/${orderId}`);
      assert.match(order.json.email as string, /^erased-.*@erased\.invalid$/);
      assert.equal(order.json.total, total, 'the books still add up');
      const emailsLeft = await t.db.selectFrom('emails').select('to').where('tenant_id', '=', shop.tenantId).where('to', '=', 'lena@example.com').execute();
      assert.equal(emailsLeft.length, 0);
      assert.deepEqual((await api('GET', `/api/contacts/${lena.id}/audit`)).json.data?.map((x) => x.action), ['export', 'erase']);
      assert.equal((await api('GET', '/api/contacts?email=lena@example.com')).json.data?.length, 0);
    });

    test('marketing sync sends exactly the consented members of a segment to a Mailchimp-shaped API; unsubscribes flow back; a signed webhook too', async () => {
      const { createServer } = await import('node:http');
      const received: { email_address: string; tags: string[] }[] = [];
      let calls = 0;
      const hooks: { headers: Record<string, unknown>; body: string }[] = [];
      const standIn = createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += String(d)));
        req.on('end', () => {
          if (req.url?.startsWith('/hook')) {
            hooks.push({ headers: req.headers, body });
            res.writeHead(204).end();
            return;
          }
          if (req.headers.authorization !== `Basic ${Buffer.from('stockroom:key-us9').toString('base64')}`) return void res.writeHead(401).end('{}');
          if (req.method === 'GET' && req.url?.startsWith('/3.0/lists/L1/members')) {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ members: [{ email_address: 'mc-gone@example.com', status: 'unsubscribed' }], total_items: 1 }));
            return;
          }
          if (req.method === 'POST' && req.url === '/3.0/lists/L1') {
            if (calls++ === 0) return void res.writeHead(429, { 'retry-after': '0' }).end('{}');
            const b = JSON.parse(body) as { members: { email_address: string; tags: string[] }[]; update_existing: boolean };
            assert.equal(b.update_existing, true);
            received.push(...b.members);
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ new_members: b.members, updated_members: [], errors: [], error_count: 0 }));
            return;
          }
          res.writeHead(404).end('{}');
        });
      });
      await new Promise<void>((r) => standIn.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(standIn.address() as { port: number }).port}`;
      try {
        for (const [email, consent] of [['mc-a@example.com', 'subscribed'], ['mc-b@example.com', 'subscribed'], ['mc-none@example.com', 'none'], ['mc-gone@example.com', 'subscribed']] as const) {
          assert.equal((await api('POST', '/api/contacts', { email, tags: ['newsletter'], consent: { status: consent } })).statusCode, 201);
        }
        const seg = (await api('POST', '/api/segments', { name: 'Newsletter', filter: { tags_any: ['newsletter'] } })).json;
        assert.equal(seg.count, 4);
        const conn = await api('POST', '/api/marketing/connections', { kind: 'mailchimp', name: 'Mailchimp', api_key: 'key-us9', list_id: 'L1', base_url: base });
        assert.equal(conn.statusCode, 201, conn.body);
        assert.equal(conn.json.secret, undefined, 'the API key is never shown back');
        const run = await api('POST', `/api/marketing/connections/${conn.json.id}/sync`, { segment_id: seg.id });
        assert.equal(run.statusCode, 202);
        await work();
        await work();
        const done = (await api('GET', `/api/marketing/runs/${run.json.id}`)).json;
        assert.equal(done.status, 'succeeded', JSON.stringify(done));
        assert.deepEqual(received.map((m) => m.email_address).sort(), ['mc-a@example.com', 'mc-b@example.com'], 'exactly the consented members; the one who left on the platform is not sent again');
        assert.deepEqual(received[0]?.tags, ['newsletter']);
        const report = done.report as { sent: number; skipped_without_consent: number; unsubscribed_back: number };
        assert.deepEqual([report.sent, report.skipped_without_consent, report.unsubscribed_back], [2, 2, 1]);
        const gone = (await api('GET', '/api/contacts?email=mc-gone@example.com')).json.data?.[0] as { consent: { status: string; source: string } };
        assert.equal(gone.consent.status, 'unsubscribed');

        const hook = await api('POST', '/api/marketing/connections', { kind: 'webhook', name: 'CDP', url: `${base}/hook` });
        const secret = hook.json.secret as string;
        assert.match(secret, /^whsec_/);
        await api('POST', `/api/marketing/connections/${hook.json.id}/sync`, { segment_id: seg.id });
        await work();
        assert.equal(hooks.length, 1);
        const { Webhook } = await import('standardwebhooks');
        const verified = new Webhook(secret).verify(hooks[0]!.body, hooks[0]!.headers as Record<string, string>) as { members: { email: string }[] };
        assert.deepEqual(verified.members.map((m) => m.email).sort(), ['mc-a@example.com', 'mc-b@example.com']);
        assert.equal(problemOf(await api('POST', '/api/marketing/connections', { kind: 'mailchimp', name: 'x', api_key: 'nodc', list_id: 'L' })).code, 'invalid_connection');
      } finally {
        await new Promise<void>((r) => standIn.close(() => r()));
      }
    });

    test('abandoned-cart recovery: one reminder with a link back and a one-click unsubscribe, only with consent; logged; recovered revenue reported', async () => {
      const shopPatch = await api('PATCH', '/api/shop', { cart_reminder_hours: 1, storefront_url: 'https://shop.example.com/cart' });
      assert.equal(shopPatch.statusCode, 200, shopPatch.body);
      const who = (await api('POST', '/api/contacts', { email: 'cart@example.com', consent: { status: 'subscribed', source: 'checkout box' } })).json;
      const cart = await call(t.app, { method: 'POST', url: '/api/carts', pk: shop.pk, body: { email: 'cart@example.com', lines: [{ variant_id: cat.v.MUG, quantity: 2 }] } });
      const stranger = await call(t.app, { method: 'POST', url: '/api/carts', pk: shop.pk, body: { email: 'nocons@example.com', lines: [{ variant_id: cat.v.MUG, quantity: 1 }] } });
      const fresh = await call(t.app, { method: 'POST', url: '/api/carts', pk: shop.pk, body: { email: 'cart@example.com', lines: [{ variant_id: cat.v.NOTE, quantity: 1 }] } });
      // Two of them were left two hours ago; the third just now (the shop waits an hour).
      const past = new Date(Date.now() - 2 * 3600_000).toISOString();
      await t.db.updateTable('carts').set({ updated_at: past }).where('tenant_id', '=', shop.tenantId).where('id', 'in', [cart.json.id as string, stranger.json.id as string]).execute();
      assert.equal(await remindAbandonedCarts(t.db, systemClock), 1, 'only the one with consent');
      assert.equal(await remindAbandonedCarts(t.db, systemClock), 0, 'one reminder per cart');
      await work();
      const mailDir = join(t.config.dataDir, 'mail');
      // Quoted-printable undone: soft line breaks and =XX escapes.
      const plain = (m: string) => m.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16)));
      const mails = readdirSync(mailDir).map((f) => plain(readFileSync(join(mailDir, f), 'utf8'))).filter((m) => m.includes('To: cart@example.com') && m.includes('left something'));
      assert.equal(mails.length, 1);
      assert.match(mails[0]!, new RegExp(`https://shop\\.example\\.com/cart\\?cart=${cart.json.id as string}`));
      assert.match(mails[0]!, /List-Unsubscribe:\s+<https:\/\/api\.shop\.test\/api\/consent\/unsubscribe\?token=/);
      assert.match(mails[0]!, /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
      const stranger2 = (await api('GET', '/api/contacts?email=nocons@example.com')).json.data?.[0] as { source: string; consent: { status: string } };
      assert.deepEqual([stranger2.source, stranger2.consent.status], ['cart', 'none'], 'known now, not emailed');
      const tl = await api('GET', `/api/contacts/${who.id}/timeline?type=cart.abandoned`);
      assert.equal(tl.json.data?.length, 1);
      // The shopper comes back and orders: recovered revenue.
      const order = await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: cart.json.id, payment: SUCCESS } });
      assert.equal(order.statusCode, 201, order.body);
      await call(t.app, { method: 'POST', url: '/api/orders', pk: shop.pk, body: { cart_id: fresh.json.id, payment: SUCCESS } });
      const day = new Date().toISOString().slice(0, 10);
      const report = await api('GET', `/api/reports/sales?from=${day}&to=${day}`);
      const totals = report.json.totals as { recovered_orders: number; recovered_revenue: number };
      assert.deepEqual([totals.recovered_orders, totals.recovered_revenue], [1, order.json.total]);
    });

    test('GraphQL: contacts with the same filters, a contact’s timeline and scores, segments; same permissions and isolation', async () => {
      const gql = async (query: string, variables: Record<string, unknown>, token: string) => JSON.parse((await call(t.app, { method: 'POST', url: '/graphql', token, body: { query, variables } })).body) as { data: Record<string, unknown> | null; errors?: { extensions: { code: string } }[] };
      const r = await gql('query($f: ContactFilterInput) { contacts(first: 10, filter: $f) { nodes { email stage orderCount consent { status } scores { rfm } timeline(first: 5) { nodes { type } } } } }', { f: { minOrders: 2, consent: ['subscribed'] } }, shop.token);
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      const nodes = (r.data?.contacts as { nodes: { email: string; stage: string; timeline: { nodes: { type: string }[] } }[] }).nodes;
      assert.ok(nodes.length >= 1);
      assert.ok(nodes.every((n) => n.stage === 'repeat'));
      assert.ok(nodes[0]!.timeline.nodes.length > 0);
      const created = await gql('mutation { contactCreate(input: { email: "gql-lead@example.com", tags: ["Webinar"], consent: { status: subscribed } }) { id stage tags } }', {}, shop.token);
      assert.deepEqual((created.data?.contactCreate as { stage: string; tags: string[] }).tags, ['webinar']);
      const id = (created.data?.contactCreate as { id: string }).id;
      const note = await gql('mutation($id: ID!) { contactNoteAdd(contactId: $id, body: "Met at the webinar") { type summary } }', { id }, shop.token);
      assert.deepEqual(note.data?.contactNoteAdd, { type: 'note', summary: 'Met at the webinar' });
      const seg = await gql('mutation { segmentCreate(name: "Webinar people", filter: { tagsAny: ["webinar"] }) { id count members { nodes { email } } } }', {}, shop.token);
      assert.deepEqual((seg.data?.segmentCreate as { members: { nodes: { email: string }[] } }).members.nodes.map((m) => m.email), ['gql-lead@example.com']);
      other.token = (await login(t.app, other.slug, other.email)).json.access_token as string;
      assert.equal((await gql('query($id: ID!) { contact(id: $id) { id } }', { id }, other.token)).errors?.[0]?.extensions.code, 'resource_not_found');
      assert.deepEqual((await gql('{ contacts { nodes { id } } }', {}, other.token)).data?.contacts, { nodes: [] });
      const bad = await gql('{ contacts(filter: { custom: [{ key: "vip_level", op: "like", value: "g" }] }) { nodes { id } } }', {}, shop.token);
      assert.equal(bad.errors?.[0]?.extensions.code, 'invalid_filter');
    });

    test('another shop sees none of it; staff without crm permissions are refused', async () => {
      other.token = (await login(t.app, other.slug, other.email)).json.access_token as string;
      const mine = (await api('GET', '/api/contacts?limit=100')).json.data ?? [];
      assert.ok(mine.length > 3);
      const id = mine[0]!.id as string;
      for (const [m, url, body] of [
        ['GET', `/api/contacts/${id}`],
        ['PATCH', `/api/contacts/${id}`, { first_name: 'X' }],
        ['GET', `/api/contacts/${id}/timeline`],
        ['POST', `/api/contacts/${id}/notes`, { body: 'x' }],
        ['GET', `/api/contacts/${id}/export`],
        ['POST', `/api/contacts/${id}/erase`],
        ['GET', `/api/contacts/${id}/scores`],
      ] as const) {
        assert.equal(problemOf(await api(m, url, body, other.token)).status, 404, `${m} ${url}`);
      }
      assert.deepEqual((await api('GET', '/api/contacts', undefined, other.token)).json.data, []);
      assert.deepEqual((await api('GET', '/api/segments', undefined, other.token)).json.data, []);
      const role = await api('POST', '/api/roles', { name: 'No CRM', permissions: ['orders:read'] });
      await api('POST', '/api/users', { email: 'nocrm@example.com', name: 'N', password: PASSWORD, role_id: role.json.id });
      const nocrm = (await login(t.app, shop.slug, 'nocrm@example.com')).json.access_token as string;
      assert.equal(problemOf(await api('GET', '/api/contacts', undefined, nocrm)).code, 'permission_denied');
      const viaGraphql = JSON.parse((await call(t.app, { method: 'POST', url: '/graphql', token: nocrm, body: { query: '{ contacts { nodes { id } } }' } })).body) as { errors?: { extensions: { code: string } }[] };
      assert.equal(viaGraphql.errors?.[0]?.extensions.code, 'permission_denied', 'the same policy over GraphQL');
      const clerkRole = await api('POST', '/api/roles', { name: 'CRM reader', permissions: ['crm:read'] });
      await api('POST', '/api/users', { email: 'crmread@example.com', name: 'R', password: PASSWORD, role_id: clerkRole.json.id });
      const reader = (await login(t.app, shop.slug, 'crmread@example.com')).json.access_token as string;
      assert.equal((await api('GET', '/api/contacts', undefined, reader)).statusCode, 200);
      assert.equal(problemOf(await api('POST', '/api/contacts', { email: 'z@example.com' }, reader)).code, 'permission_denied');
    });
  });
}
