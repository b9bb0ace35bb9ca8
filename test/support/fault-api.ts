/**
 * The test API server made reachable inside a node namespace (as test/support/api-forwarder.ts
 * does, with the same node-side half), for scenarios that stop the API server: every forwarded
 * connection is tracked and destroyed on stop, so tearing down never waits on a connection
 * half-closed by a server that died mid-stream.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_SIDE = fileURLToPath(new URL('./api-forwarder.mjs', import.meta.url));

export async function forwardApiForFaults(
  server: string,
  nodeNs: string,
  dir: string,
): Promise<() => Promise<void>> {
  const url = new URL(server);
  const socketPath = join(dir, `fault-api-${nodeNs}.sock`);
  const open = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  };
  const unixServer = net.createServer((conn) => {
    const up = net.connect(Number(url.port), url.hostname);
    track(conn);
    track(up);
    conn.pipe(up).pipe(conn);
    const close = () => {
      conn.destroy();
      up.destroy();
    };
    for (const s of [conn, up]) {
      s.on('error', close);
      s.on('end', close);
    }
  });
  await new Promise<void>((resolve, reject) => {
    unixServer.once('error', reject);
    unixServer.listen(socketPath, resolve);
  });
  const child = spawn(
    'nsenter',
    [`--net=/run/netns/${nodeNs}`, '--', process.execPath, NODE_SIDE, url.port, socketPath],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`api forwarder in ${nodeNs} exited with ${code}`)));
  });
  return async () => {
    process.off('exit', kill);
    child.kill('SIGKILL');
    const closed = new Promise<void>((resolve) => unixServer.close(() => resolve()));
    for (const s of open) s.destroy();
    await closed;
    await rm(socketPath, { force: true });
  };
}
