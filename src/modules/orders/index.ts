/** The orders module's public face: orders, their lines, events, fulfilments and the status machine. */
export * from './orders.service.ts';
export * from './state.ts';
