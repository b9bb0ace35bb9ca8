import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_SIDE = fileURLToPath(new URL('./api-forwarder.mjs', import.meta.url));

/**
 * Makes the test API server (on the host's loopback) reachable at the same URL from inside a
 * test node namespace: a unix socket in `dir` joins a TCP listener in the node namespace to the
 * real server. Returns a stop function (also called when the process exits).
 */
export async function forwardApiIntoNetns(
  server: string,
  nodeNs: string,
  dir: string,
): Promise<() => Promise<void>> {
  const url = new URL(server);
  const port = Number(url.port);
  const socketPath = join(dir, `api-${nodeNs}.sock`);
  const unixServer = net.createServer((conn) => {
    const up = net.connect(port, url.hostname);
    conn.pipe(up).pipe(conn);
    const close = () => {
      conn.destroy();
      up.destroy();
    };
    conn.on('error', close);
    up.on('error', close);
  });
  await new Promise<void>((resolve, reject) => {
    unixServer.once('error', reject);
    unixServer.listen(socketPath, resolve);
  });
  const child: ChildProcess = spawn(
    'nsenter',
    [`--net=/run/netns/${nodeNs}`, '--', process.execPath, NODE_SIDE, String(port), socketPath],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`api forwarder in ${nodeNs} exited with ${code}`)));
  });
  return async () => {
    process.off('exit', kill);
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => unixServer.close(() => resolve()));
    await rm(socketPath, { force: true });
  };
}
