import type { PaymentStatus } from '../../db/schema.ts';
import { AppError, invalid } from '../../lib/errors.ts';

/**
 * A payment provider. Shops differ on how they are paid, so this is a strategy: checkout and the order
 * workflows talk to this interface only.
 */
export interface AuthorizeInput {
  paymentId: string;
  tenantId: string;
  orderId: string;
  amount: number;
  currency: string;
  /** Test provider only: one of the documented test card numbers. */
  cardNumber?: string | undefined;
}

export interface AuthorizeResult {
  status: Extract<PaymentStatus, 'pending' | 'requires_action' | 'authorized' | 'captured'>;
  providerRef: string | null;
  clientSecret: string | null;
  nextAction: { type: string; detail: string } | null;
}

/**
 * Every method is idempotent on the ids it is given (Stripe: an idempotency key derived from them), so a call
 * whose answer was lost — a timeout, a crash — can be made again with the same ids and has its effect once.
 * Declines are AppError 402; a provider that cannot be reached throws ProviderUnavailable.
 */
export interface PaymentProvider {
  readonly name: 'manual' | 'test' | 'stripe';
  authorize(input: AuthorizeInput): Promise<AuthorizeResult>;
  /**
   * What became of an authorize whose answer was lost (reconciliation): asks again with the same key, without
   * the card. null when nothing can have happened outside (an in-process provider never called).
   */
  recoverAuthorize(input: Omit<AuthorizeInput, 'cardNumber'>): Promise<AuthorizeResult | null>;
  /** Takes the money. Returns the amount captured. */
  capture(p: { providerRef: string | null; amount: number; status: PaymentStatus }): Promise<number>;
  refund(p: { providerRef: string | null; amount: number; refundId: string }): Promise<{ providerRef: string | null }>;
  /** Voids an uncaptured payment (compensation of a failed checkout, or a cancelled order). */
  cancel(p: { providerRef: string | null }): Promise<void>;
}

/** Bank transfer or cash on delivery: nothing happens online; staff mark the order paid (capture). */
export const manualProvider: PaymentProvider = {
  name: 'manual',
  async authorize() {
    return { status: 'pending', providerRef: null, clientSecret: null, nextAction: { type: 'offline_payment', detail: 'Awaiting bank transfer or payment on delivery' } };
  },
  async recoverAuthorize() {
    return { status: 'pending', providerRef: null, clientSecret: null, nextAction: { type: 'offline_payment', detail: 'Awaiting bank transfer or payment on delivery' } };
  },
  async capture(p) {
    return p.amount;
  },
  async refund() {
    return { providerRef: null };
  },
  async cancel() {},
};

/**
 * Deterministic outcomes by test card number (the same numbers as Stripe's test cards):
 *   4242 4242 4242 4242  succeeds (captured at once)
 *   4000 0000 0000 0002  declined
 *   4000 0000 0000 9995  declined, insufficient funds
 *   4000 0025 0000 3155  requires action (3-D Secure); staff capture completes it
 */
export const TEST_CARDS = {
  success: '4242424242424242',
  decline: '4000000000000002',
  insufficientFunds: '4000000000009995',
  requiresAction: '4000002500003155',
} as const;

export const testProvider: PaymentProvider = {
  name: 'test',
  async authorize(input) {
    const card = (input.cardNumber ?? '').replace(/[\s-]/g, '');
    const ref = `test_${input.paymentId}`;
    switch (card) {
      case TEST_CARDS.success:
        return { status: 'captured', providerRef: ref, clientSecret: null, nextAction: null };
      case TEST_CARDS.requiresAction:
        return { status: 'requires_action', providerRef: ref, clientSecret: null, nextAction: { type: 'three_d_secure', detail: 'The card needs authentication (test card)' } };
      case TEST_CARDS.decline:
        throw new AppError('payment_failed', 'payment_declined', 'The card was declined');
      case TEST_CARDS.insufficientFunds:
        throw new AppError('payment_failed', 'payment_declined', 'The card has insufficient funds');
      default:
        throw invalid('invalid_test_card', 'The test provider takes only the documented test card numbers', [{ pointer: '/body/payment/card_number', detail: 'not a test card' }]);
    }
  },
  // The test provider lives in the process: an authorization whose answer was lost was never made anywhere.
  async recoverAuthorize() {
    return null;
  },
  async capture(p) {
    return p.amount;
  },
  async refund(p) {
    return { providerRef: `test_${p.refundId}` };
  },
  async cancel() {},
};
