import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, errors as joseErrors, exportJWK, jwtVerify, type JWK } from 'jose';
import type { Config } from '../../config.ts';
import { sha256 } from '../../lib/crypto.ts';

export interface AccessClaims {
  sub: string;
  /** tenant id */
  tid: string;
  /** session id (refresh-token family) */
  sid: string;
  typ: 'user' | 'customer';
}

const ALG = 'EdDSA';

export function generatePrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * The key that signs access tokens. From JWT_PRIVATE_KEY, or (embedded mode) generated once into
 * DATA_DIR/jwt-ed25519.pem with mode 0600, so tokens survive restarts.
 */
export function loadSigningKey(config: Config): string {
  if (config.jwt.privateKeyPem) return config.jwt.privateKeyPem;
  const file = join(config.dataDir, 'jwt-ed25519.pem');
  if (existsSync(file)) return readFileSync(file, 'utf8');
  mkdirSync(config.dataDir, { recursive: true });
  const pem = generatePrivateKeyPem();
  writeFileSync(file, pem, { mode: 0o600 });
  chmodSync(file, 0o600);
  return pem;
}

/** Signs and verifies access JWTs: Ed25519 only (algorithm pinned), `iss`, `aud` and `exp` always checked. */
export class TokenService {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  readonly kid: string;
  private readonly issuer: string;
  private readonly audience: string;
  readonly ttlSeconds: number;

  constructor(pem: string, opts: { issuer: string; audience: string; ttlSeconds: number }) {
    this.privateKey = createPrivateKey(pem);
    if (this.privateKey.asymmetricKeyType !== 'ed25519') throw new Error('JWT_PRIVATE_KEY: must be an Ed25519 key');
    this.publicKey = createPublicKey(this.privateKey);
    this.kid = sha256(this.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')).slice(0, 16);
    this.issuer = opts.issuer;
    this.audience = opts.audience;
    this.ttlSeconds = opts.ttlSeconds;
  }

  async sign(claims: AccessClaims, now: Date): Promise<string> {
    const iat = Math.floor(now.getTime() / 1000);
    return new SignJWT({ tid: claims.tid, sid: claims.sid, typ: claims.typ })
      .setProtectedHeader({ alg: ALG, kid: this.kid, typ: 'at+jwt' })
      .setSubject(claims.sub)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .sign(this.privateKey);
  }

  /**
   * The claims of a valid token; 'expired' for a genuine token past its `exp` (the client should refresh); null for
   * anything forged, tampered, meant for someone else, or minted to live longer than this server's lifetime.
   */
  async verify(token: string, now: Date): Promise<AccessClaims | 'expired' | null> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [ALG],
        issuer: this.issuer,
        audience: this.audience,
        requiredClaims: ['exp', 'iat', 'sub'],
        currentDate: now,
        typ: 'at+jwt',
      });
      const { sub, tid, sid, typ } = payload as Record<string, unknown>;
      // A valid signature is not enough: a token may not live longer than the configured lifetime.
      if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number' || payload.exp - payload.iat > this.ttlSeconds) return null;
      if (typeof sub !== 'string' || typeof tid !== 'string' || typeof sid !== 'string' || (typ !== 'user' && typ !== 'customer')) return null;
      return { sub, tid, sid, typ };
    } catch (e) {
      // jose checks the signature before the claims: an expired token is a genuine one.
      if (e instanceof joseErrors.JWTExpired) return 'expired';
      if (e instanceof joseErrors.JOSEError || e instanceof TypeError) return null;
      throw e;
    }
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    const jwk = await exportJWK(this.publicKey);
    return { keys: [{ ...jwk, kid: this.kid, alg: ALG, use: 'sig' }] };
  }
}
