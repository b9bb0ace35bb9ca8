import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../log/logger.ts';
import { AutoConfig } from './auto-config.ts';

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(20);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const conf = (name: string, subnet: string) =>
  JSON.stringify({ cniVersion: '1.0.0', name, type: 'bridge', ipam: { type: 'host-local', subnet } });

describe('AutoConfig (real files, fs.watch)', () => {
  it('follows the primary: appears late, changes, is renamed, disappears; leaves its file on stop', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-auto-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const out = join(dir, '00-multinet.conflist');
    const changes: boolean[] = [];
    const auto = new AutoConfig({
      cniConfDir: dir,
      primaryConfDir: dir,
      fileName: '00-multinet.conflist',
      networkName: 'multinet-cni-network',
      primaryConfigName: '',
      rescanIntervalMs: 60_000, // only fs.watch can make these changes visible in time
      socketPath: '/run/multinet/multinet.sock',
      readinessIndicatorFile: '',
      log: silentLogger,
      onChange: (s) => changes.push(s.ready),
    });
    const stop = new AbortController();
    const running = auto.start(stop.signal);
    await waitFor('first scan', () => auto.state().ready === false && 'reason' in auto.state());
    const read = () =>
      readFile(out, 'utf8').then((s) => JSON.parse(s) as { plugins: Record<string, unknown>[] });
    assert.equal(await readFile(out).catch(() => undefined), undefined, 'nothing written without a primary');

    await writeFile(join(dir, '10-podnet.conf'), conf('podnet', '10.88.0.0/24'));
    await waitFor('config written', () => auto.state().ready);
    assert.equal((await read()).plugins[0]!['primaryConfigFile'], '10-podnet.conf');

    await writeFile(join(dir, '10-podnet.conf'), conf('podnet', '10.99.0.0/24'));
    await waitFor('config rewritten', async () =>
      JSON.stringify((await read()).plugins[0]!['clusterNetworkConfig']).includes('10.99.0.0/24'),
    );

    await rename(join(dir, '10-podnet.conf'), join(dir, '20-podnet.conf'));
    await waitFor(
      'rename followed',
      async () => (await read()).plugins[0]!['primaryConfigFile'] === '20-podnet.conf',
    );

    // Someone removes our file (Cilium's cni.exclusive does, multus #972): it comes back.
    await unlink(out);
    await waitFor('own file restored', () =>
      readFile(out).then(
        () => true,
        () => false,
      ),
    );

    await unlink(join(dir, '20-podnet.conf'));
    await waitFor('primary gone', () => !auto.state().ready);
    const state = auto.state();
    assert.ok(!state.ready && /no primary network config/.test(state.reason));
    assert.ok(await readFile(out, 'utf8'), 'our file stays in place');

    stop.abort();
    await running;
    assert.ok(await readFile(out, 'utf8'), 'still in place after stop');
    assert.deepEqual(changes.slice(0, 1), [true]);
    assert.equal(changes.at(-1), false);
  });

  it('waits for the readiness indicator; uses a separate primary dir (OpenShift layout)', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'mn-auto-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const runtimeDir = join(root, 'etc-kubernetes-cni-net.d');
    const primaryDir = join(root, 'var-run-multus-cni-net.d');
    const indicator = join(primaryDir, '80-openshift-network.conf');
    const auto = new AutoConfig({
      cniConfDir: runtimeDir,
      primaryConfDir: primaryDir,
      fileName: '00-multinet.conflist',
      networkName: 'multinet-cni-network',
      primaryConfigName: '',
      rescanIntervalMs: 100, // the directories do not exist yet: only the rescan can see them appear
      socketPath: '/s',
      readinessIndicatorFile: join(root, 'ready'),
      log: silentLogger,
    });
    const stop = new AbortController();
    const running = auto.start(stop.signal);
    t.after(() => stop.abort());
    const reason = () => {
      const st = auto.state();
      return st.ready ? '' : st.reason;
    };
    // Scanned at least once (the reason changes from "not scanned yet"), and not ready.
    await waitFor('a first scan', () => !/not been scanned/.test(reason()));
    assert.equal(auto.state().ready, false);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(runtimeDir);
    await mkdir(primaryDir);
    await writeFile(indicator, conf('openshift-sdn', '10.128.0.0/14'));
    await waitFor('the primary seen, the indicator missing', () => /readiness indicator/.test(reason()));
    assert.equal(auto.state().ready, false);
    await writeFile(join(root, 'ready'), '');
    await waitFor('ready', () => auto.state().ready);
    const written = JSON.parse(await readFile(join(runtimeDir, '00-multinet.conflist'), 'utf8')) as {
      plugins: Record<string, unknown>[];
    };
    assert.equal(written.plugins[0]!['primaryConfigFile'], '80-openshift-network.conf');
    stop.abort();
    await running;
  });
});
