import { formatMoney } from '../../lib/money.ts';

/** Email templates: plain text and HTML from the same data. Every value is escaped in the HTML. */
export interface Rendered {
  subject: string;
  text: string;
  html: string;
  /** Extra headers, e.g. List-Unsubscribe (RFC 8058) on marketing emails. */
  headers?: Record<string, string> | undefined;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function page(shop: string, title: string, body: string): string {
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;max-width:560px;margin:auto;color:#222"><h2>${esc(shop)}</h2><h3>${esc(title)}</h3>${body}<p style="color:#888;font-size:12px">${esc(shop)} · sent by Stockroom</p></body></html>`;
}

export interface OrderForEmail {
  name: string;
  currency: string;
  total: number;
  tax_total: number;
  shipping_total: number;
  discount_total: number;
  lines: { title: string; quantity: number; total: number }[];
}

export function orderConfirmation(shop: string, o: OrderForEmail): Rendered {
  const money = (n: number) => formatMoney(n, o.currency);
  const lines = o.lines.map((l) => `${l.quantity} × ${l.title} — ${money(l.total)}`);
  const sums = [o.discount_total ? `Discount: −${money(o.discount_total)}` : '', `Shipping: ${money(o.shipping_total)}`, `Tax: ${money(o.tax_total)}`, `Total: ${money(o.total)}`].filter(Boolean);
  return {
    subject: `${shop}: order ${o.name} confirmed`,
    text: `Thank you for your order ${o.name}.\n\n${lines.join('\n')}\n\n${sums.join('\n')}\n`,
    html: page(shop, `Order ${o.name} confirmed`, `<p>Thank you for your order.</p><ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul><p>${sums.map(esc).join('<br>')}</p>`),
  };
}

export function shippingNotification(shop: string, o: { name: string; carrier: string; tracking_number: string; lines: { title: string; quantity: number }[] }): Rendered {
  const lines = o.lines.map((l) => `${l.quantity} × ${l.title}`);
  return {
    subject: `${shop}: order ${o.name} is on its way`,
    text: `Good news: items of your order ${o.name} have shipped with ${o.carrier}.\nTracking number: ${o.tracking_number}\n\n${lines.join('\n')}\n`,
    html: page(shop, `Order ${o.name} is on its way`, `<p>Shipped with ${esc(o.carrier)}. Tracking number: <b>${esc(o.tracking_number)}</b></p><ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`),
  };
}

/**
 * The one reminder of an abandoned cart: a link back to it (the shop's storefront, when set) and a one-click
 * unsubscribe link (RFC 8058 headers, and in the text).
 */
export function abandonedCart(shop: string, c: { lines: { title: string; quantity: number }[]; cart_id: string; link: string | null; unsubscribe_url: string | null }): Rendered {
  const lines = c.lines.map((l) => `${l.quantity} × ${l.title}`);
  const back = c.link ? `Pick up where you left off: ${c.link}` : `Cart: ${c.cart_id}`;
  const unsub = c.unsubscribe_url ? `\n\nNo more emails like this: ${c.unsubscribe_url}` : '';
  return {
    subject: `${shop}: you left something in your cart`,
    text: `Your cart is still waiting for you:\n\n${lines.join('\n')}\n\n${back}${unsub}\n`,
    html: page(shop, 'You left something in your cart', `<ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul><p>${c.link ? `<a href="${esc(c.link)}">Back to your cart</a>` : `Cart: ${esc(c.cart_id)}`}</p>${c.unsubscribe_url ? `<p><small><a href="${esc(c.unsubscribe_url)}">Unsubscribe</a></small></p>` : ''}`),
    ...(c.unsubscribe_url ? { headers: { 'List-Unsubscribe': `<${c.unsubscribe_url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } } : {}),
  };
}

/** Double opt-in: the link that confirms a newsletter subscription. */
export function consentConfirmation(shop: string, c: { first_name: string; link: string }): Rendered {
  return {
    subject: `${shop}: please confirm your subscription`,
    text: `${c.first_name ? `Hello ${c.first_name},\n\n` : ''}Please confirm that you want ${shop}'s newsletter:\n\n${c.link}\n\nIf you did not sign up, ignore this email; nothing happens.\n`,
    html: page(shop, 'Please confirm your subscription', `<p><a href="${esc(c.link)}">Yes, subscribe me</a></p><p>If you did not sign up, ignore this email; nothing happens.</p>`),
  };
}

export function passwordReset(shop: string, r: { token: string; expires_minutes: number }): Rendered {
  return {
    subject: `${shop}: reset your password`,
    text: `Someone asked to reset the password of this account. If it was you, use this code within ${r.expires_minutes} minutes:\n\n${r.token}\n\nIf it was not you, ignore this email; nothing changes.\n`,
    html: page(shop, 'Reset your password', `<p>Use this code within ${r.expires_minutes} minutes:</p><p style="font-family:monospace;font-size:14px">${esc(r.token)}</p><p>If it was not you, ignore this email; nothing changes.</p>`),
  };
}
