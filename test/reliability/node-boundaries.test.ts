/**
 * The smaller boundary findings of issue 10 (item 12), on the real thin plugin and the real
 * daemon: a 100 MB stdin is answered with a CNI error object; a relative CNI_PATH entry is never
 * searched; an ADD into the node's own network namespace is refused (code 8, as pkg/skel does);
 * a pod name that is a path never becomes one (local mode, pods from the runtime); and the shipped
 * thick DaemonSet turns namespaceIsolation on.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe } from 'node:test';
import { parseManifestDocuments } from '../../src/local/manifest-documents.ts';
import { runCni } from '../support/cni-runtime.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, buildThinPlugin, FaultScene, leakList, podArgs } from '../support/fault-scene.ts';
import { PLUGIN_DIR, type PodNs } from '../support/netns.ts';

async function thinScene(t: Parameters<typeof FaultScene.create>[0], subnet: number) {
  const s = await FaultScene.create(t, (topo) => ({
    primary: bridgeNet(topo, 'podnet', `10.${subnet}.0.0/24`, `mnb${subnet}`),
    bridges: [`mnb${subnet}`],
  }));
  const cacheDir = join(s.topo.tmpDir, 'thin-cache');
  const config = {
    cniVersion: '1.0.0',
    name: 'multinet',
    type: 'multinet',
    clusterNetworkConfig: bridgeNet(s.topo, 'podnet', `10.${subnet}.0.0/24`, `mnb${subnet}`),
    cacheDir,
    binDirs: [PLUGIN_DIR],
  };
  const thin = (
    command: 'ADD' | 'DEL',
    id: string,
    netns: string,
    extra: { config?: Record<string, unknown>; env?: Record<string, string> } = {},
  ) =>
    runCni(
      { command, containerId: id, netns, args: podArgs(id), config: { ...config, ...extra.config } },
      {
        nodeNs: s.topo.node,
        hostLocalDir: join(s.topo.tmpDir, 'host-local'),
        plugin: buildThinPlugin(),
        ...(extra.env ? { env: extra.env } : {}),
      },
    );
  const cacheFiles = async () =>
    [
      ...(await readdir(join(cacheDir, 'plans')).catch(() => [])),
      ...(await readdir(join(cacheDir, 'results')).catch(() => [])),
    ].filter((f) => !f.startsWith('.'));
  return { s, thin, cacheFiles };
}

describe(
  'node boundaries: stdin size, CNI_PATH, CNI_NETNS, pod names, shipped isolation',
  { timeout: 180_000 },
  () => {
    scenario('thin mode answers a 100 MB stdin with a CNI error object (code 6) and exits 1', async (t) => {
      const { s, thin, cacheFiles } = await thinScene(t, 171);
      const pod = await s.topo.addPod();
      const out = await thin('ADD', 'big', pod.path, { config: { pad: 'x'.repeat(100 * 1024 * 1024) } });
      assert.equal(out.exitCode, 1, out.stderr.slice(0, 500));
      assert.equal(out.json?.['code'], 6, `stdout: ${out.stdout.slice(0, 500)}`);
      assert.match(String(out.json?.['details']), /larger than \d+ bytes/);
      assert.deepEqual(await s.podLinks(pod), []);
      assert.deepEqual(await cacheFiles(), []);
    });

    scenario('a relative CNI_PATH entry is never searched', async (t) => {
      const { s, thin } = await thinScene(t, 172);
      const pod = await s.topo.addPod();
      // A "bridge" in a directory the relative entry would reach from the plugin's working directory.
      const trap = join(s.topo.tmpDir, 'trap-bin');
      const marker = join(s.topo.tmpDir, 'trap-ran');
      await mkdir(trap);
      await writeFile(join(trap, 'bridge'), `#!/bin/sh\nid > ${marker}\nexit 1\n`, { mode: 0o755 });
      const rel = relative(REPO_ROOT, trap);
      assert.ok(!rel.startsWith('/'));
      const env = { CNI_PATH: `${rel}:${PLUGIN_DIR}` };
      const add = await thin('ADD', 'rel', pod.path, { config: { binDirs: [] }, env });
      assert.equal(add.exitCode, 0, add.stdout + add.stderr);
      assert.equal(existsSync(marker), false, 'the plugin of the relative directory ran');
      assert.equal((await thin('DEL', 'rel', pod.path, { config: { binDirs: [] }, env })).exitCode, 0);
      assert.equal(existsSync(marker), false);
      assert.deepEqual(recordLeaks('relative CNI_PATH: after DEL', leakList(await s.leftovers([pod]))), []);
    });

    scenario(
      "ADD into the node's own network namespace is refused with code 8, thin and thick",
      async (t) => {
        const { s, thin, cacheFiles } = await thinScene(t, 173);
        const before = await s.leftovers([]);
        const thinOut = await thin('ADD', 'hostns', s.topo.nodePath);
        assert.equal(thinOut.exitCode, 1, thinOut.stdout);
        assert.equal(thinOut.json?.['code'], 8, thinOut.stdout);
        assert.match(
          String(thinOut.json?.['details']),
          /pod default\/hostns: CNI_NETNS .* is the node's own network namespace/,
        );
        assert.deepEqual(await cacheFiles(), []);
        await s.start();
        const nodeAsPod = { name: s.topo.node, path: s.topo.nodePath } as PodNs;
        const thick = await s.call('ADD', 'hostns2', nodeAsPod);
        assert.equal(thick.exitCode, 1, thick.stdout);
        assert.equal(thick.json?.['code'], 8, thick.stdout);
        const after = await s.leftovers([]);
        assert.deepEqual(after.nodeLinks, before.nodeLinks, 'no interface added to the node');
        assert.deepEqual(recordLeaks("node's netns: after the refusals", leakList(after)), []);
      },
    );

    scenario(
      'local mode, pods from the runtime: a pod name that is a path is refused (code 4)',
      async (t) => {
        const s = await FaultScene.create(t, (topo) => ({
          primary: bridgeNet(topo, 'podnet', '10.174.0.0/24', 'mnb174'),
          daemon: { localDir: join(topo.tmpDir, 'manifests', 'local'), podSource: 'runtime' },
          bridges: ['mnb174'],
        }));
        const localDir = join(s.topo.tmpDir, 'manifests', 'local');
        await mkdir(localDir, { recursive: true });
        await s.start();
        const pod = await s.topo.addPod();
        const escaped = join(localDir, 'default.../../../escaped.network-status.json');
        const out = await s.call('ADD', 'esc', pod, { ...podArgs('esc'), K8S_POD_NAME: '../../../escaped' });
        assert.equal(out.exitCode, 1, out.stdout);
        assert.equal(out.json?.['code'], 4, out.stdout);
        assert.match(
          String(out.json?.['details']),
          /K8S_POD_NAME "\.\.\/\.\.\/\.\.\/escaped" is not a DNS-1123 subdomain/,
        );
        assert.equal(existsSync(escaped), false, `${escaped} was written`);
        assert.deepEqual(await s.podLinks(pod), []);
        // A proper pod still works, and its status file stays in the directory.
        assert.equal((await s.call('ADD', 'ok', pod)).exitCode, 0);
        assert.ok(existsSync(join(localDir, 'default.ok.network-status.json')));
        assert.equal((await s.call('DEL', 'ok', pod)).exitCode, 0);
        assert.deepEqual(
          recordLeaks('pod name as a path: after DEL', leakList(await s.leftovers([pod]))),
          [],
        );
      },
    );

    scenario('the shipped DaemonSet configs turn namespaceIsolation on', async () => {
      for (const dir of ['thick', 'openshift']) {
        const file = join(REPO_ROOT, 'deploy', dir, 'daemonset.yaml');
        const docs = parseManifestDocuments(await readFile(file, 'utf8'), file) as {
          kind?: string;
          data?: Record<string, string>;
        }[];
        const configs = docs.filter((d) => d.kind === 'ConfigMap' && d.data?.['daemon.json']);
        assert.ok(configs.length > 0, `${file} ships a daemon config`);
        for (const c of configs)
          assert.equal(
            (JSON.parse(c.data!['daemon.json']!) as Record<string, unknown>)['namespaceIsolation'],
            true,
            file,
          );
      }
    });
  },
);
