import type { FastifyInstance, FastifySchema } from 'fastify';
import { Ajv, type Options } from 'ajv';
import addFormatsImport from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsImport as unknown as { default?: typeof addFormatsImport }).default ?? addFormatsImport) as unknown as (a: Ajv) => Ajv;

/**
 * Two validators: bodies are validated strictly (no type coercion, unknown fields rejected — every body
 * schema sets additionalProperties: false); query strings, params and headers are text on the wire, so
 * they are coerced to the declared types.
 */
export function registerValidation(app: FastifyInstance): void {
  const base: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false, allowUnionTypes: true };
  const body = addFormats(new Ajv({ ...base, coerceTypes: false }));
  const other = addFormats(new Ajv({ ...base, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : other).compile(schema as FastifySchema & object));
}
