import { randomSecret, sha256 } from './crypto.ts';
import { ulidOf, ID_PREFIX, isUlid } from './ids.ts';

/**
 * Opaque credentials: `<prefix>_<tenant ulid><secret>`.
 *   sk_ secret API key · pk_ publishable key · rt_ refresh token · pr_ password reset code
 * The tenant part lets every look-up be scoped by tenant_id (and routed to the right shard on a
 * distributed database); the 43-character secret is 256 random bits. Only the SHA-256 is stored.
 */
export type CredentialPrefix = 'sk' | 'pk' | 'rt' | 'pr';

export interface MintedCredential {
  token: string;
  hash: string;
  last4: string;
}

export function mintCredential(prefix: CredentialPrefix, tenantId: string): MintedCredential {
  const t = ulidOf('tenant', tenantId);
  if (!t) throw new Error(`not a tenant id: ${tenantId}`);
  const token = `${prefix}_${t}${randomSecret(32)}`;
  return { token, hash: sha256(token), last4: token.slice(-4) };
}

const SECRET_LEN = 43;

export function parseCredential(token: string): { prefix: CredentialPrefix; tenantId: string; hash: string } | null {
  const m = /^(sk|pk|rt|pr)_(.*)$/.exec(token);
  if (!m) return null;
  const body = m[2] as string;
  if (body.length !== 26 + SECRET_LEN) return null;
  const t = body.slice(0, 26);
  if (!isUlid(t) || !/^[A-Za-z0-9_-]+$/.test(body.slice(26))) return null;
  return { prefix: m[1] as CredentialPrefix, tenantId: `${ID_PREFIX.tenant}_${t}`, hash: sha256(token) };
}
