#!/usr/bin/env node
// Entry point of the `stockroom` command. The source is TypeScript run by Node's own type stripping.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 6)) {
  console.error(`stockroom: Node.js >= 22 is required (found ${process.version})`);
  process.exit(1);
}
if (!process.features.typescript) {
  // Node 22.6–22.17 strips types only with a flag: run ourselves again with it.
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
// V8's compile cache (Node >= 22.1): the second start skips parsing and compiling what did not change.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
await import('../src/cli.ts');
