import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

/** A problem from the API, shown where the action was (its fields are shown next to the fields themselves). */
export function ProblemBanner({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? `${error.problem.detail ?? error.problem.title ?? ''} (${error.problem.code})` : String((error as Error).message ?? error);
  return (
    <p class="problem" role="alert">
      {text}
    </p>
  );
}

/** A labelled input; `error` (from ApiError.field) is shown under it and tied to it for screen readers. */
export function Field(p: { label: string; name: string; type?: string; value: string; onInput: (v: string) => void; error?: string | undefined; required?: boolean; autoComplete?: string; min?: number; step?: number }) {
  const id = `f-${p.name}`;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? 'text'}
        value={p.value}
        required={p.required}
        autoComplete={p.autoComplete}
        min={p.min}
        step={p.step}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={p.error ? `${id}-error` : undefined}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
      />
      {p.error && (
        <span id={`${id}-error`} class="field-error">
          {p.error}
        </span>
      )}
    </div>
  );
}

/** Runs an action, with its pending state and its error for the caller to show. */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<unknown>): { run: (...args: A) => Promise<void>; busy: boolean; error: unknown } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return {
    busy,
    error,
    run: async (...args: A) => {
      setBusy(true);
      setError(null);
      try {
        await fn(...args);
      } catch (e) {
        setError(e);
      } finally {
        setBusy(false);
      }
    },
  };
}

export function Card({ title, children, wide }: { title: string; children: ComponentChildren; wide?: boolean }) {
  return (
    <section class={wide ? 'card wide' : 'card'} aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function Status({ value }: { value: string }) {
  return <span class={`status status-${value}`}>{value.replace(/_/g, ' ')}</span>;
}

/** A cursor-paged list (every list of the API answers `data`, `has_more`, `next_cursor`): the first page again whenever `deps` change, more on demand. */
export function usePaged<T>(fetchPage: (cursor: string | null) => Promise<{ data: T[]; has_more: boolean; next_cursor?: string | null }>, deps: unknown[], delayMs = 0): { rows: T[]; more: (() => void) | null; error: unknown; reload: () => void } {
  const [rows, setRows] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = async (after: string | null) => {
    try {
      const page = await fetchPage(after);
      setRows((r) => (after ? [...r, ...page.data] : page.data));
      setCursor(page.has_more ? (page.next_cursor ?? null) : null);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    const timer = setTimeout(() => void load(null), delayMs);
    return () => clearTimeout(timer);
  }, deps);
  return { rows, error, more: cursor ? () => void load(cursor) : null, reload: () => void load(null) };
}

/** A list of the API as a table: its column headings, one row per item (the children), a line when empty, and "More". */
export function ListTable({ columns, empty, more, children }: { columns: string[]; empty: string; more?: (() => void) | null; children: ComponentChildren[] }) {
  return (
    <>
      <table class="list" tabIndex={0}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {children}
          {children.length === 0 && (
            <tr>
              <td colSpan={columns.length} class="muted">
                {empty}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {more && (
        <button type="button" onClick={more}>
          More
        </button>
      )}
    </>
  );
}

/** A labelled filter of a list: '' is "all"; underscores read as spaces. */
export function FilterSelect({ id, label, value, options, onChange }: { id: string; label: string; value: string; options: readonly string[]; onChange: (v: string) => void }) {
  return (
    <>
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
        {options.map((s) => (
          <option key={s} value={s}>
            {s ? s.replace(/_/g, ' ') : 'all'}
          </option>
        ))}
      </select>
    </>
  );
}
