import type { RateLimiterRes} from 'rate-limiter-flexible';
import { type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from '../../lib/errors.ts';

/**
 * Failed-login throttling (OWASP) that throttles failures, not people:
 *  - an account that failed `maxFailures` times in a row waits `lockoutSeconds` (brute force on one account);
 *  - an address that failed many times an hour against any accounts (password spraying) is throttled only for
 *    accounts that have not logged in successfully from it before — so one attacker behind a shared NAT or a
 *    proxy without TRUST_PROXY cannot lock out the staff who work behind it.
 * A successful login clears the account's count and remembers the address for the account (14 days). Shared
 * across nodes when the limiters are Redis-backed.
 */
/** How long a successful login keeps its address known for the account. */
export const KNOWN_SECONDS = 14 * 86_400; // below 2^31 ms: the in-memory limiter keeps keys with a timer

export class LoginThrottle {
  private readonly byAccount: RateLimiterAbstract;
  private readonly byIp: RateLimiterAbstract;
  private readonly known: RateLimiterAbstract;
  private readonly maxFailures: number;
  private readonly ipMaxFailures: number;

  constructor(o: { byAccount: RateLimiterAbstract; byIp: RateLimiterAbstract; known: RateLimiterAbstract; maxFailures: number; ipMaxFailures: number }) {
    this.byAccount = o.byAccount;
    this.byIp = o.byIp;
    this.known = o.known;
    this.maxFailures = o.maxFailures;
    this.ipMaxFailures = o.ipMaxFailures;
  }

  /** Throws 429 when this account is throttled, or this address is and has no good record for the account. */
  async check(account: string, ip: string): Promise<void> {
    const [a, i] = await Promise.all([this.byAccount.get(account), this.byIp.get(ip)]);
    const ipBlocked = i && i.consumedPoints >= this.ipMaxFailures && !(await this.known.get(`${account}|${ip}`)) ? i : null;
    const blocked = [a && a.consumedPoints >= this.maxFailures ? a : null, ipBlocked].filter((r): r is RateLimiterRes => r !== null);
    if (blocked.length) {
      const wait = Math.max(...blocked.map((r) => r.msBeforeNext)) / 1000;
      throw rateLimited('too_many_login_attempts', 'Too many failed logins; wait before trying again', wait);
    }
  }

  async fail(account: string, ip: string): Promise<void> {
    await Promise.all([this.byAccount.penalty(account, 1), this.byIp.penalty(ip, 1)]);
  }

  async succeed(account: string, ip: string): Promise<void> {
    await Promise.all([this.byAccount.delete(account), this.known.set(`${account}|${ip}`, 1, KNOWN_SECONDS)]);
  }
}
