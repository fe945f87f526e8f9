/** The inventory module's public face: locations, stock levels, the ledger, reservations. */
export * from './inventory.service.ts';
