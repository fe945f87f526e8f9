import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from '../lib/errors.ts';

/**
 * Limiters live in Redis when REDIS_URL is set (every API node shares the counts), in memory otherwise.
 * If Redis goes away, the in-memory insurance limiter takes over on each node rather than failing requests.
 */
export function makeLimiter(redis: Redis | null, prefix: string, name: string, points: number, durationSeconds: number): RateLimiterAbstract {
  const keyPrefix = `${prefix}rl:${name}`;
  const memory = new RateLimiterMemory({ keyPrefix, points, duration: durationSeconds });
  if (!redis) return memory;
  return new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration: durationSeconds, insuranceLimiter: memory, rejectIfRedisNotReady: true });
}

interface Policy {
  name: 'ip' | 'principal';
  limiter: RateLimiterAbstract;
  quota: number;
  window: number;
}

/**
 * Fixed-window limits per client IP (every request, before authentication) and per principal (after it).
 * Headers follow draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` lists the policies,
 * `RateLimit` reports the one closest to running out; a 429 adds `Retry-After`.
 */
export class HttpRateLimits {
  private readonly ip: Policy;
  private readonly principal: Policy;
  private readonly policyHeader: string;

  constructor(redis: Redis | null, prefix: string, opts: { windowSeconds: number; perIp: number; perPrincipal: number }) {
    this.ip = { name: 'ip', limiter: makeLimiter(redis, prefix, 'ip', opts.perIp, opts.windowSeconds), quota: opts.perIp, window: opts.windowSeconds };
    this.principal = { name: 'principal', limiter: makeLimiter(redis, prefix, 'principal', opts.perPrincipal, opts.windowSeconds), quota: opts.perPrincipal, window: opts.windowSeconds };
    this.policyHeader = [this.ip, this.principal].map((p) => `"${p.name}";q=${p.quota};w=${p.window}`).join(', ');
  }

  async checkIp(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    await this.consume(this.ip, req.ip, reply);
  }

  async checkPrincipal(key: string, reply: FastifyReply): Promise<void> {
    await this.consume(this.principal, key, reply);
  }

  private async consume(p: Policy, key: string, reply: FastifyReply): Promise<void> {
    let res: RateLimiterRes;
    let limited = false;
    try {
      res = await p.limiter.consume(key, 1);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      res = e;
      limited = true;
    }
    const reset = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    const remaining = Math.max(0, res.remainingPoints);
    const prev = reply.getHeader('ratelimit');
    const prevRemaining = typeof prev === 'string' ? Number(/;r=(\d+)/.exec(prev)?.[1] ?? Infinity) : Infinity;
    reply.header('ratelimit-policy', this.policyHeader);
    if (limited || remaining <= prevRemaining) reply.header('ratelimit', `"${p.name}";r=${remaining};t=${reset}`);
    if (limited) throw rateLimited('rate_limited', `Too many requests (${p.name} limit: ${p.quota} per ${p.window} s)`, reset);
  }
}
