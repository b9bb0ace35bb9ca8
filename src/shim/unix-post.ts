import type * as Http from 'node:http';
import type { PostResult } from './run-shim.ts';

/**
 * One HTTP POST over a unix socket. Uses process.getBuiltinModule instead of an import so that
 * the bundled shim has no import or require at all: it runs as a script whatever its file name
 * and whatever package.json sits near it on the host.
 */
export function unixPost(socketPath: string, path: string, body: string): Promise<PostResult> {
  const http = process.getBuiltinModule('node:http') as typeof Http;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          connection: 'close',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
