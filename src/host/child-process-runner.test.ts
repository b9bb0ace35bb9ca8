import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runPlugin } from '../cni/invoke.ts';
import { ChildProcessRunner } from './child-process-runner.ts';
import { findSetpriv, supervisedArgv } from './delegate-lifetime.ts';

async function withScripts(t: { after: (fn: () => Promise<void>) => void }, scripts: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'mn-runner-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(scripts)) {
    await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(dir, name), 0o755);
  }
  return (name: string) => join(dir, name);
}

const base = { env: { PATH: '/usr/bin:/bin' }, stdin: '', timeoutMs: 5000 };

test('passes env and stdin, captures stdout and stderr separately, reports the exit code', async (t) => {
  const path = await withScripts(t, { echo: 'echo "cmd=$CNI_COMMAND"; cat; echo err >&2; exit 3' });
  const out = await new ChildProcessRunner().exec({
    ...base,
    path: path('echo'),
    env: { ...base.env, CNI_COMMAND: 'ADD' },
    stdin: '{"a":1}',
  });
  assert.deepEqual(out, {
    exitCode: 3,
    signal: null,
    stdout: 'cmd=ADD\n{"a":1}',
    stderr: 'err\n',
    timedOut: false,
  });
});

test('a plugin that does not read stdin is fine', async (t) => {
  const path = await withScripts(t, { quick: 'exit 0' });
  const out = await new ChildProcessRunner().exec({
    ...base,
    path: path('quick'),
    stdin: 'x'.repeat(1 << 20),
  });
  assert.equal(out.exitCode, 0);
});

test('timeout kills the plugin and the processes it started', async (t) => {
  const path = await withScripts(t, { hang: 'sleep 30 & echo $! ; wait' });
  const started = Date.now();
  const out = await new ChildProcessRunner().exec({ ...base, path: path('hang'), timeoutMs: 200 });
  assert.equal(out.timedOut, true);
  assert.equal(out.signal, 'SIGKILL');
  assert.ok(Date.now() - started < 3000);
  const child = Number(out.stdout.trim());
  // Gone, or a zombie waiting for an init that may not reap: either way it no longer runs. The
  // kernel delivers the group's SIGKILL asynchronously: wait for that (the 5 s bound only turns a
  // survivor into a failure).
  const stateOf = () =>
    readFile(`/proc/${child}/stat`, 'utf8').then(
      (s) => s.split(') ')[1]?.[0],
      () => 'gone',
    );
  let state = await stateOf();
  for (
    const end = Date.now() + 5000;
    state !== 'gone' && state !== 'Z' && Date.now() < end;
    state = await stateOf()
  )
    await new Promise((r) => setTimeout(r, 10));
  assert.ok(state === 'gone' || state === 'Z', `grandchild state ${state}`);
});

test('death by signal is reported', async (t) => {
  const path = await withScripts(t, { crash: 'kill -SEGV $$' });
  const out = await new ChildProcessRunner().exec({ ...base, path: path('crash') });
  assert.equal(out.exitCode, null);
  assert.equal(out.signal, 'SIGSEGV');
});

test('output beyond the cap is dropped with a marker', async (t) => {
  const path = await withScripts(t, { loud: 'head -c 100000 /dev/zero | tr "\\0" a' });
  const out = await new ChildProcessRunner({ maxOutputBytes: 1000 }).exec({ ...base, path: path('loud') });
  assert.equal(out.stdout.startsWith('a'.repeat(1000)), true);
  assert.match(out.stdout, /\[output truncated: 99000 more bytes\]$/);
});

test('abort kills the plugin and rejects', async (t) => {
  const path = await withScripts(t, { hang: 'sleep 30' });
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('shutting down')), 100);
  await assert.rejects(
    new ChildProcessRunner().exec({ ...base, path: path('hang'), signal: ac.signal }),
    /shutting down/,
  );
  await assert.rejects(
    new ChildProcessRunner().exec({ ...base, path: path('hang'), signal: ac.signal }),
    /shutting down/,
  );
});

test('a binary that cannot start rejects with the Node error code', async () => {
  await assert.rejects(
    new ChildProcessRunner().exec({ ...base, path: '/nonexistent/plugin' }),
    (e: unknown) => (e as { code?: string }).code === 'ENOENT',
  );
});

test('wrapper prefixes the command', async (t) => {
  const path = await withScripts(t, { wrap: 'echo "wrapped:$*"', target: 'exit 0' });
  const out = await new ChildProcessRunner({ wrapper: [path('wrap'), '--flag', '--'] }).exec({
    ...base,
    path: path('target'),
  });
  assert.equal(out.stdout, `wrapped:--flag -- ${path('target')}\n`);
});

