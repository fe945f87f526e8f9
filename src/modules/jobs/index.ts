/** The jobs module's public face: durable jobs, the worker, schedules and the scheduler. */
export * from './jobs.service.ts';
export * from './jobs.schemas.ts';
export * from './scheduler.ts';
export * from './schedules.service.ts';
export * from './worker.ts';
