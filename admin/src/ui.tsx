import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
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
