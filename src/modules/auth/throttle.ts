import type { RateLimiterRes} from 'rate-limiter-flexible';
import { type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from '../../lib/errors.ts';

/**
 * Failed-login throttling (OWASP): an account that failed `maxFailures` times in a row waits
 * `lockoutSeconds`; one address that fails a hundred times an hour against any accounts waits too.
 * A successful login clears the account's count. Shared across nodes when the limiters are Redis-backed.
 */
export class LoginThrottle {
  private readonly byAccount: RateLimiterAbstract;
  private readonly byIp: RateLimiterAbstract;
  private readonly maxFailures: number;
  private readonly ipMaxFailures: number;

  constructor(byAccount: RateLimiterAbstract, byIp: RateLimiterAbstract, maxFailures: number, ipMaxFailures: number) {
    this.byAccount = byAccount;
    this.byIp = byIp;
    this.maxFailures = maxFailures;
    this.ipMaxFailures = ipMaxFailures;
  }

  /** Throws 429 when this account or address is throttled. */
  async check(account: string, ip: string): Promise<void> {
    const [a, i] = await Promise.all([this.byAccount.get(account), this.byIp.get(ip)]);
    const blocked = [a && a.consumedPoints >= this.maxFailures ? a : null, i && i.consumedPoints >= this.ipMaxFailures ? i : null].filter(
      (r): r is RateLimiterRes => r !== null,
    );
    if (blocked.length) {
      const wait = Math.max(...blocked.map((r) => r.msBeforeNext)) / 1000;
      throw rateLimited('too_many_login_attempts', 'Too many failed logins; wait before trying again', wait);
    }
  }

  async fail(account: string, ip: string): Promise<void> {
    await Promise.all([this.byAccount.penalty(account, 1), this.byIp.penalty(ip, 1)]);
  }

  async succeed(account: string): Promise<void> {
    await this.byAccount.delete(account);
  }
}
