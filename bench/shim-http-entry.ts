/**
 * Shim candidates: the shim with node:http's client for its one request (what shipped before
 * src/shim/raw-unix-post.ts), kept to show what the raw socket write saves; with
 * MULTINET_BENCH_SHIM_POST=node-net, the raw write through node:net even under Bun (what the Bun
 * executable did before it used Bun's own socket); with =raw, the shipped raw write, printed
 * through process.stdout (what the shipped shim did before it wrote synchronously and exited).
 * Built by bench/shim-builds.ts only; the shipped entry is src/bin/multinet-shim.ts.
 */
import type * as Fs from 'node:fs';
import type * as Http from 'node:http';
import { readStdinSync } from '../src/shim/stdio-sync.ts';
import { runShim, type PostResult } from '../src/shim/run-shim.ts';
import { nodeNetPost, rawUnixPost } from '../src/shim/raw-unix-post.ts';

const fs = process.getBuiltinModule('node:fs') as typeof Fs;

function httpPost(socketPath: string, path: string, body: string): Promise<PostResult> {
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

function readStdin(): string {
  try {
    return readStdinSync(fs).toString('utf8');
  } catch {
    return '';
  }
}

runShim(process.env, process.env['CNI_COMMAND'] ? readStdin() : '', {
  post:
    { 'node-net': nodeNetPost, raw: rawUnixPost }[process.env['MULTINET_BENCH_SHIM_POST'] ?? ''] ?? httpPost,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => Date.now(),
}).then(
  (out) => {
    process.stdout.write(out.stdout);
    if (out.stderr) process.stderr.write(out.stderr);
    process.exitCode = out.exitCode;
  },
  (err: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ code: 999, msg: 'multinet-shim failed', details: err instanceof Error ? err.message : String(err) })}\n`,
    );
    process.exitCode = 1;
  },
);
