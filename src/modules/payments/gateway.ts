import { outsideCall } from '../../lib/origin.ts';
import { BrokenCircuitError, ConsecutiveBreaker, TaskCancelledError, TimeoutStrategy, circuitBreaker, handleWhen, timeout, wrap, type IPolicy } from 'cockatiel';
import type { Executor } from '../../context.ts';
import { AppError, isServerSide, ProviderUnavailable } from '../../lib/errors.ts';
import { assertOutsideTransaction } from '../../lib/outside.ts';
import { providerOf, type ProviderRegistry } from './payments.service.ts';
import type { PaymentProvider } from './providers.ts';

export interface GatewayOptions {
  /** Longest wait for one call. Past it the outcome is unknown and left to reconciliation. */
  timeoutMs: number;
  /** Consecutive failures (timeouts, 5xx, network) that open a provider's circuit. */
  breakerFailures: number;
  /** How long an open circuit refuses calls before letting one through. */
  breakerOpenSeconds: number;
}

/**
 * The one door to payment providers. Every call:
 *  - refuses to run while the caller holds a database transaction (lib/outside.ts);
 *  - is bounded by a timeout, so a slow provider costs a shopper at most that long;
 *  - passes a circuit breaker per provider (cockatiel), so a dead provider fails fast with 503
 *    `payment_provider_unavailable` and `Retry-After` instead of tying up requests.
 * Declines (4xx AppErrors) are answers, not failures: they never open the circuit.
 */
export class PaymentGateway {
  private readonly policies = new Map<string, IPolicy>();
  readonly registry: ProviderRegistry;
  private readonly opts: GatewayOptions;

  constructor(registry: ProviderRegistry, opts: GatewayOptions) {
    this.registry = registry;
    this.opts = opts;
  }

  /** The provider by name, or 422 payment_provider_unavailable when this server has not enabled it. */
  provider(name: string): PaymentProvider {
    return providerOf(this.registry, name);
  }

  async call<T>(db: Executor, name: string, what: string, fn: (p: PaymentProvider) => Promise<T>): Promise<T> {
    assertOutsideTransaction(db, `payment provider ${name}.${what}`);
    const provider = this.provider(name);
    try {
      // A span of the request's trace, timed as an outside call.
      return await outsideCall('payment', `payment ${name} ${what}`, { 'stockroom.provider': name }, () => this.policy(name).execute(() => fn(provider)));
    } catch (e) {
      if (e instanceof BrokenCircuitError) throw new ProviderUnavailable(name, 'the provider has been failing; not called, try again later', false, this.opts.breakerOpenSeconds);
      if (e instanceof TaskCancelledError) throw new ProviderUnavailable(name, `no answer within ${this.opts.timeoutMs} ms`, true, 5);
      throw e;
    }
  }

  private policy(name: string): IPolicy {
    let p = this.policies.get(name);
    if (!p) {
      const failure = (e: unknown) => e instanceof TaskCancelledError || !(e instanceof AppError) || isServerSide(e);
      const breaker = circuitBreaker(handleWhen(failure), { halfOpenAfter: this.opts.breakerOpenSeconds * 1000, breaker: new ConsecutiveBreaker(this.opts.breakerFailures) });
      // Outermost first: the breaker sees the timeout's cancellation as a failure.
      p = wrap(breaker, timeout(this.opts.timeoutMs, TimeoutStrategy.Aggressive));
      this.policies.set(name, p);
    }
    return p;
  }
}
