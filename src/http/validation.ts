import type { FastifyInstance, FastifySchema } from 'fastify';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { Ajv, type Options } from 'ajv';
import addFormatsImport from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsImport as unknown as { default?: typeof addFormatsImport }).default ?? addFormatsImport) as unknown as (a: Ajv) => Ajv;

/**
 * Two validators: bodies are validated strictly (no type coercion, unknown fields rejected — every body
 * schema sets additionalProperties: false); query strings, params and headers are text on the wire, so
 * they are coerced to the declared types.
 */
const EMPTY_BODY = { type: 'object', properties: {}, additionalProperties: false };
const WRITES = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Schemas compile on first use, not at start: a few hundred routes' validators and serializers took most of a
 * second of every start, and most processes serve a fraction of the routes. `compileAllSchemas()` compiles what is
 * pending (the OpenAPI test calls it, so a broken schema still fails CI rather than a request).
 */
const pending = new Set<() => unknown>();

function lazy<F extends (...a: never[]) => unknown>(compile: () => F): F & { errors?: unknown } {
  let fn: (F & { errors?: unknown }) | null = null;
  const force = () => (fn ??= compile() as F & { errors?: unknown });
  pending.add(force);
  const wrapper = ((...a: Parameters<F>) => {
    pending.delete(force);
    const f = force();
    const r = f(...a);
    // Fastify reads a failed validation's errors from the function it was given.
    wrapper.errors = f.errors;
    return r;
  }) as F & { errors?: unknown };
  return wrapper;
}

export function compileAllSchemas(): number {
  const all = [...pending];
  pending.clear();
  for (const force of all) force();
  return all.length;
}

/** Fastify's own response serializer factory (fast-json-stringify), compiling each schema on first use. */
export function lazySerializerFactory(externalSchemas: unknown, serializerOpts: unknown) {
  const compile = (SerializerSelector() as (e: unknown, o: unknown) => (route: unknown) => (data: unknown) => string)(externalSchemas, serializerOpts);
  return (route: unknown) => lazy(() => compile(route));
}

export function registerValidation(app: FastifyInstance): void {
  // The API speaks JSON only: a text/plain body (even one holding JSON) is 415, like any other media type.
  app.removeContentTypeParser('text/plain');
  // A write route without a body schema takes no body: anything sent is an unknown field.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => WRITES.has(m)) || route.url.startsWith('/docs')) return;
    const schema = (route.schema ??= {}) as Record<string, unknown>;
    schema.body ??= EMPTY_BODY;
  });
  // No body at all reads as `{}`, so bodies whose fields are all optional may be left out, and a
  // missing required field is reported by name rather than as "must be object".
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && WRITES.has(req.method)) req.body = {};
  });

  const base: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false, allowUnionTypes: true };
  const body = addFormats(new Ajv({ ...base, coerceTypes: false }));
  const other = addFormats(new Ajv({ ...base, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) => lazy(() => (httpPart === 'body' ? body : other).compile(schema as FastifySchema & object)));
}
