// The README's demo, run as a user would (built CLI, as root), asserting on its JSON report.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { DemoReport } from '../../src/cli/demo/run-demo.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { listNamespaces } from '../support/netns.ts';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'dist/bin/multinet.js');
const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

const demoNamespaces = async () => (await listNamespaces()).filter((n) => n.startsWith('mn-demo-'));

describe('multinet demo', () => {
  test('two pods get eth0 + net1, ping over net1, and DEL leaves nothing', async (t) => {
    const state = await mkdtemp(join(tmpdir(), 'mn-demo-test-'));
    t.after(async () => {
      await run(process.execPath, [CLI, 'demo', 'down', '--state', state], { env }).catch(() => undefined);
      await rm(state, { recursive: true, force: true });
    });
    const { stdout } = await run(process.execPath, [CLI, 'demo', '-o', 'json', '--state', state], { env });
    const report = JSON.parse(stdout) as DemoReport;
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.pods.map((p) => [p.pod, p.interfaces.map((i) => i.ifname).sort()]),
      [
        ['pod-a', ['eth0', 'lo', 'net1']],
        ['pod-b', ['eth0', 'lo', 'net1']],
      ],
    );
    assert.deepEqual(
      report.pods.map((p) => p.networkStatus.map((s) => [s.name, s.interface, s.default])),
      [
        [
          ['demo-podnet', 'eth0', true],
          ['default/macvlan-conf', 'net1', false],
        ],
        [
          ['demo-podnet', 'eth0', true],
          ['default/macvlan-v1', 'net1', false],
        ],
      ],
    );
    const podBNet1 = report.pods[1]!.interfaces.find((i) => i.ifname === 'net1')!.addresses[0]!;
    assert.match(podBNet1, /^192\.0\.2\.(10\d|11[0-6])\/24$/);
    assert.equal(report.ping.address, podBNet1.split('/')[0]);
    assert.ok(report.ping.received > 0 && report.ping.ok);
    assert.deepEqual(report.leftovers, {
      podInterfaces: [],
      ipamAllocations: [],
      cacheFiles: [],
      namespaces: [],
    });
    assert.deepEqual(await demoNamespaces(), []);
  });

  test('--keep leaves the scene for exploration, "demo down" removes it', async (t) => {
    const state = await mkdtemp(join(tmpdir(), 'mn-demo-test-'));
    t.after(async () => {
      await run(process.execPath, [CLI, 'demo', 'down', '--state', state], { env }).catch(() => undefined);
      await rm(state, { recursive: true, force: true });
    });
    const { stdout } = await run(process.execPath, [CLI, 'demo', '--keep', '--state', state], { env });
    assert.match(stdout, /--keep: the scene stays/);
    assert.deepEqual((await demoNamespaces()).sort(), ['mn-demo-node', 'mn-demo-pod-a', 'mn-demo-pod-b']);
    const down = await run(process.execPath, [CLI, 'demo', 'down', '--state', state], { env });
    assert.match(down.stdout, /stopped daemon/);
    assert.deepEqual(await demoNamespaces(), []);
  });
});
