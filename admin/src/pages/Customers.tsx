import { useEffect, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { ApiError, call, client, type Ok } from '../api.ts';
import { when } from '../format.ts';
import { useCan, useMe } from '../session.tsx';
import { Card, Field, FilterSelect, ListTable, ProblemBanner, Status, useAction, usePaged } from '../ui.tsx';

type Contact = Ok<'/api/contacts/{id}', 'get'>;
type Activity = Ok<'/api/contacts/{id}/timeline', 'get'>['data'][number];
type Segment = Ok<'/api/segments', 'get'>['data'][number];

const STAGES = ['', 'lead', 'customer', 'repeat', 'lapsed'] as const;

export function Customers() {
  const [email, setEmail] = useState('');
  const [stage, setStage] = useState('');
  const [segments, setSegments] = useState<Segment[]>([]);
  const list = usePaged((after) => call(() => client.GET('/api/contacts', { params: { query: { limit: 25, ...(email.trim() ? { email: email.trim() } : {}), ...(stage ? { stage: stage as 'lead' } : {}), ...(after ? { cursor: after } : {}) } } })), [email, stage], 200);
  const rows = list.rows;
  useEffect(() => {
    void call(() => client.GET('/api/segments', { params: { query: { limit: 50 } } })).then((p) => setSegments(p.data)).catch(() => undefined);
  }, []);
  return (
    <div class="grid">
      <section class="card wide" aria-label="Customers">
        <h1>Customers</h1>
        <div class="toolbar wide-toolbar">
          <label for="contact-email">Email</label>
          <input id="contact-email" type="search" value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
          <FilterSelect id="contact-stage" label="Stage" value={stage} options={STAGES} onChange={setStage} />
        </div>
        <ProblemBanner error={list.error} />
        <ListTable columns={['Email', 'Name', 'Stage', 'Marketing']} empty="No customers." more={list.more}>
          {rows.map((c) => (
            <tr key={c.id}>
              <td>
                <Link href={`/customers/${c.id}`}>{c.email}</Link>
              </td>
              <td>{[c.first_name, c.last_name].filter(Boolean).join(' ') || '—'}</td>
              <td>
                <Status value={c.stage} />
              </td>
              <td>{c.consent.status}</td>
            </tr>
          ))}
        </ListTable>
      </section>
      <Card title="Segments">
        <ul>
          {segments.length === 0 && <li class="muted">No segments.</li>}
          {segments.map((s) => (
            <li key={s.id}>
              {s.name} <span class="muted">({s.member_count} members)</span>
            </li>
          ))}
        </ul>
      </Card>
    </div>
  );
}

export function CustomerDetail({ id }: { id: string }) {
  const can = useCan();
  const me = useMe();
  const [contact, setContact] = useState<Contact | null>(null);
  const [timeline, setTimeline] = useState<Activity[]>([]);
  const [scores, setScores] = useState<Record<string, unknown> | null>(null);
  const [note, setNote] = useState('');
  const [task, setTask] = useState('');
  const [due, setDue] = useState('');
  const [error, setError] = useState<unknown>(null);
  const load = () => {
    call(() => client.GET('/api/contacts/{id}', { params: { path: { id } } }))
      .then(setContact)
      .catch(setError);
    call(() => client.GET('/api/contacts/{id}/timeline', { params: { path: { id }, query: { limit: 50 } } }))
      .then((p) => setTimeline(p.data))
      .catch(setError);
    call(() => client.GET('/api/contacts/{id}/scores', { params: { path: { id } } }))
      .then((s) => setScores(s as unknown as Record<string, unknown>))
      .catch(() => undefined);
  };
  useEffect(load, [id]);
  const addNote = useAction(async () => {
    await call(() => client.POST('/api/contacts/{id}/notes', { params: { path: { id } }, body: { body: note, type: 'note' } }));
    setNote('');
    load();
  });
  const addTask = useAction(async () => {
    await call(() => client.POST('/api/contacts/{id}/tasks', { params: { path: { id } }, body: { title: task, due_at: new Date(due).toISOString(), assignee_id: me.id } }));
    setTask('');
    setDue('');
    load();
  });
  const done = useAction(async (taskId: string) => {
    await call(() => client.PATCH('/api/contacts/{id}/tasks/{taskId}', { params: { path: { id, taskId } }, body: { done: true } }));
    load();
  });
  if (!contact) return error ? <ProblemBanner error={error} /> : <p class="loading">Loading…</p>;
  const noteErr = addNote.error instanceof ApiError ? addNote.error : null;
  const taskErr = addTask.error instanceof ApiError ? addTask.error : null;
  return (
    <div class="grid">
      <section class="card wide" aria-label="Customer">
        <h1>{contact.email}</h1>
        <p>
          {[contact.first_name, contact.last_name].filter(Boolean).join(' ')} <Status value={contact.stage} /> <span class="muted">marketing: {contact.consent.status}</span>
        </p>
        {scores && (
          <dl class="figures">
            {Object.entries(scores)
              .filter(([, v]) => typeof v === 'number')
              .slice(0, 6)
              .map(([k, v]) => (
                <div key={k}>
                  <dt>{k.replace(/_/g, ' ')}</dt>
                  <dd>{String(v)}</dd>
                </div>
              ))}
          </dl>
        )}
      </section>
      <Card title="Timeline">
        <ol class="timeline" data-testid="timeline">
          {timeline.length === 0 && <li class="muted">Nothing yet.</li>}
          {timeline.map((a) => (
            <li key={a.id}>
              <time>{when(a.occurred_at)}</time> <strong>{a.type.replace(/_/g, ' ')}</strong> {a.summary}
              {a.type === 'task' && !a.done_at && can('crm:write') && (
                <button type="button" class="link" onClick={() => void done.run(a.id)}>
                  Mark done
                </button>
              )}
              {a.type === 'task' && a.done_at && <span class="muted"> (done)</span>}
            </li>
          ))}
        </ol>
        <ProblemBanner error={done.error} />
      </Card>
      {can('crm:write') && (
        <Card title="Add">
          <form
            aria-label="Add a note"
            onSubmit={(e) => {
              e.preventDefault();
              void addNote.run();
            }}
          >
            <Field label="Note" name="body" value={note} onInput={setNote} required error={noteErr?.field('body')} />
            <ProblemBanner error={noteErr?.field('body') ? null : addNote.error} />
            <button type="submit" disabled={addNote.busy}>
              Add note
            </button>
          </form>
          <form
            aria-label="Add a task"
            onSubmit={(e) => {
              e.preventDefault();
              void addTask.run();
            }}
          >
            <Field label="Task" name="title" value={task} onInput={setTask} required error={taskErr?.field('title')} />
            <Field label="Due" name="due_at" type="datetime-local" value={due} onInput={setDue} required error={taskErr?.field('due_at')} />
            <ProblemBanner error={taskErr?.field('title') || taskErr?.field('due_at') ? null : addTask.error} />
            <button type="submit" disabled={addTask.busy}>
              Add task
            </button>
          </form>
        </Card>
      )}
    </div>
  );
}
