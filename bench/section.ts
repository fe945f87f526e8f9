import { existsSync, readFileSync, writeFileSync } from 'node:fs';

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
