import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
