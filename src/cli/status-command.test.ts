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
    assert.match(text, /team-a\/web\s+net1\s+team-a\/data\s+10\.10\.0\.7/);
    assert.match(text, /requested but not attached.*\n\s+team-a\/web: team-a\/data@net9, other\/storage/);
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
