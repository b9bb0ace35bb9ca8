import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DirectoryClusterView } from '../local/directory-cluster-view.ts';
import { formatNetworkStatus } from '../spec/network-status.ts';
import { runCli } from './run-cli.ts';
import { formatPodNetworks, summarizePodNetworks } from './status-command.ts';

const status = formatNetworkStatus([
  { name: 'podnet', interface: 'eth0', ips: ['10.88.0.5'], mac: '02:00:00:00:00:01', default: true, dns: {} },
  {
    name: 'team-a/data',
    interface: 'net1',
    ips: ['10.10.0.7'],
    mac: '02:00:00:00:00:02',
    default: false,
    dns: {},
  },
]);

describe('status', () => {
  it('lists attachments and the requested networks that have no status entry', () => {
    const out = summarizePodNetworks([
      {
        namespace: 'team-a',
        name: 'web',
        annotations: {
          'k8s.v1.cni.cncf.io/networks': 'data, data@net9, other/storage',
          'k8s.v1.cni.cncf.io/network-status': status,
        },
      },
      { namespace: 'team-a', name: 'plain', annotations: {} },
    ]);
    assert.equal(out.length, 1, 'pods with neither request nor status are left out');
    assert.deepEqual(out[0]!.missing, ['team-a/data@net9', 'other/storage']);
    assert.deepEqual(
      out[0]!.attachments.map((a) => [a.interface, a.network, a.default]),
      [
        ['eth0', 'podnet', true],
        ['net1', 'team-a/data', false],
      ],
    );
    const text = formatPodNetworks(out);
    assert.match(text, /^POD\s+READY\s+INTERFACE\s+NETWORK\s+IPS\s+MAC\s+DEFAULT\s+CHECK$/m);
    assert.match(text, /team-a\/web\s+-\s+net1\s+team-a\/data\s+10\.10\.0\.7/);
    assert.match(text, /requested but not attached.*\n\s+team-a\/web: team-a\/data@net9, other\/storage/);
  });

  it('shows NetworksReady and the attachments whose periodic CHECK fails', () => {
    const drifted = formatNetworkStatus([
      { name: 'podnet', interface: 'eth0', ips: ['10.88.0.5'], default: true, dns: {} },
      {
        name: 'team-a/data',
        interface: 'net1',
        ips: ['10.10.0.7'],
        default: false,
        dns: {},
        'multinet.dev/check': { error: 'interface net1 not found', since: '2030-01-02T03:04:05Z' },
      },
    ]);
    const out = summarizePodNetworks([
      {
        namespace: 'team-a',
        name: 'web',
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'data', 'k8s.v1.cni.cncf.io/network-status': drifted },
        networksReady: {
          status: 'False',
          reason: 'NetworkDegraded',
          message: 'CHECK fails for network team-a/data (net1): interface net1 not found',
        },
      },
      {
        namespace: 'team-a',
        name: 'ok',
        annotations: { 'k8s.v1.cni.cncf.io/network-status': status },
        networksReady: { status: 'True', reason: 'NetworksAttached', message: '2 networks are attached' },
      },
    ]);
    assert.deepEqual(out[0]!.attachments[1]!.drift, {
      error: 'interface net1 not found',
      since: '2030-01-02T03:04:05Z',
    });
    assert.equal(out[0]!.attachments[0]!.drift, undefined);
    const text = formatPodNetworks(out);
    assert.match(text, /team-a\/web\s+False\s+net1\s+team-a\/data\s+10\.10\.0\.7\s+-\s+FAILING/);
    assert.match(text, /team-a\/ok\s+True\s+net1\s+team-a\/data/);
    assert.match(
      text,
      /NetworksReady=False:\n {2}team-a\/web: NetworkDegraded: CHECK fails for network team-a\/data \(net1\)/,
    );
    assert.match(
      text,
      /drift \(periodic CHECK failing\):\n {2}team-a\/web net1 team-a\/data: since 2030-01-02T03:04:05Z: interface net1 not found/,
    );
    assert.doesNotMatch(text, /team-a\/ok:/, 'a ready pod is not listed as a problem');
  });

  it('reads a local manifest directory and its status files (--local, -o json)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-status-'));
    try {
      await writeFile(
        join(dir, 'pod.yaml'),
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: team-a\n  annotations:\n    k8s.v1.cni.cncf.io/networks: data\n',
      );
      const view = new DirectoryClusterView(dir);
      await view.reload();
      await view.writeNetworkStatus({ namespace: 'team-a', name: 'web', uid: '' }, status);
      let stdout = '';
      const code = await runCli(['status', 'team-a/web', '--local', dir, '-o', 'json'], {
        stdout: (s) => (stdout += s),
        stderr: () => {},
        env: {},
        isTty: false,
      });
      assert.equal(code, 0);
      const json = JSON.parse(stdout) as {
        pods: { pod: string; attachments: { network: string }[]; missing: string[] }[];
      };
      assert.deepEqual(
        json.pods.map((p) => [p.pod, p.attachments.length, p.missing]),
        [['team-a/web', 2, []]],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
