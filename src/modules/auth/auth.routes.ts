import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { Body, Email, NoContent, Password, TokenPairSchema } from '../../http/schemas.ts';
import { confirmReset, requestReset } from '../../workflows/password-reset.ts';
import { unauthenticated } from '../../lib/errors.ts';
import { LoginBody, LogoutBody, MeSchema, RefreshBody } from './auth.schemas.ts';

export const authRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  // Token responses are credentials: never stored for idempotent replay.
  app.post(
    '/api/auth/login',
    {
      config: { access: access.public(), idempotent: false },
      schema: { tags: ['auth'], summary: 'Staff login: an access token (≤ 15 min) and a refresh token', operationId: 'login', body: LoginBody, response: { 200: TokenPairSchema } },
    },
    async (req) => deps.auth.loginStaff(req.body, req.ip),
  );
  app.post(
    '/api/auth/refresh',
    {
      config: { access: access.public(), idempotent: false },
      schema: {
        tags: ['auth'],
        summary: 'Trade a refresh token for a new pair; a spent token presented again revokes its whole session',
        operationId: 'refresh',
        body: RefreshBody,
        response: { 200: TokenPairSchema },
      },
    },
    async (req) => deps.auth.refresh(req.body.refresh_token),
  );
  app.post(
    '/api/auth/logout',
    {
      config: { access: access.public() },
      schema: {
        tags: ['auth'],
        summary: 'End a session: the one of the refresh token in the body, or of the access token in Authorization',
        operationId: 'logout',
        body: LogoutBody,
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      let target: { tenantId: string; sessionId: string } | null = null;
      if (req.body.refresh_token) {
        target = await deps.auth.sessionOfRefreshToken(req.body.refresh_token);
        if (!target) throw unauthenticated('invalid_refresh_token', 'The refresh token is invalid');
      } else {
        const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
        if (!m) throw unauthenticated('authentication_required', 'Send the refresh token in the body or the access token as Authorization: Bearer');
        const p = await deps.auth.principalFromAccessToken(m[1] as string);
        if (p.kind === 'user' || p.kind === 'customer') target = { tenantId: p.tenantId, sessionId: p.sessionId };
      }
      if (target) await deps.auth.logout(target.tenantId, target.sessionId);
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/api/auth/password-reset',
    {
      config: { access: access.public() },
      schema: { tags: ['auth'], summary: 'Staff: email a single-use reset code (the answer is the same whether or not the account exists)', operationId: 'requestPasswordReset', body: Body({ shop: Type.String({ minLength: 1, maxLength: 64 }), email: Email }, 'PasswordResetRequest'), response: { 202: Type.Object({ accepted: Type.Boolean() }) } },
    },
    async (req, reply) => {
      await requestReset(deps.db, deps.clock, { subjectType: 'user', shop: req.body.shop, email: req.body.email });
      return reply.code(202).send({ accepted: true });
    },
  );
  app.post(
    '/api/auth/password-reset/confirm',
    {
      config: { access: access.public(), idempotent: false },
      schema: { tags: ['auth'], summary: 'Set a new password with an emailed reset code (staff or customer); ends every session of the account', operationId: 'confirmPasswordReset', body: Body({ code: Type.String({ minLength: 1, maxLength: 200 }), password: Password }, 'PasswordResetConfirm'), response: { 204: NoContent } },
    },
    async (req, reply) => {
      await confirmReset(deps.db, deps.clock, req.body.code, req.body.password, (db, tenantId, subjectId) => deps.auth.revokeAllSessions(db, tenantId, subjectId, 'password_reset'));
      return reply.code(204).send(null);
    },
  );
  app.get('/api/auth/me', { config: { access: access.anyTenant() }, schema: { tags: ['auth'], summary: 'Who the credential belongs to', operationId: 'me', response: { 200: MeSchema } } }, async (req) => {
    const p = deps.ctx(req).principal;
    switch (p.kind) {
      case 'user':
        return { kind: p.kind, tenant_id: p.tenantId, id: p.userId, permissions: [...p.permissions].sort() };
      case 'api_key':
        return { kind: p.kind, tenant_id: p.tenantId, id: p.keyId, permissions: [...p.permissions].sort() };
      case 'customer':
        return { kind: p.kind, tenant_id: p.tenantId, id: p.customerId, permissions: [] };
      case 'shopper':
        return { kind: p.kind, tenant_id: p.tenantId, id: p.keyId, permissions: [] };
    }
  });
  app.get(
    '/api/auth/jwks',
    {
      config: { access: access.public() },
      schema: { tags: ['auth'], summary: 'Public keys that verify access tokens (JWKS)', operationId: 'jwks', response: { 200: Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) }) } },
    },
    async () => deps.tokens.jwks(),
  );
};
