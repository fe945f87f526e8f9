import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Stripe API, enough for PaymentIntents (create, capture, cancel) and refunds. The real
 * `stripe` SDK talks to it over HTTP, so the provider code under test is the production code path.
 */
export interface FakeStripe {
  url: string;
  requests: { method: string; path: string; form: URLSearchParams; idempotencyKey: string | undefined }[];
  intents: Map<string, Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const intents = new Map<string, Record<string, unknown>>();
  const requests: FakeStripe['requests'] = [];
  let seq = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const path = (req.url ?? '').split('?')[0] ?? '';
      requests.push({ method: req.method ?? '', path, form, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${++seq}` });
        res.end(JSON.stringify(json));
      };
      if (req.headers.authorization !== 'Bearer sk_test_fake') return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
      let m: RegExpExecArray | null;
      if (req.method === 'POST' && path === '/v1/payment_intents') {
        const id = `pi_fake_${++seq}`;
        const metadata: Record<string, string> = {};
        for (const [k, v] of form) {
          const mm = /^metadata\[(.+)\]$/.exec(k);
          if (mm) metadata[mm[1] as string] = v;
        }
        const pi = { id, object: 'payment_intent', amount: Number(form.get('amount')), currency: form.get('currency'), capture_method: form.get('capture_method'), status: 'requires_payment_method', client_secret: `${id}_secret_x`, amount_received: 0, metadata };
        intents.set(id, pi);
        return send(200, pi);
      }
      if (req.method === 'POST' && (m = /^\/v1\/payment_intents\/([^/]+)\/(capture|cancel)$/.exec(path))) {
        const pi = intents.get(m[1] as string);
        if (!pi) return send(404, { error: { type: 'invalid_request_error', message: 'No such payment_intent' } });
        if (m[2] === 'capture') Object.assign(pi, { status: 'succeeded', amount_received: pi.amount });
        else Object.assign(pi, { status: 'canceled' });
        return send(200, pi);
      }
      if (req.method === 'POST' && path === '/v1/refunds') {
        return send(200, { id: `re_fake_${++seq}`, object: 'refund', amount: Number(form.get('amount')), payment_intent: form.get('payment_intent'), status: 'succeeded' });
      }
      return send(404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${path})` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, requests, intents, close: () => new Promise((r) => server.close(() => r())) };
}
