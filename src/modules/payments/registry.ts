import type Stripe from 'stripe';
import type { Config } from '../../config.ts';
import { PaymentGateway } from './gateway.ts';
import { manualProvider, testProvider, type PaymentProvider } from './providers.ts';
import { stripeClient, stripeProvider } from './stripe.ts';

/** The payment providers this deployment enables (PAYMENT_PROVIDERS), behind the one gateway every caller uses. */
export function buildPayments(config: Config, extra: PaymentProvider[] = []): { gateway: PaymentGateway; stripe: Stripe | null } {
  const stripe = config.stripe ? stripeClient(config.stripe, config.paymentCalls.timeoutMs) : null;
  const registry = new Map<string, PaymentProvider>();
  for (const p of [manualProvider, testProvider, ...(stripe ? [stripeProvider(stripe)] : []), ...extra]) if (config.paymentProviders.includes(p.name)) registry.set(p.name, p);
  return { gateway: new PaymentGateway(registry, config.paymentCalls), stripe };
}
