/** The reports module's public face: sales reports, daily figures and exports. */
export * from './exports.ts';
export * from './reports.service.ts';
