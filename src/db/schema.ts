/**
 * Table types for Kysely. Conventions (docs/architecture.md):
 * - tenant-owned tables have `tenant_id` and a primary key `(tenant_id, id)`; foreign keys include `tenant_id`;
 * - timestamps are ISO 8601 UTC strings in the API and in code (TEXT on SQLite, timestamptz on PostgreSQL,
 *   read back as ISO strings);
 * - no booleans (SQLite has none): states are text, flags are nullable timestamps;
 * - JSON is stored as text and parsed in the repository that owns it.
 */
export interface TenantsTable {
  id: string;
  name: string;
  slug: string;
  status: 'active' | 'suspended';
  currency: string;
  timezone: string;
  suspended_at: string | null;
  suspended_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface RolesTable {
  tenant_id: string;
  id: string;
  name: string;
  /** `owner`, `admin` or `clerk` for the built-in roles (their permissions come from code); null for custom roles. */
  system_key: string | null;
  description: string;
  /** JSON array of permission names (custom roles only). */
  permissions: string;
  created_at: string;
  updated_at: string;
}

export interface UsersTable {
  tenant_id: string;
  id: string;
  email: string;
  name: string;
  password_hash: string;
  role_id: string;
  status: 'active' | 'disabled';
  last_login_at: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface CustomersTable {
  tenant_id: string;
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  password_hash: string | null;
  status: 'active' | 'disabled';
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  tenant_id: string;
  id: string;
  subject_type: 'user' | 'customer';
  subject_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  tenant_id: string;
  id: string;
  session_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface ApiKeysTable {
  tenant_id: string;
  id: string;
  type: 'secret' | 'publishable';
  name: string;
  token_hash: string;
  /** The whole key for publishable keys (they are public); null for secret keys, which are shown once. */
  token: string | null;
  /** Last four characters, to tell keys apart in lists. */
  last4: string;
  /** JSON array of permission names (secret keys). */
  permissions: string;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface IdempotencyKeysTable {
  /** Empty string for requests that have no tenant (signup, platform). */
  tenant_id: string;
  /** Who sent it: `usr_…`, `key_…`, `cus_…`, `platform` or `ip:<address>`. */
  principal: string;
  key: string;
  method: string;
  route: string;
  body_hash: string;
  state: 'in_flight' | 'done';
  response_status: number | null;
  response_headers: string | null;
  response_body: string | null;
  created_at: string;
  expires_at: string;
}

export interface Database {
  tenants: TenantsTable;
  roles: RolesTable;
  users: UsersTable;
  customers: CustomersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
}
