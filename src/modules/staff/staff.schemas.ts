import Type from 'typebox';
import { Body, Email, Name, NullableTimestamp, Page, PageQuery, Password, Timestamp } from '../../http/schemas.ts';
import { PERMISSIONS, type Permission } from '../../policy/permissions.ts';

export const PermissionSchema = Type.Unsafe<Permission>({ type: 'string', enum: [...PERMISSIONS], title: 'Permission' });

export const RoleSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    system: Type.Boolean({ description: 'Built-in roles (owner, admin, clerk) cannot be changed' }),
    key: Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('clerk'), Type.Null()]),
    permissions: Type.Array(PermissionSchema),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Role' },
);

export const RoleList = Page(RoleSchema, 'Role');
export const RoleCreate = Body({ name: Name(100), description: Type.Optional(Type.String({ maxLength: 500 })), permissions: Type.Array(PermissionSchema, { maxItems: 100 }) }, 'RoleCreate');
export const RolePatch = Body({ name: Type.Optional(Name(100)), description: Type.Optional(Type.String({ maxLength: 500 })), permissions: Type.Optional(Type.Array(PermissionSchema, { maxItems: 100 })) }, 'RoleUpdate');

export const UserSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.String(),
    role: Type.Object({ id: Type.String(), name: Type.String(), key: Type.Union([Type.String(), Type.Null()]) }),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    last_login_at: NullableTimestamp,
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'User' },
);

export const UserPage = Page(UserSchema, 'User');
export const UserListQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });
export const UserCreate = Body({ email: Email, name: Name(200), password: Password, role_id: Type.String({ minLength: 1, maxLength: 64 }) }, 'UserCreate');
export const UserPatch = Body(
  {
    name: Type.Optional(Name(200)),
    role_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
    password: Type.Optional(Password),
  },
  'UserUpdate',
);
