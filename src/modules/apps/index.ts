/** The apps module's public face: the apps a shop puts behind Stockroom's gateway, and how proxied requests are signed. */
export * from './apps.service.ts';
