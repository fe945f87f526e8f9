import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, test } from 'node:test';

/**
 * The house rules of docs/architecture.md, checked on the source so that CI says when one is broken:
 *  - the core (services, workflows, lib, db) knows no transport: no Fastify import, no HTTP status;
 *  - only repositories (and src/db) build SQL with Kysely;
 *  - the import graph has no cycle (type imports included: a type cycle still ties the files together);
 *  - modules are units: used from outside only through their index.ts (app.ts alone mounts their *.routes.ts),
 *    depend on each other without a cycle, and never on workflows/ (which sit above them).
 */
const SRC = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const all = files(SRC).map((p) => ({ path: relative(SRC, p), text: readFileSync(p, 'utf8') }));
/** The REST transport and the composition root: the only places that know HTTP. */
const transport = (p: string) => p.startsWith('http/') || p.startsWith('realtime/') || p.startsWith('graphql/') || p.endsWith('.routes.ts') || p === 'app.ts' || p === 'server.ts' || p === 'cli.ts';
/** Code allowed to build SQL: repositories, the database layer. */
const sqlAllowed = (p: string) => p.endsWith('.repository.ts') || p.startsWith('db/');
/**
 * Files that still build SQL outside a repository — known debt, to be moved (issue 9, item 3). The list may only
 * shrink: a file that no longer needs its entry fails this test until the entry is removed.
 */
const SQL_DEBT = new Set<string>([]);
const QUERY = /\.(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(|\bsql`/;

const importsOf = (f: { path: string; text: string }) =>
  [...f.text.matchAll(/^(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/gm)].map((m) => normalize(join(dirname(f.path), m[1] as string)));
const moduleOf = (p: string) => (p.startsWith('modules/') ? (p.split('/')[1] as string) : null);

describe('architecture', () => {
  test('the core imports nothing of a transport and names no HTTP status', () => {
    const bad = all.filter((f) => !transport(f.path)).flatMap((f) => {
      const out: string[] = [];
      if (/from 'fastify'|from '@fastify\//.test(f.text)) out.push(`${f.path} imports Fastify`);
      if (/\b(status|statusCode)\s*[:=]\s*[1-5]\d\d\b|\.code\([1-5]\d\d\)|reply\./.test(f.text)) out.push(`${f.path} names an HTTP status`);
      return out;
    });
    assert.deepEqual(bad, []);
  });

  test('only repositories and src/db build SQL', () => {
    const offenders = all.filter((f) => !sqlAllowed(f.path) && QUERY.test(f.text)).map((f) => f.path);
    assert.deepEqual(offenders.filter((p) => !SQL_DEBT.has(p)), [], 'new SQL outside a repository');
    assert.deepEqual([...SQL_DEBT].filter((p) => !offenders.includes(p)), [], 'moved into a repository: take it off SQL_DEBT');
  });

  test('the import graph has no cycle', () => {
    const graph = new Map<string, string[]>();
    for (const f of all) {
      graph.set(f.path, importsOf(f));
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (n: string) => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(n)), n].join(' → '));
        return;
      }
      state.set(n, 'open');
      stack.push(n);
      for (const d of graph.get(n) ?? []) visit(d);
      stack.pop();
      state.set(n, 'done');
    };
    for (const n of graph.keys()) visit(n);
    assert.deepEqual(cycles, []);
  });

  test('a module is used from outside only through its index.ts; app.ts alone mounts its routes', () => {
    const bad = all.flatMap((f) =>
      importsOf(f)
        .filter((to) => moduleOf(to) !== null && moduleOf(to) !== moduleOf(f.path))
        .filter((to) => !to.endsWith('/index.ts') && !(f.path === 'app.ts' && to.endsWith('.routes.ts')))
        .map((to) => `${f.path} → ${to}`),
    );
    assert.deepEqual(bad, []);
    const leaking = all.filter((f) => f.path.endsWith('/index.ts') && moduleOf(f.path)).flatMap((f) => importsOf(f).filter((to) => to.endsWith('.routes.ts')).map((to) => `${f.path} → ${to}`));
    assert.deepEqual(leaking, [], 'a module’s face holds no transport adapter');
  });

  test('modules depend on each other without a cycle, and never on workflows/', () => {
    const deps = new Map<string, Set<string>>();
    const onWorkflows: string[] = [];
    for (const f of all) {
      const m = moduleOf(f.path);
      if (!m) continue;
      for (const to of importsOf(f)) {
        const t = moduleOf(to);
        if (t && t !== m) deps.set(m, (deps.get(m) ?? new Set()).add(t));
        if (to.startsWith('workflows/') && !transport(f.path)) onWorkflows.push(`${f.path} → ${to}`);
      }
    }
    assert.deepEqual(onWorkflows, [], 'a module’s core calls no workflow (only its routes may)');
    const cycles: string[] = [];
    const walk = (m: string, path: string[]) => {
      if (path.includes(m)) return void cycles.push([...path.slice(path.indexOf(m)), m].join(' → '));
      for (const t of deps.get(m) ?? []) walk(t, [...path, m]);
    };
    for (const m of deps.keys()) walk(m, []);
    assert.deepEqual([...new Set(cycles)], []);
    assert.ok(deps.size >= 10, 'the check sees the modules');
  });
});
