/** The carts module's public face: carts and their lines, what checkout and the reminder job read of them. */
export * from './carts.service.ts';
