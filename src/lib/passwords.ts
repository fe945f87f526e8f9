import argon2 from 'argon2';
import { malformed } from './errors.ts';

/** OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1. */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

let dummyHash: Promise<string> | null = null;

/** Verifies; with no hash (unknown account) it still spends the same time, so timing does not reveal accounts. */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= hashPassword('stockroom-timing-equaliser');
    await argon2.verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** Length rules of NIST SP 800-63B: at least 10 characters, no composition rules, long passphrases welcome. */
export function checkPasswordStrength(password: string, pointer = '/body/password'): void {
  if (password.length < PASSWORD_MIN) throw malformed('weak_password', `Password must have at least ${PASSWORD_MIN} characters`, [{ pointer, detail: 'too short' }]);
  if (password.length > PASSWORD_MAX) throw malformed('weak_password', `Password must have at most ${PASSWORD_MAX} characters`, [{ pointer, detail: 'too long' }]);
}
