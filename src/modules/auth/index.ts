/** The auth module's public face: logins, tokens and refresh, the login throttle, password-reset codes. */
export * from './auth.service.ts';
export * from './throttle.ts';
export * from './tokens.ts';
export { passwordResetsRepository } from './password-resets.repository.ts';
