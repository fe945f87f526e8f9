/**
 * The imports module's public face: product and contact imports from CSV or NDJSON — the upload (kept in chunks),
 * the run (a batch per transaction, a checkpoint, a dry run), the error report.
 */
export * from './imports.service.ts';
export { MAX_LINE_BYTES } from './readers.ts';
