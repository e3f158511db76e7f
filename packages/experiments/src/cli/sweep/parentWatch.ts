import { Worker } from 'node:worker_threads';

// The watchdog runs on its own thread: the trial's main thread may be busy for seconds without
// returning to its event loop (loading data, evaluating), so neither an IPC 'disconnect' nor a timer
// there can be relied on. A changed parent pid means the parent died (its orphans are re-parented);
// SIGKILL of ourselves cannot be caught or delayed by the busy thread.
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.parent) process.kill(process.pid, 'SIGKILL');
}, workerData.intervalMs);
`;

/**
 * Kill this process within `intervalMs` of its parent `parent` (a pid) dying, whatever the main thread
 * is doing. Already orphaned (the parent died before we looked): killed at the first check. The watchdog
 * thread does not keep the process alive.
 */
export function exitWithParent(parent: number, intervalMs = 200): void {
  const watchdog = new Worker(WATCHDOG, { eval: true, workerData: { parent, intervalMs } });
  watchdog.unref();
}
