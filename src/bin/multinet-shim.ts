#!/usr/bin/env node
/**
 * multinet-shim: the CNI plugin binary of thick mode. Bundled by `npm run build:shim` into
 * dist/multinet-shim.js with nothing but node:fs and node:net, because the runtime starts it
 * once per pod network call (docs/daemon.md has its start-up time). Its one request is a raw
 * socket write (raw-unix-post.ts): node:http's client cost more than the request itself
 * (bench/ scenario 5 keeps that build as the `-http` candidates).
 */
import type * as Fs from 'node:fs';
import { readStdinSync } from '../shim/read-stdin-sync.ts';
import { runShim } from '../shim/run-shim.ts';
import { rawUnixPost } from '../shim/raw-unix-post.ts';

const fs = process.getBuiltinModule('node:fs') as typeof Fs;

function readStdin(): string {
  try {
    return readStdinSync(fs).toString('utf8');
  } catch {
    return '';
  }
}

runShim(process.env, process.env['CNI_COMMAND'] ? readStdin() : '', {
  post: rawUnixPost,
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
