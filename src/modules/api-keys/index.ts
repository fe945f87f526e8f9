/** The API keys module's public face: secret and publishable keys of a shop. */
export * from './api-keys.service.ts';
