import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, client, type Ok } from '../api.ts';
import { when } from '../format.ts';
import type { paths } from '../api/schema';
import { useCan } from '../session.tsx';
import { Card, Field, ProblemBanner, Status, useAction } from '../ui.tsx';

type Endpoint = Ok<'/api/webhook-endpoints/{id}', 'get'>;
type Delivery = Ok<'/api/webhook-endpoints/{id}/deliveries', 'get'>['data'][number];
type EventName = paths['/api/webhook-endpoints']['post']['requestBody']['content']['application/json']['events'][number];

function Deliveries({ endpoint }: { endpoint: Endpoint }) {
  const can = useCan();
  const [rows, setRows] = useState<Delivery[]>([]);
  const load = () => void call(() => client.GET('/api/webhook-endpoints/{id}/deliveries', { params: { path: { id: endpoint.id }, query: { limit: 25 } } })).then((p) => setRows(p.data));
  useEffect(load, [endpoint.id]);
  const replay = useAction(async (id: string) => {
    await call(() => client.POST('/api/webhook-deliveries/{id}/replay', { params: { path: { id } }, body: {} as never }));
    load();
  });
  return (
    <>
      <table>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
            <th scope="col">When</th>
            <th scope="col">
              <span class="visually-hidden">Replay</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={6} class="muted">
                Nothing delivered yet.
              </td>
            </tr>
          )}
          {rows.map((d) => (
            <tr key={d.id}>
              <td>{d.event_type}</td>
              <td>
                <Status value={d.status} />
              </td>
              <td>{d.attempts}</td>
              <td>{d.last_status_code ?? d.last_error ?? '—'}</td>
              <td>{when(d.created_at)}</td>
              <td>
                {can('webhooks:write') && (
                  <button type="button" class="link" onClick={() => void replay.run(d.id)}>
                    Replay
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ProblemBanner error={replay.error} />
    </>
  );
}

export function Webhooks() {
  const can = useCan();
  const [endpoints, setEndpoints] = useState<Endpoint[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('order.created, order.paid');
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    call(() => client.GET('/api/webhook-endpoints', { params: { query: { limit: 50 } } }))
      .then((p) => setEndpoints(p.data))
      .catch(setError);
  useEffect(() => void load(), []);
  const create = useAction(async () => {
    const e = await call(() => client.POST('/api/webhook-endpoints', { body: { url, events: events.split(',').map((x) => x.trim()).filter(Boolean) as EventName[] } }));
    setSecret((e as { secret?: string }).secret ?? null);
    setUrl('');
    await load();
  });
  const remove = useAction(async (id: string) => {
    await call(() => client.DELETE('/api/webhook-endpoints/{id}', { params: { path: { id } } }));
    await load();
  });
  const err = create.error instanceof ApiError ? create.error : null;
  return (
    <div class="grid">
      <section class="card wide" aria-label="Webhook endpoints">
        <h1>Webhooks</h1>
        <ProblemBanner error={error ?? remove.error} />
        <ul class="imports">
          {endpoints.length === 0 && <li class="muted">No endpoints.</li>}
          {endpoints.map((e) => (
            <li key={e.id}>
              <button type="button" class="link" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>
                {e.url}
              </button>{' '}
              <Status value={e.status} /> <span class="muted">{e.events.join(', ')}</span>
              {can('webhooks:write') && (
                <button type="button" class="link" onClick={() => confirm(`Delete the endpoint ${e.url} and its delivery log?`) && void remove.run(e.id)}>
                  Delete
                </button>
              )}
              {open === e.id && <Deliveries endpoint={e} />}
            </li>
          ))}
        </ul>
      </section>
      {can('webhooks:write') && (
        <Card title="Add an endpoint" wide>
          <form
            aria-label="Add an endpoint"
            onSubmit={(e) => {
              e.preventDefault();
              void create.run();
            }}
          >
            <Field label="URL (https)" name="url" type="url" value={url} onInput={setUrl} required error={err?.field('url')} />
            <Field label="Events (comma-separated, * for all)" name="events" value={events} onInput={setEvents} required error={err?.problem.errors?.find((x) => x.pointer.startsWith('/body/events'))?.detail} />
            <ProblemBanner error={err?.field('url') ? null : create.error} />
            <button type="submit" disabled={create.busy}>
              Add endpoint
            </button>
          </form>
          {secret && (
            <p role="status">
              Signing secret (shown once): <code>{secret}</code>
            </p>
          )}
        </Card>
      )}
    </div>
  );
}
