import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, engines, startApp, type TestApp } from './helpers.ts';
import { compileAllSchemas } from '../src/http/validation.ts';

const engine = engines()[0]!; // the document does not depend on the database

describe('OpenAPI', () => {
  let t: TestApp;
  const registered = new Set<string>();
  before(async () => {
    t = await startApp(engine);
    for (const r of t.app.registeredRoutes) registered.add(r);
  });
  after(() => t.close());

  test('every route’s validators and serializers compile (they compile lazily at run time)', () => {
    assert.ok(compileAllSchemas() > 100, 'the schemas of every route were pending');
    assert.equal(compileAllSchemas(), 0);
  });

  test('GET /api/openapi.json is an OpenAPI 3.1 document', async () => {
    const r = await call(t.app, { url: '/api/openapi.json' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json.openapi, '3.1.0');
  });

  test('the routes the server registers and the operations the document lists are the same set', async () => {
    const doc = (await call(t.app, { url: '/api/openapi.json' })).json as unknown as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1').replace('{*}', '*')}`);
    }
    const served = new Set([...registered].filter((r) => !r.startsWith('HEAD ') && !r.startsWith('OPTIONS ') && !r.includes(' /docs') && !r.includes(' /admin')));
    assert.ok(served.size > 20, `found ${served.size} routes`);
    assert.deepEqual([...served].sort(), [...documented].sort());
  });

  test('every operation has an id, a summary, a success response and problem responses', async () => {
    const doc = (await call(t.app, { url: '/api/openapi.json' })).json as unknown as { paths: Record<string, Record<string, { operationId?: string; summary?: string; responses: Record<string, { content?: Record<string, unknown> }> }>> };
    const ids = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(op.operationId && !ids.has(op.operationId), `${where}: unique operationId`);
        ids.add(op.operationId);
        assert.ok(op.summary, `${where}: summary`);
        // The WebSocket endpoint's success is the upgrade (101).
        assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2') || (s === '101' && path === '/api/realtime')), `${where}: a 2xx response`);
        for (const s of ['400', '401', '404', '429', '500']) {
          assert.ok(op.responses[s]?.content?.['application/problem+json'], `${where}: ${s} problem response`);
        }
      }
    }
  });

  test('generated clients get what they need: header parameters, response headers, enums, descriptions, tags', async () => {
    type Op = { parameters?: { name: string; in: string }[]; responses: Record<string, { description: string; headers?: Record<string, unknown> }>; tags?: string[] };
    const doc = (await call(t.app, { url: '/api/openapi.json' })).json as unknown as { paths: Record<string, Record<string, Op>>; tags: { name: string; description: string }[] };
    const op = (m: string, p: string) => doc.paths[p]![m]!;
    const params = (o: Op) => (o.parameters ?? []).filter((x) => x.in === 'header').map((x) => x.name);
    assert.ok(params(op('post', '/api/orders')).includes('Idempotency-Key'));
    assert.ok(params(op('patch', '/api/shop')).includes('If-Match'));
    assert.ok(params(op('patch', '/api/customers/{id}')).includes('If-Match'));
    assert.ok(params(op('get', '/api/products/{id}')).includes('If-None-Match'));
    assert.deepEqual(op('post', '/api/orders').responses['201']!.headers!.Location, { $ref: '#/components/headers/Location' });
    assert.ok(op('post', '/api/orders').responses['201']!.headers!['Idempotent-Replayed']);
    assert.ok(op('get', '/api/shop').responses['200']!.headers!.ETag);
    assert.ok(op('post', '/api/orders').responses['503']!.headers!['Retry-After']);
    assert.ok(op('get', '/api/orders').responses['429']!.headers!['Retry-After']);
    let defaults = 0;
    for (const ops of Object.values(doc.paths)) for (const o of Object.values(ops)) for (const [s, r] of Object.entries(o.responses)) if (s.startsWith('2') && r.description === 'Default Response') defaults++;
    assert.equal(defaults, 0, 'every success response is described');
    const used = new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops).flatMap((o) => o.tags ?? [])));
    assert.deepEqual(doc.tags.map((x) => x.name).sort(), [...used].sort(), 'every tag used is declared');
    assert.ok(doc.tags.every((x) => x.description && x.description !== x.name));
    // Unions of literals are enums, so the reference page offers every value.
    const sort = (op('get', '/api/products').parameters ?? []).find((x) => x.name === 'sort') as unknown as { schema: { enum?: string[]; anyOf?: unknown } } | undefined;
    assert.ok(sort?.schema.enum && sort.schema.enum.length > 1 && !sort.schema.anyOf, JSON.stringify(sort));
    // Request bodies of the main calls carry an example.
    for (const [m, p] of [['post', '/api/orders'], ['post', '/api/carts'], ['post', '/api/auth/login'], ['post', '/api/orders/{id}/refunds']] as const) {
      const media = (op(m, p) as unknown as { requestBody: { content: Record<string, { example?: unknown; examples?: unknown }> } }).requestBody.content['application/json']!;
      assert.ok(media.example ?? media.examples, `${m} ${p} has an example`);
    }
    const text = JSON.stringify(doc);
    const left = /"anyOf":\[\{"(const|type":"string","enum":\["[a-z_]+"\]\})/.exec(text);
    assert.equal(left, null, left ? text.slice(Math.max(0, left.index - 200), left.index + 200) : '');
  });

  test('/docs serves the API reference page', async () => {
    const r = await t.app.inject({ url: '/docs/' });
    const page = r.statusCode === 302 ? await t.app.inject({ url: String(r.headers.location) }) : r;
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /swagger-ui/i);
  });
});
