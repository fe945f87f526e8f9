/**
 * The realtime module's public face: channel names and who may listen (channels.ts), the event consumer that
 * writes each channel's history, recovery of what a client missed, and the live dashboard's figures. The
 * transports (WebSocket, SSE, GraphQL subscriptions) live in src/realtime/ and call only this.
 */
export * from './channels.ts';
export { realtimeConsumer } from './consumer.ts';
export * from './realtime.service.ts';
