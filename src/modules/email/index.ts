/** The email module's public face: the mailer, the templates, sending once, and the outbox consumer. */
export * from './email.service.ts';
export * from './mailer.ts';
export * from './templates.ts';
