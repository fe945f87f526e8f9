/** The bridge module's public face: domain events to NATS JetStream or RabbitMQ, and commands from them. */
export * from './bridge.service.ts';
export * from './broker.ts';
