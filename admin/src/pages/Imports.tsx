import { useEffect, useState } from 'preact/hooks';
import { ApiError, accessToken, call, client, type Ok } from '../api.ts';
import { when } from '../format.ts';
import { useChannel } from '../realtime.ts';
import { useCan } from '../session.tsx';
import { Card, ProblemBanner, Status, useAction } from '../ui.tsx';

type Import = Ok<'/api/imports/{id}', 'get'>;
type ImportProblem = Ok<'/api/imports/{id}/errors', 'get'>['data'][number];

/** Uploads go as multipart/form-data (field "file"): the typed client covers JSON; this is the one raw call. */
async function upload(file: File, kind: 'products' | 'contacts', dryRun: boolean): Promise<Import> {
  const form = new FormData();
  form.append('file', file);
  const res = await fetch(`/api/imports?kind=${kind}&dry_run=${dryRun}`, { method: 'POST', headers: { authorization: `Bearer ${(await accessToken()) ?? ''}`, 'idempotency-key': crypto.randomUUID() }, body: form });
  const body = (await res.json()) as unknown;
  if (!res.ok) {
    const p = body as { code?: string; detail?: string };
    throw new ApiError({ status: res.status, code: p.code ?? 'http_error', detail: p.detail ?? `HTTP ${res.status}` });
  }
  return body as Import;
}

/** The error report as a file (it needs the token, so it cannot be a plain link). */
async function downloadErrors(imp: Import): Promise<void> {
  const res = await fetch(`/api/imports/${imp.id}/errors.csv`, { headers: { authorization: `Bearer ${(await accessToken()) ?? ''}` } });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${imp.filename}.errors.csv`;
  a.click();
  URL.revokeObjectURL(url);
}

function Progress({ imp }: { imp: Import }) {
  const done = imp.status === 'succeeded' || imp.status === 'failed' || imp.status === 'cancelled';
  return (
    <div class="progress-row">
      <progress max={100} value={done && imp.status === 'succeeded' ? 100 : imp.percent} aria-label={`Progress of ${imp.filename}`} data-testid={`progress-${imp.id}`} />
      <span>{done ? <Status value={imp.status} /> : `${imp.percent} %`}</span>
    </div>
  );
}

function Report({ imp, onApplied }: { imp: Import; onApplied: (i: Import) => void }) {
  const can = useCan();
  const [problems, setProblems] = useState<ImportProblem[]>([]);
  useEffect(() => {
    if (imp.error_count > 0) void call(() => client.GET('/api/imports/{id}/errors', { params: { path: { id: imp.id }, query: { limit: 50 } } })).then((p) => setProblems(p.data));
  }, [imp.id, imp.error_count]);
  const apply = useAction(async () => onApplied(await call(() => client.POST('/api/imports/{id}/apply', { params: { path: { id: imp.id } }, body: {} }))));
  return (
    <div class="report" data-testid={`report-${imp.id}`}>
      <p>
        {imp.mode === 'dry_run' ? 'Dry run: ' : ''}
        {imp.rows_done} rows — {imp.created} new, {imp.updated} changed, {imp.unchanged} unchanged, {imp.failed} not imported.
        {imp.error && <span class="problem"> {imp.error}</span>}
      </p>
      {problems.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Column</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {problems.map((p, i) => (
              <tr key={i}>
                <td>{p.row}</td>
                <td>{p.column || '—'}</td>
                <td>{p.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="actions">
        {imp.error_count > 0 && (
          <button type="button" class="secondary" onClick={() => void downloadErrors(imp)}>
            Download the error report (CSV)
          </button>
        )}
        {imp.mode === 'dry_run' && imp.status === 'succeeded' && can('imports:write') && (
          <button type="button" disabled={apply.busy} onClick={() => void apply.run()}>
            Import for real
          </button>
        )}
      </div>
      <ProblemBanner error={apply.error} />
    </div>
  );
}

export function Imports() {
  const can = useCan();
  const [list, setList] = useState<Import[]>([]);
  const [file, setFile] = useState<File | null>(null);
  const [kind, setKind] = useState<'products' | 'contacts'>('products');
  const [dryRun, setDryRun] = useState(true);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    call(() => client.GET('/api/imports', { params: { query: { limit: 20 } } }))
      .then((p) => setList(p.data))
      .catch(setError);
  useEffect(() => void load(), []);
  const merge = (i: Import) => setList((l) => [i, ...l.filter((x) => x.id !== i.id)].sort((a, b) => (a.created_at < b.created_at ? 1 : -1)));
  // Progress as it happens: the imports channel (import.progress at most once a second, then completed or failed).
  useChannel('imports', (m) => {
    const d = m.data as Partial<Import> & { import_id?: string };
    const id = d.import_id ?? d.id;
    if (!id) return;
    if (m.event === 'import.progress') setList((l) => l.map((x) => (x.id === id ? { ...x, ...d, id } : x)));
    else void call(() => client.GET('/api/imports/{id}', { params: { path: { id } } })).then(merge);
  }, load);
  const send = useAction(async () => {
    if (!file) return;
    const imp = await upload(file, kind, dryRun);
    merge(imp);
    setOpen(imp.id);
  });
  return (
    <div class="grid">
      {can('imports:write') && (
        <Card title="Upload" wide>
          <form
            aria-label="Upload an import"
            onSubmit={(e) => {
              e.preventDefault();
              void send.run();
            }}
          >
            <div class="field">
              <label for="f-kind">What</label>
              <select id="f-kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as 'products')}>
                <option value="products">products</option>
                <option value="contacts">contacts</option>
              </select>
            </div>
            <div class="field">
              <label for="f-file">File (CSV or NDJSON)</label>
              <input id="f-file" type="file" accept=".csv,.ndjson,.jsonl,text/csv,application/x-ndjson" required onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
            </div>
            <div class="check">
              <input id="f-dry" type="checkbox" checked={dryRun} onChange={(e) => setDryRun((e.currentTarget as HTMLInputElement).checked)} />
              <label for="f-dry">Dry run: check every row, write nothing</label>
            </div>
            <ProblemBanner error={send.error} />
            <button type="submit" disabled={send.busy || !file}>
              Upload
            </button>
          </form>
        </Card>
      )}
      <Card title="Imports" wide>
        <ProblemBanner error={error} />
        <ul class="imports">
          {list.length === 0 && <li class="muted">No imports yet.</li>}
          {list.map((i) => (
            <li key={i.id}>
              <button type="button" class="link" aria-expanded={open === i.id} onClick={() => setOpen(open === i.id ? null : i.id)}>
                {i.filename}
              </button>{' '}
              <span class="muted">
                {i.kind}, {i.mode === 'dry_run' ? 'dry run' : 'import'}, {when(i.created_at)}
              </span>
              <Progress imp={i} />
              {open === i.id && (i.status === 'succeeded' || i.status === 'failed') && <Report imp={i} onApplied={(n) => (merge(n), setOpen(n.id))} />}
            </li>
          ))}
        </ul>
      </Card>
    </div>
  );
}
