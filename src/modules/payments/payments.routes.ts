import type { FastifyPluginAsync } from 'fastify';
import type Stripe from 'stripe';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { AppError } from '../../lib/errors.ts';
import { applyStripeEvent } from '../../workflows/stripe-webhook.ts';

/**
 * Provider webhooks. Public (the provider has no credential of ours) but every request must carry a valid
 * signature over the raw body; the body is therefore read as text in this plugin only.
 */
export const paymentsRoutes: FastifyPluginAsync<{ deps: Deps; stripe: Stripe | null }> = async (app, { deps, stripe }) => {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post(
    '/api/payments/stripe/webhook',
    {
      config: { access: access.public(), idempotent: false },
      schema: {
        tags: ['payments'],
        summary: 'Stripe webhook: verifies the Stripe-Signature, applies payment_intent and charge.refunded events once per event id',
        operationId: 'stripeWebhook',
        body: Type.String({ maxLength: 1_000_000 }),
        response: { 200: Type.Object({ received: Type.Boolean(), outcome: Type.String() }) },
      },
    },
    async (req) => {
      const secret = deps.config.stripe?.webhookSecret;
      if (!stripe || !secret) throw new AppError('not_found', 'route_not_found', 'Stripe is not configured on this server');
      const signature = req.headers['stripe-signature'];
      if (typeof signature !== 'string') throw new AppError('malformed', 'invalid_signature', 'The Stripe-Signature header is missing');
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(req.body as string, signature, secret);
      } catch {
        throw new AppError('malformed', 'invalid_signature', 'The Stripe signature does not match this body');
      }
      const outcome = await applyStripeEvent(deps.db, deps.clock, req.log, event);
      req.log.info({ stripe_event: event.id, type: event.type, outcome }, 'stripe webhook');
      return { received: true, outcome };
    },
  );
};
