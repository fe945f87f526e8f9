import { useEffect, useState } from 'preact/hooks';
import { call, client, type Ok } from '../api.ts';
import { when } from '../format.ts';
import { useCan } from '../session.tsx';
import { Card, FilterSelect, ProblemBanner, Status, useAction } from '../ui.tsx';

type Job = Ok<'/api/jobs', 'get'>['data'][number];
type Schedule = Ok<'/api/schedules', 'get'>['data'][number];
const STATUSES = ['', 'queued', 'running', 'succeeded', 'dead', 'cancelled'] as const;

export function Jobs() {
  const can = useCan();
  const [status, setStatus] = useState('');
  const [jobs, setJobs] = useState<Job[]>([]);
  const [schedules, setSchedules] = useState<Schedule[]>([]);
  const [error, setError] = useState<unknown>(null);
  const load = () => {
    call(() => client.GET('/api/jobs', { params: { query: { limit: 50, ...(status ? { status: status as 'dead' } : {}) } } }))
      .then((p) => setJobs(p.data))
      .catch(setError);
  };
  useEffect(load, [status]);
  useEffect(() => {
    if (can('jobs:read')) void call(() => client.GET('/api/schedules', { params: { query: { limit: 50 } } })).then((p) => setSchedules(p.data)).catch(setError);
  }, []);
  const retry = useAction(async (id: string) => {
    await call(() => client.POST('/api/jobs/{id}/retry', { params: { path: { id } }, body: {} as never }));
    load();
  });
  const cancel = useAction(async (id: string) => {
    await call(() => client.POST('/api/jobs/{id}/cancel', { params: { path: { id } }, body: {} as never }));
    load();
  });
  return (
    <div class="grid">
      <section class="card wide" aria-label="Jobs">
        <h1>Jobs</h1>
        <div class="toolbar">
          <FilterSelect id="job-status" label="Status" value={status} options={STATUSES} onChange={setStatus} />
        </div>
        <ProblemBanner error={error ?? retry.error ?? cancel.error} />
        <table class="list" tabIndex={0}>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last error</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {jobs.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  No jobs.
                </td>
              </tr>
            )}
            {jobs.map((j) => (
              <tr key={j.id}>
                <td>{j.type}</td>
                <td>
                  <Status value={j.status} />
                </td>
                <td>
                  {j.attempts}/{j.max_attempts}
                </td>
                <td>{j.last_error ?? '—'}</td>
                <td>{when(j.created_at)}</td>
                <td>
                  {can('jobs:write') && (j.status === 'dead' || j.status === 'cancelled') && (
                    <button type="button" class="link" onClick={() => void retry.run(j.id)}>
                      Retry
                    </button>
                  )}
                  {can('jobs:write') && j.status === 'queued' && (
                    <button type="button" class="link" onClick={() => void cancel.run(j.id)}>
                      Cancel
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Card title="Schedules" wide>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Task</th>
              <th scope="col">When (cron)</th>
              <th scope="col">Status</th>
              <th scope="col">Next run</th>
            </tr>
          </thead>
          <tbody>
            {schedules.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  No schedules.
                </td>
              </tr>
            )}
            {schedules.map((s) => (
              <tr key={s.id}>
                <td>{s.name}</td>
                <td>{s.task}</td>
                <td>
                  <code>{s.cron}</code> {s.timezone}
                </td>
                <td>
                  <Status value={s.status} />
                </td>
                <td>{when(s.next_run_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
