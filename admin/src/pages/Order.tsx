import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, client, idempotencyKey, type Ok } from '../api.ts';
import { money, when } from '../format.ts';
import { useChannel } from '../realtime.ts';
import { useCan, useMe } from '../session.tsx';
import { Card, Field, ProblemBanner, Status, useAction } from '../ui.tsx';

type Order = Ok<'/api/orders/{id}', 'get'>;
type Message = Ok<'/api/orders/{id}/messages', 'get'>['data'][number];
type OrderEvent = Ok<'/api/orders/{id}/events', 'get'>['data'][number];

/** Which actions an order in this status allows (the API checks again; this only decides what to show). */
const CAN_CAPTURE = new Set(['pending_payment']);
const CAN_CANCEL = new Set(['pending_payment', 'paid']);
const CAN_FULFIL = new Set(['paid', 'partially_fulfilled', 'partially_refunded']);
const CAN_REFUND = new Set(['paid', 'partially_fulfilled', 'fulfilled', 'completed', 'partially_refunded']);

function Actions({ order, onChanged }: { order: Order; onChanged: (o: Order) => void }) {
  const can = useCan();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [carrier, setCarrier] = useState('');
  const [tracking, setTracking] = useState('');
  const params = { path: { id: order.id } };
  const headers = () => ({ 'Idempotency-Key': idempotencyKey() });
  const capture = useAction(async () => onChanged(await call(() => client.POST('/api/orders/{id}/capture', { params: { ...params, header: headers() }, body: {} }))));
  const cancel = useAction(async () => onChanged(await call(() => client.POST('/api/orders/{id}/cancel', { params: { ...params, header: headers() }, body: { restock: true } }))));
  const refund = useAction(async () => {
    const minor = Math.round(Number(amount) * 100);
    onChanged(await call(() => client.POST('/api/orders/{id}/refunds', { params: { ...params, header: headers() }, body: { amount: minor, ...(reason ? { reason } : {}) } })));
    setAmount('');
    setReason('');
  });
  const fulfil = useAction(async () => {
    onChanged(await call(() => client.POST('/api/orders/{id}/fulfillments', { params, body: { carrier, tracking_number: tracking } })));
    setCarrier('');
    setTracking('');
  });
  if (!can('orders:write')) return null;
  const refundable = order.amount_paid - order.amount_refunded;
  const fieldOf = (a: { error: unknown }, name: string) => (a.error instanceof ApiError ? a.error.field(name) : undefined);
  return (
    <Card title="Actions">
      <div class="actions">
        {CAN_CAPTURE.has(order.status) && (
          <button type="button" disabled={capture.busy} onClick={() => void capture.run()}>
            Capture payment
          </button>
        )}
        {CAN_CANCEL.has(order.status) && (
          <button type="button" class="danger" disabled={cancel.busy} onClick={() => confirm(`Cancel ${order.name}? Its payment is voided or refunded and the stock put back.`) && void cancel.run()}>
            Cancel order
          </button>
        )}
      </div>
      <ProblemBanner error={capture.error ?? cancel.error} />
      {CAN_FULFIL.has(order.status) && (
        <form
          aria-label="Fulfil"
          onSubmit={(e) => {
            e.preventDefault();
            void fulfil.run();
          }}
        >
          <h3>Ship the remaining lines</h3>
          <Field label="Carrier" name="carrier" value={carrier} onInput={setCarrier} required error={fieldOf(fulfil, 'carrier')} />
          <Field label="Tracking number" name="tracking_number" value={tracking} onInput={setTracking} required error={fieldOf(fulfil, 'tracking_number')} />
          <ProblemBanner error={fulfil.error} />
          <button type="submit" disabled={fulfil.busy}>
            Fulfil
          </button>
        </form>
      )}
      {can('orders:refund') && CAN_REFUND.has(order.status) && refundable > 0 && (
        <form
          aria-label="Refund"
          onSubmit={(e) => {
            e.preventDefault();
            void refund.run();
          }}
        >
          <h3>Refund (up to {money(refundable, order.currency)})</h3>
          <Field label={`Amount (${order.currency})`} name="amount" type="number" min={0.01} step={0.01} value={amount} onInput={setAmount} required error={fieldOf(refund, 'amount')} />
          <Field label="Reason" name="reason" value={reason} onInput={setReason} error={fieldOf(refund, 'reason')} />
          <ProblemBanner error={refund.error} />
          <button type="submit" disabled={refund.busy}>
            Refund
          </button>
        </form>
      )}
    </Card>
  );
}

