#!/usr/bin/env node
/**
 * multinet-shim: the CNI plugin binary of thick mode. Bundled by `npm run build:shim` into
 * dist/multinet-shim.js with nothing but node:fs and node:net, because the runtime starts it
 * once per pod network call (docs/daemon.md has its start-up time). Its one request is a raw
 * socket write (raw-unix-post.ts): node:http's client cost more than the request itself
 * (bench/ scenario 5 keeps that build as the `-http` candidates). It prints with a synchronous
 * write and exits at once: process.stdout's stream machinery cost more than the request under Bun.
 */
import type * as Fs from 'node:fs';
import { readStdinSync, writeAllSync } from '../shim/stdio-sync.ts';
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
  (out) => finish(out.stdout, out.stderr, out.exitCode),
  (err: unknown) =>
    finish(
      `${JSON.stringify({ code: 999, msg: 'multinet-shim failed', details: err instanceof Error ? err.message : String(err) })}\n`,
      '',
      1,
    ),
);

function finish(stdout: string, stderr: string, exitCode: number): never {
  try {
    writeAllSync(fs, 1, stdout);
    writeAllSync(fs, 2, stderr);
  } catch {
    // The runtime closed our stdout: nobody is left to tell.
    process.exit(exitCode === 0 ? 1 : exitCode);
  }
  process.exit(exitCode);
}
