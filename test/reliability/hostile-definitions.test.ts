/**
 * Hostile network definitions and pods, served by the real daemon in local mode (manifests in a
 * directory, no Kubernetes) with the reference plugins: plugin types that try to leave CNI_PATH,
 * interface names that collide, are too long or hold odd bytes, references across namespaces
 * under namespaceIsolation, configs of many megabytes, deeply nested JSON, YAML bombs. Each must
 * be refused with CNI code 7 (or 6 for undecodable JSON) naming the pod and the network, before
 * any plugin runs; the daemon must stay up and small, and serve the well-behaved pods.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import { stringify as toYaml } from 'yaml';
import { cachedObjects, waitForCached } from '../integration/daemon-harness.ts';
import { record, recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, FaultScene, leakList, NOTHING, podArgs } from '../support/fault-scene.ts';

const nad = (namespace: string, name: string, config: string | Record<string, unknown>) => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { namespace, name },
  spec: { config: typeof config === 'string' ? config : JSON.stringify({ cniVersion: '1.0.0', ...config }) },
});
const pod = (namespace: string, name: string, annotations: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name, annotations },
});

async function localScene(
  t: Parameters<typeof FaultScene.create>[0],
  subnet: number,
  daemon: Record<string, unknown> = {},
) {
  const s = await FaultScene.create(t, (topo) => ({
    primary: bridgeNet(topo, 'podnet', `10.${subnet}.0.0/24`, `mnx${subnet}`),
    daemon: { localDir: join(topo.tmpDir, 'manifests'), ...daemon },
    bridges: [`mnx${subnet}`],
    ipamNetworks: ['mv', 'remote'],
  }));
  await mkdir(join(s.topo.tmpDir, 'manifests'), { recursive: true });
  return s;
}

async function writeManifests(s: FaultScene, file: string, objects: unknown[]) {
  await writeFile(join(s.topo.tmpDir, 'manifests', file), objects.map((o) => toYaml(o)).join('---\n'));
}

describe('hostile definitions and pods (local mode, real daemon and plugins)', { timeout: 180_000 }, () => {
  scenario(
    'plugin types that leave CNI_PATH, odd interface names, cross-namespace references: refused, nothing runs',
    async (t) => {
      const s = await localScene(t, 131, { namespaceIsolation: true, globalNamespaces: [] });
      // A canary: if any of these types made multinet execute it, the marker appears.
      const marker = join(s.topo.tmpDir, 'canary-ran');
      const canary = join(s.topo.tmpDir, 'evil');
      await writeFile(canary, `#!/bin/sh\ntouch ${marker}\necho '{"cniVersion":"1.0.0"}'\n`);
      await chmod(canary, 0o755);
      const mv = {
        type: 'macvlan',
        master: 'ens1',
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.131.1.0/24' }]], dataDir: s.topo.dataDir },
      };
      const types = [
        `../../../../../../..${canary}`,
        canary,
        'evil/../../evil',
        '..',
        '.',
        'bridge/',
        'mac\u0000vlan',
      ];
      await writeManifests(s, 'nads.yaml', [
        nad('ns1', 'mv', mv),
        nad('other', 'remote', mv),
        ...types.map((type, i) => nad('ns1', `evil${i}`, { type })),
        nad(
          'ns1',
          'evil-list',
          JSON.stringify({
            cniVersion: '1.0.0',
            name: 'evil-list',
            plugins: [{ type: 'bridge' }, { type: canary }],
          }),
        ),
      ]);
      const cases: [string, Record<string, string>, RegExp][] = [
        ...types.map((_, i): [string, Record<string, string>, RegExp] => [
          `type ${JSON.stringify(types[i])}`,
          { 'k8s.v1.cni.cncf.io/networks': `evil${i}` },
          /plain file name|control characters|"type"/,
        ]),
        ['a type inside a conflist', { 'k8s.v1.cni.cncf.io/networks': 'evil-list' }, /plain file name/],
        ['interface eth0 (the default network)', { 'k8s.v1.cni.cncf.io/networks': 'mv@eth0' }, /eth0/],
        [
          'interface used twice',
          {
            'k8s.v1.cni.cncf.io/networks': '[{"name":"mv","interface":"x1"},{"name":"mv","interface":"x1"}]',
          },
          /already requested/,
        ],
        ['interface of 16 bytes', { 'k8s.v1.cni.cncf.io/networks': 'mv@abcdefghijklmnop' }, /longer than 15/],
        [
          'interface of 16 bytes in 8 characters',
          { 'k8s.v1.cni.cncf.io/networks': '[{"name":"mv","interface":"éééééééé"}]' },
          /longer than 15/,
        ],
        [
          'interface with a NUL',
          { 'k8s.v1.cni.cncf.io/networks': '[{"name":"mv","interface":"a\\u0000b"}]' },
          /control|whitespace/,
        ],
        [
          'interface with a no-break space',
          { 'k8s.v1.cni.cncf.io/networks': '[{"name":"mv","interface":"a\\u00a0b"}]' },
          /interface/,
        ],
        [
          'interface with a right-to-left override',
          { 'k8s.v1.cni.cncf.io/networks': '[{"name":"mv","interface":"a\\u202eb"}]' },
          /interface/,
        ],
        ['interface "a:b"', { 'k8s.v1.cni.cncf.io/networks': '[{"name":"mv","interface":"a:b"}]' }, /':'/],
        [
          'another namespace under namespaceIsolation',
          { 'k8s.v1.cni.cncf.io/networks': 'other/remote' },
          /namespaceIsolation is on/,
        ],
        [
          'another namespace as the default network, under namespaceIsolation',
          { 'v1.multus-cni.io/default-network': 'other/remote' },
          /namespaceIsolation is on/,
        ],
      ];
      await writeManifests(
        s,
        'pods.yaml',
        cases.map(([, annotations], i) => pod('ns1', `p${i}`, annotations)),
      );
      await s.start();
      const podNs = await s.topo.addPod();
      for (const [i, [what, , pattern]] of cases.entries()) {
        const out = await s.call('ADD', `h${i}`, podNs, podArgs(`p${i}`, 'ns1', ''));
        assert.equal(out.exitCode, 1, `${what}: ${out.stdout}`);
        assert.equal(out.json?.['code'], 7, `${what}: ${out.stdout}`);
        assert.match(String(out.json?.['details']), new RegExp(`pod ns1/p${i}`), what);
        assert.match(String(out.json?.['details']), pattern, `${what}: ${out.stdout}`);
        const left = await s.leftovers([podNs]);
        assert.deepEqual(
          recordLeaks(`hostile: ${what}`, leakList(left)),
          [],
          `${what}: ${JSON.stringify(left)}`,
        );
        assert.equal((await s.call('DEL', `h${i}`, podNs, podArgs(`p${i}`, 'ns1', ''))).exitCode, 0);
      }
      assert.ok(!existsSync(marker), 'the canary never ran');
      const ran = s.daemon!.logs.filter((l) => l.msg === 'attached');
      assert.deepEqual(ran, [], 'no delegate ADD ran for a refused pod');
      // The same node still serves a well-behaved pod, once a reload has picked it up.
      const port = await s.daemon!.metricsPort();
      const { pods } = cachedObjects(s.topo, port);
      await writeManifests(s, 'good.yaml', [pod('ns1', 'good', { 'k8s.v1.cni.cncf.io/networks': 'mv' })]);
      await waitForCached(s.topo, port, { pods: pods! + 1 });
      const ok = await s.call('ADD', 'good', podNs, podArgs('good', 'ns1', ''));
      assert.equal(ok.exitCode, 0, ok.stdout);
      assert.equal((await s.call('DEL', 'good', podNs, podArgs('good', 'ns1', ''))).exitCode, 0);
      assert.deepEqual(await s.leftovers([podNs]), NOTHING);
    },
  );

  scenario(
    'configs of many megabytes, deeply nested JSON, YAML bombs: refused, the daemon stays up and small',
    async (t) => {
      const s = await localScene(t, 132);
      const mv = {
        type: 'macvlan',
        master: 'ens1',
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.132.1.0/24' }]], dataDir: s.topo.dataDir },
      };
      // 1.5 MiB: over maxNetworkConfigBytes and the delegate bound, within local mode's 2 MiB manifests.
      const big = JSON.stringify({ cniVersion: '1.0.0', type: 'macvlan', pad: 'x'.repeat(1536 << 10) });
      await writeManifests(s, 'a-nads.yaml', [
        nad('ns1', 'mv', mv),
        nad('ns1', 'big', big),
        nad(
          'ns1',
          'deep',
          // 60 KB, under maxNetworkConfigBytes: refused for its nesting, not its size.
          `{"cniVersion":"1.0.0","type":"macvlan","x":${'['.repeat(30_000)}${']'.repeat(30_000)}}`,
        ),
      ]);
      // A manifest over the size limit, a billion-laughs alias bomb, a 200,000-deep YAML flow.
      await writeFile(
        join(s.topo.tmpDir, 'manifests', 'b-huge.yaml'),
        toYaml(nad('ns1', 'huge', { type: 'macvlan', pad: 'y'.repeat(6 << 20) })),
      );
      const levels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
      const bomb = levels
        .map((l, i) =>
          i === 0
            ? `  ${l}: &${l} ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`
            : `  ${l}: &${l} [${Array(9)
                .fill(`*${levels[i - 1]}`)
                .join(',')}]`,
        )
        .join('\n');
      await writeFile(
        join(s.topo.tmpDir, 'manifests', 'c-bomb.yaml'),
        `apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: bomb\n  namespace: ns1\nspec:\n  config: '{"cniVersion":"1.0.0","type":"macvlan"}'\nx:\n${bomb}\n`,
      );
      await writeFile(
        join(s.topo.tmpDir, 'manifests', 'd-deep.yaml'),
        `x: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n`,
      );
      await writeManifests(s, 'e-pods.yaml', [
        pod('ns1', 'big', { 'k8s.v1.cni.cncf.io/networks': 'big' }),
        pod('ns1', 'deep', { 'k8s.v1.cni.cncf.io/networks': 'deep' }),
        pod('ns1', 'huge', { 'k8s.v1.cni.cncf.io/networks': 'huge' }),
        pod('ns1', 'bomb', { 'k8s.v1.cni.cncf.io/networks': 'bomb' }),
        pod('ns1', 'deep-annotation', {
          'k8s.v1.cni.cncf.io/networks': `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
        }),
        pod('ns1', 'long-annotation', { 'k8s.v1.cni.cncf.io/networks': Array(20_000).fill('mv').join(',') }),
        pod('ns1', 'good', { 'k8s.v1.cni.cncf.io/networks': 'mv' }),
      ]);
      await s.start();
      const skipped = s
        .daemon!.logs.filter((l) => l.msg === 'local mode: manifest skipped')
        .map((l) => String(l['file']));
      for (const f of ['b-huge.yaml', 'c-bomb.yaml', 'd-deep.yaml'])
        assert.ok(
          skipped.some((x) => x.endsWith(f)),
          `${f} reported and skipped: ${skipped.join(', ')}`,
        );
      const podNs = await s.topo.addPod();
      const expect: [string, number, RegExp][] = [
        ['big', 7, /1572912 bytes; the limit is 65536 \(maxNetworkConfigBytes\)/],
        ['deep', 7, /nests deeper than 64 levels/],
        ['huge', 7, /not found/],
        ['bomb', 7, /not found/],
        ['deep-annotation', 7, /annotation/],
        ['long-annotation', 7, /annotation/],
      ];
      for (const [name, code, pattern] of expect) {
        const t0 = Date.now();
        const out = await s.call('ADD', name, podNs, podArgs(name, 'ns1', ''));
        assert.equal(out.exitCode, 1, `${name}: ${out.stdout}`);
        assert.equal(out.json?.['code'], code, `${name}: ${out.stdout}`);
        assert.match(String(out.json?.['details']), new RegExp(`pod ns1/${name}`));
        assert.match(String(out.json?.['details']), pattern, `${name}: ${out.stdout}`);
        assert.ok(out.stdout.length < 16_384, `${name}: the answer is bounded (${out.stdout.length} bytes)`);
        assert.ok(Date.now() - t0 < 10_000, `${name}: answered in ${Date.now() - t0} ms`);
        assert.equal((await s.call('DEL', name, podNs, podArgs(name, 'ns1', ''))).exitCode, 0);
      }
      const rss = s.rssBytes();
      record({
        kind: 'note',
        scenario: 'hostile definitions',
        text: `daemon RSS after the bombs: ${Math.round(rss / 1048576)} MiB`,
      });
      assert.ok(rss < 256 * 1048576, `daemon RSS ${Math.round(rss / 1048576)} MiB`);
      const ok = await s.call('ADD', 'good', podNs, podArgs('good', 'ns1', ''));
      assert.equal(ok.exitCode, 0, ok.stdout);
      assert.equal((await s.call('DEL', 'good', podNs, podArgs('good', 'ns1', ''))).exitCode, 0);
      const left = await s.leftovers([podNs]);
      assert.deepEqual(recordLeaks('hostile sizes: after', leakList(left)), [], JSON.stringify(left));
    },
  );
});
