/**
 * Local mode with a big manifest (issue 10 #2): one manifest of 5,000 NADs was re-read on every
 * ADD, because the status file each ADD writes beside the manifests (through a temporary file)
 * triggered a reload, and the daemon grew to 938 MiB. Real daemon in local mode, real plugins:
 * ADD/DEL cycles must not re-read unchanged manifests (a bad manifest is reported once, not once
 * per ADD), a changed manifest is read again, and a manifest over the local-mode size bound is
 * refused by name.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import { stringify as toYaml } from 'yaml';
import { cachedObjects, waitFor } from '../integration/daemon-harness.ts';
import { record, recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, FaultScene, leakList, NOTHING, podArgs } from '../support/fault-scene.ts';

const CYCLES = 10;
const MiB = 1024 * 1024;

const nad = (name: string, config: Record<string, unknown>) => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { namespace: 'ns1', name },
  spec: { config: JSON.stringify({ cniVersion: '1.0.0', name, ...config }) },
});

describe('local mode: a manifest of 5,000 NADs (real daemon and plugins)', { timeout: 180_000 }, () => {
  scenario('ADDs do not re-read unchanged manifests; changed ones are read; oversized refused', async (t) => {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.181.0.0/24', 'mnl181'),
      daemon: { localDir: join(topo.tmpDir, 'manifests') },
      bridges: ['mnl181'],
      ipamNetworks: ['mv'],
    }));
    const dir = join(s.topo.tmpDir, 'manifests');
    await mkdir(dir, { recursive: true });
    const mv = {
      type: 'macvlan',
      master: 'ens1',
      mode: 'bridge',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.181.1.0/24' }]], dataDir: s.topo.dataDir },
    };
    const many = Array.from({ length: 5_000 }, (_, i) => nad(`n-${i}`, { type: 'macvlan', master: 'ens1' }));
    await writeFile(join(dir, 'nads.yaml'), [nad('mv', mv), ...many].map((o) => toYaml(o)).join('---\n'));
    const pods = Array.from({ length: CYCLES }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'ns1', name: `p${i}`, annotations: { 'k8s.v1.cni.cncf.io/networks': 'mv' } },
    }));
    await writeFile(join(dir, 'pods.yaml'), pods.map((o) => toYaml(o)).join('---\n'));
    await writeFile(join(dir, 'bad.yaml'), 'kind: [unclosed\n');
    const daemon = await s.start();
    const skipped = (file: string) =>
      daemon.logs.filter((l) => l.msg === 'local mode: manifest skipped' && l['file'] === join(dir, file));
    await waitFor('bad.yaml reported', () => skipped('bad.yaml').length > 0, 30_000);
    // The manifests held show as the local mode's caches: the pods and the 5,001 NADs.
    assert.deepEqual(cachedObjects(s.topo, await daemon.metricsPort()), {
      pods: CYCLES,
      'network-definitions': 5_001,
    });

    const netns = [];
    for (let i = 0; i < CYCLES; i++) {
      const pod = await s.topo.addPod();
      netns.push(pod);
      const args = podArgs(`p${i}`, 'ns1');
      const add = await s.call('ADD', `c${i}`, pod, args);
      assert.equal(add.exitCode, 0, add.stdout);
      assert.deepEqual((await s.podLinks(pod)).sort(), ['eth0', 'net1']);
      assert.equal((await s.call('DEL', `c${i}`, pod, args)).exitCode, 0);
    }
    // A change of a manifest is read (and marks the point after which every reload has run).
    await writeFile(join(dir, 'bad2.yaml'), 'kind: [unclosed\n');
    await waitFor('bad2.yaml reported', () => skipped('bad2.yaml').length > 0, 30_000);
    const status = readFileSync(`/proc/${s.daemonPid()}/status`, 'utf8');
    const peak = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
    const figures = { cycles: CYCLES, badReports: skipped('bad.yaml').length, peakMiB: +peak.toFixed(1) };
    console.log(`local reload: ${JSON.stringify(figures)}`);
    record({ kind: 'note', scenario: 'local mode 5,000 NADs', text: JSON.stringify(figures) });
    assert.equal(skipped('bad.yaml').length, 1, 'an unchanged bad manifest is reported once, not per ADD');
    // Over the bound: refused by name, not parsed.
    await writeFile(join(dir, 'huge.yaml'), `# ${'x'.repeat(3 * MiB)}\n`);
    await waitFor('huge.yaml reported', () => skipped('huge.yaml').length > 0, 30_000);
    assert.match(String(skipped('huge.yaml')[0]?.['reason']), /larger than 2097152 bytes/);

    const left = await s.leftovers(netns);
    assert.deepEqual(recordLeaks('local reload: after DEL', leakList(left)), [], JSON.stringify(left));
    assert.deepEqual(left, NOTHING);
  });
});