test('"text file busy" while a binary is being written is retried, directly and behind a wrapper', async (t) => {
  const path = await withScripts(t, { plugin: 'echo ok' });
  for (const wrapper of [[], ['nsenter', '--']]) {
    const writer = await open(path('plugin'), 'r+'); // open for writing: exec now fails with ETXTBSY
    setTimeout(() => void writer.close(), 150);
    const runner = new ChildProcessRunner({ wrapper });
    const req = {
      pluginType: 'plugin',
      pluginPath: path('plugin'),
      command: 'ADD' as const,
      env: base.env,
      stdin: '',
    };
    const started = Date.now();
    assert.equal(await runPlugin({ runner, timeoutMs: 5000, retryDelayMs: 100 }, req), 'ok\n');
    assert.ok(Date.now() - started >= 100, 'it waited for the writer');
  }
});

test('a helper process left holding stdout does not hold the answer once the plugin exited', async (t) => {
  const path = await withScripts(t, {
    linger: 'setsid sleep 30 </dev/null 2>/dev/null &\necho $! >"$0.pid"\necho result\nexit 0',
  });
  t.after(async () => {
    const pid = Number(await readFile(`${path('linger')}.pid`, 'utf8').catch(() => '0'));
    if (pid) process.kill(pid, 'SIGKILL');
  });
  const started = Date.now();
  const out = await new ChildProcessRunner().exec({ ...base, path: path('linger'), timeoutMs: 20_000 });
  assert.equal(out.exitCode, 0);
  assert.equal(out.stdout, 'result\n');
  assert.equal(out.timedOut, false);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms = 10_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25)))
    if (!alive(pid)) return true;
  return false;
}

test('what a plugin leaves in its process group is killed when the plugin exits', async (t) => {
  const path = await withScripts(t, { leave: 'sleep 300 </dev/null >/dev/null 2>&1 &\necho $!' });
  const out = await new ChildProcessRunner().exec({ ...base, path: path('leave') });
  const pid = Number(out.stdout.trim());
  t.after(() => void (alive(pid) && process.kill(pid, 'SIGKILL')));
  assert.equal(out.exitCode, 0);
  assert.ok(await gone(pid), `sleep ${pid} outlived the plugin`);
});

test('an abort settles only once the plugin has exited', async (t) => {
  const path = await withScripts(t, { slow: 'echo $$ >"$0.pid"\nexec sleep 30' });
  const ac = new AbortController();
  const run = new ChildProcessRunner().exec({ ...base, path: path('slow'), signal: ac.signal });
  let pid = 0;
  while (!pid) {
    pid = Number(await readFile(`${path('slow')}.pid`, 'utf8').catch(() => '0'));
    await new Promise((r) => setTimeout(r, 20));
  }
  ac.abort();
  await assert.rejects(run);
  // Reaped, not merely signalled: kill(pid, 0) fails only once the zombie is gone.
  assert.equal(alive(pid), false);
});

const setpriv = findSetpriv();
test(
  'supervised: the plugin keeps stdin, stdout, its exit status and a death by signal',
  { skip: !setpriv },
  async (t) => {
    const path = await withScripts(t, { echo: 'cat; exit 4', die: 'kill -9 $$' });
    const runner = new ChildProcessRunner({ setpriv: setpriv! });
    const out = await runner.exec({ ...base, path: path('echo'), stdin: '{"a":1}' });
    assert.deepEqual([out.exitCode, out.signal, out.stdout], [4, null, '{"a":1}']);
    const died = await runner.exec({ ...base, path: path('die') });
    assert.deepEqual([died.exitCode, died.signal], [null, 'SIGKILL']);
  },
);

test('supervised: the plugin and what it started die when the parent dies', { skip: !setpriv }, async (t) => {
  const path = await withScripts(t, {
    plugin: 'sleep 300 </dev/null >/dev/null 2>&1 &\necho $! >"$0.pid"\nexec sleep 301',
  });
  // The parent is a Node process that starts the supervised plugin as the runner does (detached),
  // and is then SIGKILLed.
  const argv = supervisedArgv(setpriv!, 0, [path('plugin')]);
  const parentScript = `const a = ${JSON.stringify(argv)}; a[a.indexOf('0')] = String(process.pid);
    require('node:child_process').spawn(a[0], a.slice(1), { detached: true, stdio: 'ignore' });
    setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['-e', parentScript], { stdio: 'ignore' });
  let pid = 0;
  while (!pid) {
    pid = Number(await readFile(`${path('plugin')}.pid`, 'utf8').catch(() => '0'));
    await new Promise((r) => setTimeout(r, 20));
  }
  t.after(() => void (alive(pid) && process.kill(pid, 'SIGKILL')));
  assert.ok(alive(pid));
  parent.kill('SIGKILL');
  assert.ok(await gone(pid), `the plugin's child ${pid} outlived the plugin's parent`);
});