/** The order's chat with its customer, live. */
function Chat({ orderId }: { orderId: string }) {
  const me = useMe();
  const can = useCan();
  const [messages, setMessages] = useState<Message[]>([]);
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const list = useRef<HTMLOListElement>(null);
  const reload = () =>
    call(() => client.GET('/api/orders/{id}/messages', { params: { path: { id: orderId }, query: { limit: 50 } } }))
      .then((p) => setMessages([...p.data].reverse()))
      .catch(setError);
  useEffect(() => {
    void reload();
  }, [orderId]);
  useChannel(`orders/${orderId}/messages`, (m) => {
    if (m.event !== 'order.message_created') return;
    // The event names the message `message_id` (its order is `order_id`).
    const d = m.data as { message_id: string; order_id: string; author_type: Message['author_type']; author_id: string; body: string; created_at: string };
    const msg: Message = { id: d.message_id, order_id: d.order_id, author_type: d.author_type, author_id: d.author_id, body: d.body, created_at: d.created_at };
    setMessages((ms) => (ms.some((x) => x.id === msg.id) ? ms : [...ms, msg]));
  }, reload);
  useEffect(() => {
    // The newest message in view inside the chat's own scroll area (the page itself does not move).
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
    const last = messages[messages.length - 1];
    if (last && last.author_type === 'customer') void client.POST('/api/orders/{id}/messages/read', { params: { path: { id: orderId } }, body: { up_to: last.id } });
  }, [messages, orderId]);
  const send = useAction(async () => {
    const msg = await call(() => client.POST('/api/orders/{id}/messages', { params: { path: { id: orderId } }, body: { body: text } }));
    setMessages((ms) => (ms.some((x) => x.id === msg.id) ? ms : [...ms, msg]));
    setText('');
  });
  return (
    <Card title="Chat with the customer">
      <ProblemBanner error={error} />
      <ol class="chat" ref={list} aria-live="polite" data-testid="chat">
        {messages.length === 0 && <li class="muted">No messages yet.</li>}
        {messages.map((m) => (
          <li key={m.id} class={m.author_type === 'customer' ? 'from-customer' : m.author_id === me.id ? 'from-me' : 'from-staff'}>
            <span class="who">{m.author_type === 'customer' ? 'Customer' : m.author_id === me.id ? 'You' : 'Staff'}</span> {m.body} <time class="muted">{when(m.created_at)}</time>
          </li>
        ))}
      </ol>
      {can('orders:write') && (
        <form
          aria-label="Reply"
          onSubmit={(e) => {
            e.preventDefault();
            if (text.trim()) void send.run();
          }}
        >
          <Field label="Message" name="body" value={text} onInput={setText} error={send.error instanceof ApiError ? send.error.field('body') : undefined} />
          <ProblemBanner error={send.error instanceof ApiError && send.error.field('body') ? null : send.error} />
          <button type="submit" disabled={send.busy || !text.trim()}>
            Send
          </button>
        </form>
      )}
    </Card>
  );
}

export function OrderDetail({ id }: { id: string }) {
  const [order, setOrder] = useState<Order | null>(null);
  const [events, setEvents] = useState<OrderEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    call(() => client.GET('/api/orders/{id}', { params: { path: { id } } }))
      .then(setOrder)
      .catch(setError);
    call(() => client.GET('/api/orders/{id}/events', { params: { path: { id }, query: { limit: 100 } } }))
      .then((p) => setEvents(p.data))
      .catch(setError);
  }, [id, tick]);
  // Another staff member (or the payment provider) changed it: read it again.
  useChannel(
    'orders',
    (m) => {
      if ((m.data as { order_id?: string }).order_id === id) setTick((t) => t + 1);
    },
    () => setTick((t) => t + 1),
  );
  if (error && !order) return <ProblemBanner error={error} />;
  if (!order) return <p class="loading">Loading…</p>;
  const c = order.currency;
  return (
    <div class="grid">
      <section class="card wide" aria-label="Order">
        <h1>
          {order.name} <Status value={order.status} />
        </h1>
        <p class="muted">
          {order.email ?? 'no email'} · placed {when(order.created_at)}
        </p>
        <table>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">SKU</th>
              <th scope="col">Qty</th>
              <th scope="col">Shipped</th>
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {order.lines.map((l) => (
              <tr key={l.id}>
                <td>{l.title}</td>
                <td>{l.sku}</td>
                <td>{l.quantity}</td>
                <td>{l.fulfilled_quantity}</td>
                <td>{money(l.total, c)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <dl class="totals">
          <dt>Subtotal</dt>
          <dd>{money(order.subtotal, c)}</dd>
          <dt>Discount</dt>
          <dd>{money(order.discount_total, c)}</dd>
          <dt>Shipping</dt>
          <dd>{money(order.shipping_total, c)}</dd>
          <dt>Tax</dt>
          <dd>{money(order.tax_total, c)}</dd>
          <dt>Total</dt>
          <dd>{money(order.total, c)}</dd>
          <dt>Paid</dt>
          <dd data-testid="amount-paid">{money(order.amount_paid, c)}</dd>
          <dt>Refunded</dt>
          <dd data-testid="amount-refunded">{money(order.amount_refunded, c)}</dd>
        </dl>
      </section>
      <Actions order={order} onChanged={(o) => { setOrder(o); setTick((t) => t + 1); }} />
      <Card title="Payments and refunds">
        <ul>
          {order.payments.map((p) => (
            <li key={p.id}>
              {p.provider} <Status value={p.status} /> {money(p.amount, c)}
            </li>
          ))}
          {order.refunds.map((r) => (
            <li key={r.id}>
              refund <Status value={r.status} /> {money(r.amount, c)} {r.reason && <span class="muted">({r.reason})</span>}
            </li>
          ))}
        </ul>
      </Card>
      <Card title="Fulfilments">
        {order.fulfillments.length === 0 ? (
          <p class="muted">Nothing shipped yet.</p>
        ) : (
          <ul>
            {order.fulfillments.map((f) => (
              <li key={f.id}>
                {f.carrier} {f.tracking_number} <span class="muted">{when(f.created_at)}</span>
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Timeline">
        <ol class="timeline">
          {events.map((e) => (
            <li key={e.id}>
              <time>{when(e.created_at)}</time> {e.type.replace(/_/g, ' ')}
              {e.to_status ? ` → ${e.to_status.replace(/_/g, ' ')}` : ''}
            </li>
          ))}
        </ol>
      </Card>
      <Chat orderId={order.id} />
    </div>
  );
}
