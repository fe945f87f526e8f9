import type { LogFn } from 'pino';

/**
 * The logger the core writes to: pino's methods, nothing of a transport. Fastify's request and app loggers are
 * one; so is a plain pino logger in `stockroom worker`.
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}
