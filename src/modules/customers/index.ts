/** The customers module's public face: customer accounts and what login and password reset need of them. */
export * from './customers.service.ts';
