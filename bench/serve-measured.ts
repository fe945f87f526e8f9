// `stockroom serve` for benchmarks that need the server's own memory: the same startServer() as `npm start`, run
// with --expose-gc; on the IPC message "memory" it collects garbage twice and answers process.memoryUsage().
import { loadConfig } from '../src/config.ts';
import { handleSignals, startServer } from '../src/server.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.send) throw new Error('run with --expose-gc as a child process with IPC');
const config = loadConfig();
const server = await startServer(config);
handleSignals(server, config.shutdownTimeoutSeconds);
process.on('message', (m) => {
  if (m !== 'memory') return;
  gc();
  setTimeout(() => {
    gc();
    process.send?.({ memory: process.memoryUsage() });
  }, 200);
});
const d = server.demo;
process.stdout.write(`listening on ${server.url}\n${d ? `staff login: ${d.email} / ${d.password}\n` : ''}`);
