// A real Redis for the sweep tests: Debian's redis-server on a free loopback port, no persistence,
// stopped by the test that started it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, Socket } from 'node:net';

/** Path of redis-server, or null when it is not installed. */
export function redisServerPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** A TCP port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A running redis-server. */
export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });
}

/**
 * Start redis-server on a free port (or on `port`: a Redis restarted, empty, where clients expect it);
 * resolves when it accepts connections.
 */
export async function startRedis(port?: number): Promise<RedisServer> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server is not installed');
  port ??= await freePort();
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (d) => {
    log += d;
  });
  child.stderr?.on('data', (d) => {
    log += d;
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${log}`);
    if (await accepts(port)) return { url: `redis://127.0.0.1:${port}`, port, process: child, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`redis-server did not accept connections on port ${port} within 10 s: ${log}`);
}

/**
 * The skip reason of a suite that needs redis-server (false when it is installed). A missing server is
 * announced on stderr, and is an error when LABELSMOOTH_REQUIRE_REDIS=1 (as in CI).
 */
export function redisSkip(suite: string): false | string {
  if (redisServerPath() !== null) return false;
  const why = `redis-server is not installed (apt-get install redis-server; .ci/run installs it): the ${suite} did NOT run`;
  if (process.env.LABELSMOOTH_REQUIRE_REDIS === '1')
    throw new Error(`LABELSMOOTH_REQUIRE_REDIS=1 but ${why}`);
  process.stderr.write(`\n${'!'.repeat(100)}\n!!! SKIPPED: ${why}\n${'!'.repeat(100)}\n\n`);
  return why;
}
