// Runs inside a test node namespace: listens on 127.0.0.1:<port> there and forwards every
// connection to a unix socket, which crosses network namespaces. With the host-side half in
// api-forwarder.ts, a "node" reaches the test API server at the same URL as the host does,
// without any link into the root namespace. Plain JS so that it starts fast.
import net from 'node:net';

const [port, socketPath] = process.argv.slice(2);
const server = net.createServer((conn) => {
  const up = net.connect(socketPath);
  conn.pipe(up).pipe(conn);
  const close = () => {
    conn.destroy();
    up.destroy();
  };
  conn.on('error', close);
  up.on('error', close);
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
