/**
 * The shim as it ships: the Bun executable of `npm run build:shim-bin`, whose one request goes
 * through Bun's own socket (src/shim/raw-unix-post.ts), a path the unit tests (run by Node) cannot
 * reach. A real HTTP server on a unix socket plays the daemon; each case checks what the
 * executable sent and printed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { REPO_ROOT } from '../support/control-plane.ts';

const SHIM = join(REPO_ROOT, 'dist/multinet-shim-bin');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runShim(env: Record<string, string>, stdin: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(SHIM, [], { env, cwd: '/' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin.end(stdin);
  });
}

async function socketDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mn-shim-bin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function listen(t: TestContext, server: Server | ReturnType<typeof createServer>): Promise<string> {
  const path = join(await socketDir(t), 'd.sock');
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return path;
}

const ENV = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c0ffee',
  CNI_NETNS: '/var/run/netns/mn-shim-bin',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
};

const conf = (socketPath: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'multinet', type: 'multinet-shim', socketPath, ...extra });

/** A daemon that records each request and answers with `reply`. */
function daemon(reply: (body: string, res: ServerResponse) => void) {
  const seen: { url?: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ url: req.url, body });
      reply(body, res);
    });
  });
  return { server, seen };
}

describe('the shipped executables (Bun): the shim, and the thin plugin', () => {
  it('is built', () => {
    assert.ok(existsSync(SHIM), `${SHIM} missing: npm run build:shim-bin`);
  });

  it('forwards the call in one request and prints the daemon answer', async (t) => {
    const { server, seen } = daemon((_body, res) => {
      const json = JSON.stringify({ exitCode: 0, stdout: '{"cniVersion":"1.0.0","ips":[]}\n' });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
      res.end(json);
    });
    const path = await listen(t, server);
    const stdin = conf(path, { note: 'ü'.repeat(4) });
    const run = await runShim(ENV, stdin);
    assert.deepEqual(run, { code: 0, stdout: '{"cniVersion":"1.0.0","ips":[]}\n', stderr: '' });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.url, '/cni');
    const sent = JSON.parse(seen[0]!.body) as { env: Record<string, string>; config: string };
    assert.equal(sent.config, stdin);
    assert.deepEqual(sent.env, ENV);
  });

  it('sends a large config whole and reads a large chunked answer', async (t) => {
    const big = 'x'.repeat(3 << 20); // more than one socket buffer each way
    const { server, seen } = daemon((body, res) => {
      const config = (JSON.parse(body) as { config: string }).config;
      const json = JSON.stringify({ exitCode: 0, stdout: `${config.length}:${big}` });
      res.writeHead(200, { 'content-type': 'application/json' }); // no length: chunked
      for (let i = 0; i < json.length; i += 65_536) res.write(json.slice(i, i + 65_536));
      res.end();
    });
    const path = await listen(t, server);
    const stdin = conf(path, { pad: big });
    const run = await runShim(ENV, stdin);
    assert.equal(run.code, 0, run.stdout.slice(0, 300));
    assert.equal(run.stdout, `${stdin.length}:${big}`);
    assert.equal(seen.length, 1);
  });

  it('answers code 11 naming the socket when no daemon listens', async (t) => {
    const path = join(await socketDir(t), 'absent.sock');
    const run = await runShim(ENV, conf(path));
    assert.equal(run.code, 1);
    const err = JSON.parse(run.stdout) as { code: number; msg: string; details: string };
    assert.equal(err.code, 11);
    assert.equal(err.msg, `multinet daemon not reachable at ${path}`);
    assert.match(err.details, new RegExp(`^connect ENOENT ${path}; is the multinet daemon running`));
  });

  it('answers code 11 when the daemon closes before a complete answer', async (t) => {
    const server = createNetServer((sock) => {
      sock.once('data', () => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"exitCode"'));
    });
    const path = await listen(t, server);
    const run = await runShim(ENV, conf(path));
    const err = JSON.parse(run.stdout) as { code: number; details: string };
    assert.equal(err.code, 11);
    assert.match(err.details, /daemon closed the connection before a complete answer/);
  });

  it('reads no .env or bunfig.toml from its working directory', async (t) => {
    const dir = await socketDir(t);
    // A compiled Bun program loads both from its cwd by default: a file there must not change it.
    await writeFile(join(dir, '.env'), 'CNI_COMMAND=VERSION\n');
    await writeFile(join(dir, 'bunfig.toml'), 'preload = ["./absent.ts"]\n');
    const run = await new Promise<Run>((resolve, reject) => {
      const child = spawn(SHIM, [], { env: {}, cwd: dir });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end();
    });
    // With no CNI_COMMAND the shim prints its usage; the .env's VERSION would print JSON.
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^multinet-shim: forwards CNI calls/);
  });

  it('the thin executable reads no .env from its working directory either', async (t) => {
    const thin = join(REPO_ROOT, 'dist/multinet-bin');
    assert.ok(existsSync(thin), `${thin} missing: npm run build:thin-bin`);
    const dir = await socketDir(t);
    await writeFile(join(dir, '.env'), 'CNI_COMMAND=VERSION\n');
    const run = await new Promise<Run>((resolve, reject) => {
      const child = spawn(thin, ['--help'], { env: {}, cwd: dir });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.resume();
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
      child.stdin.end();
    });
    // CNI_COMMAND in the environment makes it the CNI plugin, which answers VERSION in JSON.
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^usage: multinet <command>/);
    assert.doesNotMatch(run.stdout, /supportedVersions/);
  });
});
