import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { EVENT_CONSUMERS, jobHandlers } from '../src/background.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { createMailer } from '../src/modules/email/mailer.ts';
import { Worker } from '../src/modules/jobs/worker.ts';
import { dispatchEvents } from '../src/workflows/dispatch-events.ts';
import { remindAbandonedCarts } from '../src/workflows/emails.ts';
import { PASSWORD, call, createShop, engines, login, problemOf, startApp, type Shop, type TestApp } from './helpers.ts';
import { SUCCESS, seedCatalogue, type Catalogue } from './commerce-helpers.ts';

interface Mail {
  to: string[];
  raw: string;
}

/** Decodes quoted-printable bodies enough to search them. */
const plain = (raw: string) => Buffer.from(raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');

for (const engine of engines()) {
  describe(`email over real SMTP [${engine.name}]`, () => {
    let smtp: SMTPServer;
    const inbox: Mail[] = [];
    let t: TestApp;
    let shop: Shop;
    let cat: Catalogue;
    let worker: Worker;
    const clock = new ManualClock(new Date());
    before(async () => {
      smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, session, cb) {
          let raw = '';
          stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
          stream.on('end', () => {
            inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
            cb();
          });
        },
      });
      await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
      const port = (smtp.server.address() as AddressInfo).port;
      t = await startApp(engine, { clock, env: { SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Shops <shop@stockroom.test>' } });
      shop = await createShop(t.app, 'Mail Shop');
      cat = await seedCatalogue(t.app, shop);
      const mailer = createMailer({ ...t.config.mail, dataDir: t.config.dataDir, log: t.app.log });
      worker = new Worker({ db: t.db, clock, log: t.app.log, handlers: jobHandlers({ gateway: t.app.payments, webhooksAllowPrivate: false, mailer }), queues: { email: 4 } });
    });
    after(async () => {
      await t.close();
      await new Promise<void>((r) => smtp.close(() => r()));
    });

    const work = async () => {
      await dispatchEvents(t.db, clock, EVENT_CONSUMERS);
      await worker.tick();
      await worker.idle();
    };
    const mailTo = (addr: string) => inbox.filter((m) => m.to.includes(addr)).map((m) => plain(m.raw));

    test('an order confirmation and a shipping notification arrive with the right content, once each', async () => {
      const o = await call(t.app, { method: 'POST', url: '/api/orders', token: shop.token, body: { lines: [{ variant_id: cat.v.MUG, quantity: 2 }], email: 'buyer@example.com', payment: SUCCESS } });
      assert.equal(o.statusCode, 201, o.body);
      await work();
      await work();
      let mails = mailTo('buyer@example.com');
      assert.equal(mails.length, 1, 'one confirmation, even after a second run');
      assert.match(mails[0]!, new RegExp(`Subject: Mail Shop: order ${o.json.name} confirmed`));
      assert.match(mails[0]!, /2 × Mug — 24\.00 USD/);
      assert.match(mails[0]!, new RegExp(`Total: ${((o.json.total as number) / 100).toFixed(2)} USD`));
      assert.match(mails[0]!, /From: Mail Shop <shop@stockroom\.test>/);
      const f = await call(t.app, { method: 'POST', url: `/api/orders/${o.json.id}/fulfillments`, token: shop.token, body: { carrier: 'DHL', tracking_number: 'JD0146000038' } });
      assert.equal(f.json.status, 'fulfilled');
      await work();
      mails = mailTo('buyer@example.com');
      assert.equal(mails.length, 2);
      assert.match(mails[1]!, /is on its way/);
      assert.match(mails[1]!, /JD0146000038/);
      assert.match(mails[1]!, /DHL/);
    });

    test('password reset: request, emailed single-use code, new password; unknown accounts get the same answer and no email', async () => {
      const before = inbox.length;
      assert.equal((await call(t.app, { method: 'POST', url: '/api/auth/password-reset', body: { shop: shop.slug, email: 'nobody@example.com' } })).statusCode, 202);
      assert.equal((await call(t.app, { method: 'POST', url: '/api/auth/password-reset', body: { shop: 'no-such-shop', email: shop.email } })).statusCode, 202);
      await work();
      assert.equal(inbox.length, before, 'no email for unknown accounts');

      const oldSession = await login(t.app, shop.slug, shop.email);
      const sentBefore = mailTo(shop.email).length;
      assert.equal((await call(t.app, { method: 'POST', url: '/api/auth/password-reset', body: { shop: shop.slug, email: shop.email.toUpperCase() } })).statusCode, 202);
      assert.equal((await call(t.app, { method: 'POST', url: '/api/auth/password-reset', body: { shop: shop.slug, email: shop.email } })).statusCode, 202);
      await work();
      assert.equal(mailTo(shop.email).length, sentBefore + 1, 'asking twice within ten minutes sends one email');
      const mail = mailTo(shop.email).at(-1)!;
      assert.match(mail, /reset your password/);
      const code = /(pr_[A-Za-z0-9_-]{69})/.exec(mail)?.[1];
      assert.ok(code, 'the code is in the email');
      const stored = await t.db.selectFrom('password_resets').select('token_hash').where('tenant_id', '=', shop.tenantId).execute();
      assert.ok(stored.every((r) => r.token_hash !== code), 'only the hash is stored');
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/auth/password-reset/confirm', body: { code, password: 'short' } })).code, 'weak_password');
      const ok = await call(t.app, { method: 'POST', url: '/api/auth/password-reset/confirm', body: { code, password: 'a brand new passphrase' } });
      assert.equal(ok.statusCode, 204, ok.body);
      assert.equal((await login(t.app, shop.slug, shop.email, 'a brand new passphrase')).statusCode, 200);
      assert.equal(problemOf(await login(t.app, shop.slug, shop.email)).code, 'invalid_credentials');
      assert.equal((await call(t.app, { url: '/api/auth/me', token: oldSession.json.access_token as string })).statusCode, 401, 'old sessions ended');
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/auth/password-reset/confirm', body: { code, password: 'yet another passphrase' } })), { status: 400, code: 'invalid_reset_code' });
      assert.deepEqual(problemOf(await call(t.app, { method: 'POST', url: '/api/auth/password-reset/confirm', body: { code: 'pr_forged', password: 'yet another passphrase' } })), { status: 400, code: 'invalid_reset_code' });
      shop.token = (await login(t.app, shop.slug, shop.email, 'a brand new passphrase')).json.access_token as string;
    });

    test('customers reset through the publishable key; an expired code is refused', async () => {
      await call(t.app, { method: 'POST', url: '/api/customers/register', pk: shop.pk, body: { email: 'cust@example.com', password: PASSWORD } });
      assert.equal((await call(t.app, { method: 'POST', url: '/api/customers/password-reset', pk: shop.pk, body: { email: 'cust@example.com' } })).statusCode, 202);
      await work();
      const code = /(pr_[A-Za-z0-9_-]{69})/.exec(mailTo('cust@example.com').at(-1)!)?.[1];
      assert.ok(code);
      clock.advance(61 * 60_000);
      assert.equal(problemOf(await call(t.app, { method: 'POST', url: '/api/auth/password-reset/confirm', body: { code, password: 'new customer passphrase' } })).code, 'invalid_reset_code');
      shop.token = (await login(t.app, shop.slug, shop.email, 'a brand new passphrase')).json.access_token as string;
    });

    test('an abandoned cart of a shopper who consented to marketing gets one reminder after a day', async () => {
      const consent = await call(t.app, { method: 'POST', url: '/api/contacts', token: shop.token, body: { email: 'forgetful@example.com', consent: { status: 'subscribed', source: 'newsletter' } } });
      assert.equal(consent.statusCode, 201, consent.body);
      const cart = await call(t.app, { method: 'POST', url: '/api/carts', pk: shop.pk, body: { email: 'forgetful@example.com', lines: [{ variant_id: cat.v.LAMP, quantity: 1 }] } });
      assert.equal(await remindAbandonedCarts(t.db, clock), 0, 'not yet');
      clock.advance(25 * 3600_000);
      assert.equal(await remindAbandonedCarts(t.db, clock), 1);
      await work();
      const mails = mailTo('forgetful@example.com');
      assert.equal(mails.length, 1);
      assert.match(mails[0]!, /you left something in your cart/);
      assert.match(mails[0]!, /Lamp/);
      assert.match(mails[0]!, new RegExp(String(cart.json.id)));
      assert.equal(await remindAbandonedCarts(t.db, clock), 0, 'one reminder per cart');
    });
  });
}

describe('email without SMTP (embedded mode)', () => {
  test('each email is written as an .eml file under DATA_DIR/mail', async () => {
    const t = await startApp(engines()[0]!);
    try {
      const mailer = createMailer({ smtpUrl: null, from: 'Stockroom <no-reply@stockroom.localhost>', dataDir: t.config.dataDir, log: t.app.log });
      const r = await mailer.send({ to: 'dev@example.com', subject: 'Hello from the outbox', text: 'plain body', html: '<p>html body</p>', fromName: 'Demo Shop' });
      assert.ok(r.file);
      const files = readdirSync(join(t.config.dataDir, 'mail'));
      assert.equal(files.length, 1);
      const eml = readFileSync(join(t.config.dataDir, 'mail', files[0]!), 'utf8');
      assert.match(eml, /Subject: Hello from the outbox/);
      assert.match(eml, /To: dev@example\.com/);
      assert.match(eml, /From: Demo Shop <no-reply@stockroom\.localhost>/);
    } finally {
      await t.close();
    }
  });
});
