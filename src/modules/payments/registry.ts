import type { Config } from '../../config.ts';
import type { ProviderRegistry } from './payments.service.ts';
import { manualProvider, testProvider, type PaymentProvider } from './providers.ts';
import { stripeClient, stripeProvider } from './stripe.ts';
import type Stripe from 'stripe';

/** The payment providers this deployment enables (PAYMENT_PROVIDERS), by name. */
export function buildProviders(config: Config, extra: PaymentProvider[] = []): { registry: ProviderRegistry; stripe: Stripe | null } {
  const stripe = config.stripe ? stripeClient(config.stripe) : null;
  const registry = new Map<string, PaymentProvider>();
  for (const p of [manualProvider, testProvider, ...(stripe ? [stripeProvider(stripe)] : []), ...extra]) if (config.paymentProviders.includes(p.name)) registry.set(p.name, p);
  return { registry, stripe };
}
