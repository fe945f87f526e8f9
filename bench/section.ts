import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';

/**
 * Replaces (or appends) one benchmark's section of docs/benchmarks.md, between its markers
 * `<!-- bench/<name>.ts: start -->` and `<!-- bench/<name>.ts: end -->`; the rest of the file stays.
 */
export function writeSection(out: string, name: string, section: string): void {
  const doc = existsSync(out) ? readFileSync(out, 'utf8') : '# Benchmarks\n';
  const re = new RegExp(`<!-- bench/${name}\\.ts: start -->[\\s\\S]*<!-- bench/${name}\\.ts: end -->`);
  writeFileSync(out, re.test(doc) ? doc.replace(re, () => section) : `${doc.trimEnd()}\n\n${section}\n`);
  process.stdout.write(`${section}\n`);
}

/** Runs `fn` with the URL of a new PostgreSQL database (made with the admin URL's rights), dropped afterwards. */
export async function withScratchDatabase<T>(adminUrl: string, prefix: string, fn: (url: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const name = `${prefix}_${Date.now()}`;
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

/** Time and peak memory (RSS growth over the start, sampled every 20 ms) of one step of a benchmark. */
export async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number; peakMb: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  const result = await fn();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { result, seconds, peakMb: (peak - base) / 2 ** 20 };
}

const ROOT = resolve(import.meta.dirname, '..');

/**
 * Starts `node …cmd` (in `cwd`, this checkout by default) and resolves once its output matches `ready`: the
 * process, its output so far, the match and how long it took to get there.
 */
export function startProcess(cmd: string[], env: Record<string, string>, ready: RegExp, cwd = ROOT): Promise<{ proc: ChildProcess; out: string; match: RegExpExecArray; port: number; readyMs: number }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const proc = spawn(process.execPath, cmd, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => rej(new Error(`did not start: ${out}`)), 60_000);
    let done = false;
    const on = (d: Buffer) => {
      out += String(d);
      const match = done ? null : ready.exec(out);
      if (match) {
        done = true;
        clearTimeout(timer);
        const readyMs = performance.now() - t0;
        setTimeout(() => res({ proc, out, match, port: Number(match[1] ?? 0), readyMs }), 300);
      }
    };
    proc.stdout?.on('data', on);
    proc.stderr?.on('data', on);
    proc.on('exit', (code) => rej(new Error(`exited ${code}: ${out}`)));
  });
}

/** Stops a process started by startProcess (SIGTERM) and waits for it to exit. */
export function stopProcess(p: ChildProcess): Promise<void> {
  return new Promise((r) => {
    p.removeAllListeners('exit');
    if (p.exitCode !== null) return r();
    p.on('exit', () => r());
    p.kill('SIGTERM');
  });
}

/** A JSON API call that must succeed: the parsed body, or an error with the status and body. */
export async function apiCall(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, { method: init.method ?? 'GET', headers: { 'content-type': 'application/json', ...(init.headers ?? {}) }, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
