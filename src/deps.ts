import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { Ctx, Principal } from './context.ts';
import type { Db } from './db/database.ts';
import type { Clock } from './lib/clock.ts';
import type { Logger } from './lib/log.ts';
import type { AuthService, TokenService } from './modules/auth/index.ts';
import type { PaymentGateway } from './modules/payments/index.ts';
import type { CheckoutStep } from './workflows/checkout.ts';

/** What any transport knows of a request once it has authenticated it: who is calling, and where to log. */
export interface Caller {
  principal: Principal;
  log: Logger;
}

/** What every transport gets: the shared services, built once per app. Explicit, no container. */
export interface Deps {
  config: Config;
  db: Db;
  clock: Clock;
  auth: AuthService;
  tokens: TokenService;
  redis: Redis | null;
  /** Builds the service context of a request that acts inside one shop. */
  ctx(req: Caller): Ctx;
  /** The payment providers this server has enabled, behind the gateway (timeouts, circuit breakers). */
  payments: PaymentGateway;
  /** Tests only: called after each checkout step (throw to fail that step). */
  checkoutProbe: ((step: CheckoutStep) => void | Promise<void>) | undefined;
  /** Signs the links in emails that need no login (one-click unsubscribe, double opt-in), from the JWT key. */
  consentSecret: string;
  /** Limits shared by every transport (and every node, through Redis): each throws `rate_limited` when over. */
  limits: { chat(key: string): Promise<void> };
  /** Runs `fn` with a context whose `db` is one transaction: a business write commits whole or not at all. */
  tx<T>(req: Caller, fn: (ctx: Ctx) => Promise<T>): Promise<T>;
}
