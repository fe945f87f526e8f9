import Stripe from 'stripe';
import { AppError, ProviderUnavailable } from '../../lib/errors.ts';
import type { AuthorizeInput, AuthorizeResult, PaymentProvider } from './providers.ts';

export interface StripeSettings {
  secretKey: string;
  webhookSecret: string | null;
  /** Another API base (a local Stripe mock in tests or development); null for api.stripe.com. */
  apiUrl: string | null;
}

export function stripeClient(s: StripeSettings, timeoutMs = 10_000): Stripe {
  const base = s.apiUrl ? new URL(s.apiUrl) : null;
  return new Stripe(s.secretKey, {
    // One retry with the same idempotency key for a dropped connection; the gateway bounds the total wait.
    maxNetworkRetries: 1,
    timeout: timeoutMs,
    telemetry: false,
    ...(base ? { host: base.hostname, port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)), protocol: base.protocol === 'https:' ? 'https' : 'http' } : {}),
  });
}

function mapStatus(pi: Stripe.PaymentIntent): AuthorizeResult['status'] {
  switch (pi.status) {
    case 'succeeded':
      return 'captured';
    case 'requires_capture':
      return 'authorized';
    case 'processing':
      return 'pending';
    default:
      return 'requires_action';
  }
}

/**
 * Stripe's errors by what they mean for us: a card error is a decline (nothing happened); a request Stripe
 * refused is a definite failure; a connection error, a 5xx, a rate limit or a key still in use elsewhere
 * leaves the outcome unknown, to be settled by asking again with the same idempotency key.
 */
function providerError(e: unknown): never {
  if (e instanceof Stripe.errors.StripeCardError) throw new AppError('payment_failed', 'payment_declined', e.message);
  if (e instanceof Stripe.errors.StripeConnectionError || e instanceof Stripe.errors.StripeAPIError || e instanceof Stripe.errors.StripeRateLimitError || e instanceof Stripe.errors.StripeIdempotencyError) {
    throw new ProviderUnavailable('stripe', e.message, true, 5);
  }
  if (e instanceof Stripe.errors.StripeError) {
    if ((e.statusCode ?? 0) >= 500) throw new ProviderUnavailable('stripe', e.message, true, 5);
    throw new AppError('provider_failed', 'payment_provider_error', `Stripe: ${e.message}`);
  }
  throw e;
}

/**
 * Stripe PaymentIntents with manual capture: checkout creates the intent (the shopper confirms it in the
 * browser with `client_secret`), staff capture it, refunds go through Stripe; webhooks report the outcome.
 * Every call carries an idempotency key derived from our own ids, so retries never double-charge.
 */
export function stripeProvider(stripe: Stripe): PaymentProvider {
  const create = async (input: Omit<AuthorizeInput, 'cardNumber'>): Promise<AuthorizeResult> => {
    try {
      const pi = await stripe.paymentIntents.create(
        {
          amount: input.amount,
          currency: input.currency.toLowerCase(),
          capture_method: 'manual',
          automatic_payment_methods: { enabled: true },
          metadata: { tenant_id: input.tenantId, order_id: input.orderId, payment_id: input.paymentId },
        },
        { idempotencyKey: `pay-${input.paymentId}` },
      );
      return { status: mapStatus(pi), providerRef: pi.id, clientSecret: pi.client_secret ?? null, nextAction: pi.status === 'requires_payment_method' || pi.status === 'requires_action' ? { type: 'stripe_confirm', detail: 'Confirm the PaymentIntent with its client_secret' } : null };
    } catch (e) {
      providerError(e);
    }
  };
  return {
    name: 'stripe',
    authorize: create,
    // The same request with the same idempotency key: Stripe answers with the intent it made the first time.
    recoverAuthorize: create,
    async capture(p) {
      if (!p.providerRef) throw new AppError('conflict', 'payment_not_capturable', 'The payment has no Stripe PaymentIntent');
      try {
        const pi = await stripe.paymentIntents.capture(p.providerRef, {}, { idempotencyKey: `capture-${p.providerRef}` });
        return pi.amount_received;
      } catch (e) {
        providerError(e);
      }
    },
    async refund(p) {
      try {
        const r = await stripe.refunds.create({ payment_intent: p.providerRef ?? undefined, amount: p.amount }, { idempotencyKey: `refund-${p.refundId}` });
        return { providerRef: r.id };
      } catch (e) {
        providerError(e);
      }
    },
    async cancel(p) {
      if (!p.providerRef) return;
      try {
        await stripe.paymentIntents.cancel(p.providerRef, {}, { idempotencyKey: `cancel-${p.providerRef}` });
      } catch (e) {
        providerError(e);
      }
    },
  };
}
