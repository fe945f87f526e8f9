import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { problemResponse } from '../../http/problem.ts';
import { ifMatchVersion, setEtag } from '../../http/etag.ts';
import { IdParams, NoContent, PageOnlyQuery, pageRequest } from '../../http/schemas.ts';
import { createRole, createUser, deleteRole, deleteUser, getRole, getUser, listRoles, listUsers, updateRole, updateUser } from './staff.service.ts';
import { RoleCreate, RoleList, RolePatch, RoleSchema, UserCreate, UserListQuery, UserPage, UserPatch, UserSchema } from './staff.schemas.ts';

export const staffRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  // --- roles
  app.get('/api/roles', { config: { access: access.staff('roles:read') }, schema: { tags: ['staff'], summary: 'List roles', operationId: 'listRoles', querystring: PageOnlyQuery, response: { 200: RoleList } } }, async (req) =>
    listRoles(deps.ctx(req), pageRequest(req.query)),
  );
  app.post(
    '/api/roles',
    { config: { access: access.staff('roles:write') }, schema: { tags: ['staff'], summary: 'Create a custom role', operationId: 'createRole', body: RoleCreate, response: { 201: RoleSchema } } },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => createRole(ctx, req.body))),
  );
  app.get('/api/roles/:id', { config: { access: access.staff('roles:read') }, schema: { tags: ['staff'], summary: 'Read a role', operationId: 'getRole', params: IdParams, response: { 200: RoleSchema } } }, async (req) =>
    getRole(deps.ctx(req), req.params.id),
  );
  app.patch(
    '/api/roles/:id',
    { config: { access: access.staff('roles:write') }, schema: { tags: ['staff'], summary: 'Change a custom role', operationId: 'updateRole', params: IdParams, body: RolePatch, response: { 200: RoleSchema } } },
    async (req) => deps.tx(req, (ctx) => updateRole(ctx, req.params.id, req.body)),
  );
  app.delete(
    '/api/roles/:id',
    { config: { access: access.staff('roles:write') }, schema: { tags: ['staff'], summary: 'Delete a custom role no user has', operationId: 'deleteRole', params: IdParams, response: { 204: NoContent } } },
    async (req, reply) => {
      // One transaction: the "no user has it" check and the delete cannot be split by a new assignment.
      await deps.tx(req, (ctx) => deleteRole(ctx, req.params.id));
      return reply.code(204).send(null);
    },
  );

  // --- staff users
  app.get(
    '/api/users',
    { config: { access: access.staff('users:read') }, schema: { tags: ['staff'], summary: 'List staff users', operationId: 'listUsers', querystring: UserListQuery, response: { 200: UserPage } } },
    async (req) => listUsers(deps.ctx(req), { limit: req.query.limit ?? 20, cursor: req.query.cursor }),
  );
  app.post(
    '/api/users',
    { config: { access: access.staff('users:write') }, schema: { tags: ['staff'], summary: 'Add a staff user', operationId: 'createUser', body: UserCreate, response: { 201: UserSchema } } },
    async (req, reply) => {
      const user = await deps.tx(req, (ctx) => createUser(ctx, req.body));
      setEtag(reply, user.id, user.version);
      return reply.code(201).header('location', `/api/users/${user.id}`).send(user);
    },
  );
  app.get('/api/users/:id', { config: { access: access.staff('users:read') }, schema: { tags: ['staff'], summary: 'Read a staff user', operationId: 'getUser', params: IdParams, response: { 200: UserSchema } } }, async (req, reply) => {
    const user = await getUser(deps.ctx(req), req.params.id);
    setEtag(reply, user.id, user.version);
    return user;
  });
  app.patch(
    '/api/users/:id',
    {
      config: { access: access.staff('users:write') },
      schema: { tags: ['staff'], summary: 'Change a staff user (send If-Match with the ETag you read)', operationId: 'updateUser', params: IdParams, body: UserPatch, response: { 200: UserSchema, 412: problemResponse('If-Match names an old version') } },
    },
    async (req, reply) => {
      const expected = ifMatchVersion(req, req.params.id);
      // One transaction: a new password or a disabled account ends every session of that user, or nothing changes.
      const user = await deps.tx(req, async (ctx) => {
        const u = await updateUser(ctx, req.params.id, req.body, expected);
        if (req.body.password !== undefined || req.body.status === 'disabled') await deps.auth.revokeAllSessions(ctx.db, ctx.tenantId, u.id, req.body.password !== undefined ? 'password_changed' : 'account_disabled');
        return u;
      });
      setEtag(reply, user.id, user.version);
      return user;
    },
  );
  app.delete(
    '/api/users/:id',
    { config: { access: access.staff('users:write') }, schema: { tags: ['staff'], summary: 'Remove a staff user', operationId: 'deleteUser', params: IdParams, response: { 204: NoContent } } },
    async (req, reply) => {
      // One transaction: "another owner remains" and the delete go together, so two removals cannot leave none.
      await deps.tx(req, (ctx) => deleteUser(ctx, req.params.id));
      return reply.code(204).send(null);
    },
  );
};
