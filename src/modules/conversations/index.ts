/** The conversations module's public face: an order's chat between its customer and the shop. */
export * from './conversations.service.ts';
