import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Stripe API, enough for PaymentIntents (create, capture, cancel) and refunds. The real
 * `stripe` SDK talks to it over HTTP, so the provider code under test is the production code path.
 *
 * Like Stripe, it remembers the answer to each Idempotency-Key and replays it. Tests steer it:
 *   delayMs   every answer waits this long (a slow provider);
 *   hold      answers wait until `release()` (a provider that hangs while the test looks around);
 *   fail      the next N requests get this HTTP status (500, 503 …) — after the request took effect when
 *             `failAfterEffect` is set (the answer is lost, the intent or refund exists).
 */
export interface FakeStripe {
  url: string;
  requests: { method: string; path: string; form: URLSearchParams; idempotencyKey: string | undefined }[];
  intents: Map<string, Record<string, unknown>>;
  refunds: Map<string, Record<string, unknown>>;
  behaviour: { delayMs: number; hold: boolean; fail: { status: number; count: number; afterEffect: boolean } | null; declineRefunds: boolean };
  /** Answers every held request. */
  release(): void;
  /** Requests waiting for release(). */
  held(): number;
  close(): Promise<void>;
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const intents = new Map<string, Record<string, unknown>>();
  const refunds = new Map<string, Record<string, unknown>>();
  const requests: FakeStripe['requests'] = [];
  const replies = new Map<string, { status: number; json: unknown }>();
  const waiting: (() => void)[] = [];
  const behaviour: FakeStripe['behaviour'] = { delayMs: 0, hold: false, fail: null, declineRefunds: false };
  let seq = 0;

  const handle = (method: string, path: string, form: URLSearchParams): { status: number; json: unknown } => {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/payment_intents') {
      const id = `pi_fake_${++seq}`;
      const metadata: Record<string, string> = {};
      for (const [k, v] of form) {
        const mm = /^metadata\[(.+)\]$/.exec(k);
        if (mm) metadata[mm[1] as string] = v;
      }
      const pi = { id, object: 'payment_intent', amount: Number(form.get('amount')), currency: form.get('currency'), capture_method: form.get('capture_method'), status: 'requires_payment_method', client_secret: `${id}_secret_x`, amount_received: 0, metadata };
      intents.set(id, pi);
      return { status: 200, json: pi };
    }
    if (method === 'POST' && (m = /^\/v1\/payment_intents\/([^/]+)\/(capture|cancel)$/.exec(path))) {
      const pi = intents.get(m[1] as string);
      if (!pi) return { status: 404, json: { error: { type: 'invalid_request_error', message: 'No such payment_intent' } } };
      if (m[2] === 'capture') Object.assign(pi, { status: 'succeeded', amount_received: pi.amount });
      else Object.assign(pi, { status: 'canceled' });
      return { status: 200, json: pi };
    }
    if (method === 'POST' && path === '/v1/refunds') {
      if (behaviour.declineRefunds) return { status: 400, json: { error: { type: 'invalid_request_error', code: 'balance_insufficient', message: 'Insufficient balance for the refund' } } };
      const r = { id: `re_fake_${++seq}`, object: 'refund', amount: Number(form.get('amount')), payment_intent: form.get('payment_intent'), status: 'succeeded' };
      refunds.set(r.id, r);
      return { status: 200, json: r };
    }
    return { status: 404, json: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` } } };
  };

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const path = (req.url ?? '').split('?')[0] ?? '';
      const key = req.headers['idempotency-key'] as string | undefined;
      requests.push({ method: req.method ?? '', path, form, idempotencyKey: key });
      const send = (status: number, json: unknown) => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${++seq}`, ...(key && status < 500 ? { 'idempotency-key': key } : {}) });
        res.end(JSON.stringify(json));
      };
      const answer = () => {
        if (req.headers.authorization !== 'Bearer sk_test_fake') return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
        const fail = behaviour.fail && behaviour.fail.count > 0 ? behaviour.fail : null;
        if (fail) fail.count--;
        if (fail && !fail.afterEffect) return send(fail.status, { error: { type: 'api_error', message: 'Something went wrong on our side' } });
        const stored = key ? replies.get(`${req.method} ${path} ${key}`) : undefined;
        const out = stored ?? handle(req.method ?? '', path, form);
        if (key && !stored && out.status < 500) replies.set(`${req.method} ${path} ${key}`, out);
        if (fail) return send(fail.status, { error: { type: 'api_error', message: 'Something went wrong on our side' } });
        return send(out.status, out.json);
      };
      const later = () => (behaviour.delayMs ? setTimeout(answer, behaviour.delayMs) : answer());
      if (behaviour.hold) waiting.push(later);
      else later();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    intents,
    refunds,
    behaviour,
    release() {
      behaviour.hold = false;
      for (const w of waiting.splice(0)) w();
    },
    held: () => waiting.length,
    close: () =>
      new Promise((r) => {
        for (const w of waiting.splice(0)) w();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
