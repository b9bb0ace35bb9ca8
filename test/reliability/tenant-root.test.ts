/**
 * "A tenant becomes root" (issue 10 item 1), on a real kube-apiserver, the real thin plugin and
 * the real daemon: a ServiceAccount allowed only pods and NADs in its own namespace writes NADs
 * that name multinet itself as the delegate (as `type`, as `ipam.type`, as `multinet-shim` in
 * thick mode) with `binDirs: ["/bin"]` and a default network of type `sh`, so that a nested
 * multinet would run /bin/sh as root; and NADs naming plugins the node's bin dir holds only as a
 * symlink to /bin/sh or as a group-writable file. Every one must be refused (CNI code 7 naming the
 * pod, the network and the type, or the plugin lookup refusing the file), with no command run
 * (a canary marker file stays absent) and nothing left behind. A multinet entry point called with
 * the delegate marker in its environment refuses to act, whatever its config says.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { buildShim, cachedObjects, scrape, waitFor, waitForCached } from '../integration/daemon-harness.ts';
import { runCni } from '../support/cni-runtime.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { forwardApiForFaults } from '../support/fault-api.ts';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import {
  bridgeNet,
  buildThinPlugin,
  FAKE_PLUGIN_DIR,
  FaultScene,
  leakList,
  podArgs,
} from '../support/fault-scene.ts';
import type { KubeClient, KubeObject } from '../support/kube-client.ts';
import { PLUGIN_DIR } from '../support/netns.ts';
import { createTenant, tenantNad } from '../support/tenant.ts';

const NODE = 'node-tenant-root';
const NS = 'tenant';

/** multinet's own executables installed as `multinet install` does, plus the traps, in a root-owned dir. */
async function ownBinDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const [node, bundle] = buildThinPlugin();
  await writeFile(join(dir, 'multinet'), `#!/bin/sh\nexec ${node} ${bundle} "$@"\n`, { mode: 0o755 });
  await copyFile(buildShim(), join(dir, 'multinet-shim'));
  await chmod(join(dir, 'multinet-shim'), 0o755);
  // An administrator's mistake: a "plugin" that is a link to a shell, one anyone in the group may rewrite.
  await symlink('/bin/sh', join(dir, 'sh-link'));
  await writeFile(join(dir, 'loose'), '#!/bin/sh\nexec sh\n');
  await chmod(join(dir, 'loose'), 0o775);
  return dir;
}

/** What the attacker's NADs carry: a nested multinet's options, and a "plugin" config that is a shell script. */
function payload(marker: string, cacheDir: string): Record<string, unknown> {
  return {
    binDirs: ['/bin'],
    cacheDir,
    podSource: 'runtime',
    clusterNetworkConfig: { cniVersion: '1.0.0', name: 'pwn', type: 'sh', x: `$(id > ${marker})` },
  };
}

describe(
  'a tenant NAD never runs a command as root (real API server, thin and thick mode)',
  { timeout: 240_000 },
  () => {
    let cp: ControlPlane;
    let tenant: KubeClient;
    before(async () => {
      cp = await startControlPlane();
      tenant = await createTenant(cp, NS);
    });
    after(async () => {
      await cp?.stop();
    });

    const mkPod = async (name: string, networks: string) => {
      const created = await tenant.create<KubeObject>({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { namespace: NS, name, annotations: { 'k8s.v1.cni.cncf.io/networks': networks } },
        spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
      });
      return podArgs(name, NS, created.metadata!.uid!);
    };

    /** The tenant's NADs (one per attack) and a pod using each; returns [label, pod args, network, type pattern]. */
    const writeAttacks = async (
      prefix: string,
      marker: string,
      s: FaultScene,
      extra: Record<string, unknown> = {},
    ) => {
      const evil = { ...payload(marker, join(s.topo.tmpDir, `${prefix}-nested-cache`)), ...extra };
      const mv = {
        type: 'macvlan',
        master: s.topo.master,
        ...evil,
        ipam: { type: 'multinet', ...evil },
      };
      const nads: [string, Record<string, unknown>, RegExp][] = [
        [`${prefix}-type`, { type: 'multinet', ...evil }, /"multinet"/],
        [`${prefix}-ipam`, mv, /ipam\.type "multinet"/],
        [
          `${prefix}-list`,
          {
            plugins: [
              { type: 'bridge', bridge: 'mnt-x' },
              { type: 'multinet', ...evil },
            ],
          },
          /plugins\[1\]\.type "multinet"/,
        ],
        [
          `${prefix}-shim`,
          { type: 'multinet-shim', socketPath: s.setup.socketPath, ...evil },
          /"multinet-shim"/,
        ],
      ];
      const out: [string, Record<string, string>, RegExp][] = [];
      for (const [name, config, why] of nads) {
        await tenant.create(tenantNad(NS, name, config));
        out.push([name, await mkPod(`${name}-pod`, name), why]);
      }
      return out;
    };

    scenario(
      'thin mode: multinet as type, ipam.type or in a list is refused with code 7; nothing runs',
      async (t) => {
        const s = await FaultScene.create(t, (topo) => ({
          primary: bridgeNet(topo, 'podnet', '10.150.0.0/24', 'mnr0'),
          bridges: ['mnr0'],
        }));
        t.after(await forwardApiForFaults(cp.server, s.topo.node, s.topo.tmpDir));
        const marker = join(s.topo.tmpDir, 'ran-as-root');
        const bin = await ownBinDir(join(s.topo.tmpDir, 'own-bin'));
        const attacks = await writeAttacks('thin', marker, s);
        await tenant.create(tenantNad(NS, 'thin-link', { type: 'sh-link', x: `$(id > ${marker})` }));
        await tenant.create(tenantNad(NS, 'thin-loose', { type: 'loose' }));
        const linkPod = await mkPod('thin-link-pod', 'thin-link');
        const loosePod = await mkPod('thin-loose-pod', 'thin-loose');
        const cacheDir = join(s.topo.tmpDir, 'thin-cache');
        const pod = await s.topo.addPod();
        const thin = (id: string, args: Record<string, string>) =>
          runCni(
            {
              command: 'ADD',
              containerId: id,
              netns: pod.path,
              args,
              config: {
                cniVersion: '1.0.0',
                name: 'multinet',
                type: 'multinet',
                kubeconfig: cp.multinetKubeconfig,
                clusterNetworkConfig: bridgeNet(s.topo, 'podnet', '10.150.0.0/24', 'mnr0'),
                cacheDir,
                binDirs: [bin, PLUGIN_DIR],
                podLookupTimeoutSeconds: 2,
                delegateTimeoutSeconds: 10,
              },
            },
            {
              nodeNs: s.topo.node,
              hostLocalDir: join(s.topo.tmpDir, 'host-local'),
              plugin: buildThinPlugin(),
            },
          );
        for (const [network, args, why] of attacks) {
          const out = await thin(`c-${network}`, args);
          const err = out.json ?? {};
          assert.equal(out.exitCode, 1, `${network}: ${out.stdout}`);
          assert.equal(err['code'], 7, `${network}: ${out.stdout}`);
          assert.match(String(err['details']), new RegExp(`pod ${NS}/${network}-pod`), network);
          assert.match(String(err['details']), new RegExp(`network ${NS}/${network}`), network);
          assert.match(String(err['details']), why, network);
          assert.equal(existsSync(marker), false, `${network}: a command ran as root`);
        }
        for (const [network, args, why] of [
          ['thin-link', linkPod, /resolves to \/(usr\/)?bin\/(da|ba)?sh, outside the plugin directories/],
          ['thin-loose', loosePod, /writable by group or others \(mode 775\)/],
        ] as const) {
          const out = await thin(`c-${network}`, args);
          assert.equal(out.exitCode, 1, `${network}: ${out.stdout}`);
          assert.match(String(out.json?.['details']), why, network);
          assert.equal(existsSync(marker), false, `${network}: a command ran as root`);
        }
        assert.deepEqual(await s.podLinks(pod), [], 'no interface in the pod');
        for (const sub of ['plans', 'results'])
          assert.deepEqual(await readdir(join(cacheDir, sub)).catch(() => []), [], `no ${sub} cache file`);
        assert.deepEqual(
          recordLeaks('tenant root (thin): after the refusals', leakList(await s.leftovers([pod]))),
          [],
        );
      },
    );

    scenario(
      'thick mode: multinet and multinet-shim delegates are refused with code 7; nothing runs',
      async (t) => {
        const s = await FaultScene.create(t, (topo) => ({
          primary: bridgeNet(topo, 'podnet', '10.151.0.0/24', 'mnr1'),
          daemon: {
            kubeconfig: cp.multinetKubeconfig,
            nodeName: NODE,
            podLookupTimeoutSeconds: 2,
            delegateTimeoutSeconds: 10,
          },
          bridges: ['mnr1'],
        }));
        t.after(await forwardApiForFaults(cp.server, s.topo.node, s.topo.tmpDir));
        const marker = join(s.topo.tmpDir, 'ran-as-root');
        const bin = await ownBinDir(join(s.topo.tmpDir, 'own-bin'));
        const daemon = await s.start({ binDirs: [bin, FAKE_PLUGIN_DIR, PLUGIN_DIR] });
        const port = await daemon.metricsPort();
        await waitFor('caches synced', () => /"ready":true/.test(scrape(s.topo, port, '/readyz')), 20_000);
        const held = cachedObjects(s.topo, port);
        const attacks = await writeAttacks('thick', marker, s);
        await waitForCached(s.topo, port, {
          pods: held['pods']! + attacks.length,
          'network-attachment-definitions': held['network-attachment-definitions']! + attacks.length,
        });
        const pod = await s.topo.addPod();
        for (const [network, args, why] of attacks) {
          const out = await s.call('ADD', `c-${network}`, pod, args);
          const err = out.json ?? {};
          assert.equal(out.exitCode, 1, `${network}: ${out.stdout}`);
          assert.equal(err['code'], 7, `${network}: ${out.stdout}`);
          assert.match(
            String(err['details']),
            new RegExp(`pod ${NS}/${network}-pod, network ${NS}/${network}`),
          );
          assert.match(String(err['details']), why, network);
          assert.equal(existsSync(marker), false, `${network}: a command ran as root`);
        }
        assert.deepEqual(
          recordLeaks('tenant root (thick): after the refusals', leakList(await s.leftovers([pod]))),
          [],
        );
        assert.equal(daemon.exitCode, undefined, 'the daemon is still up');
      },
    );

    scenario(
      'a nested multinet (delegate marker set) refuses to act, thin plugin and shim alike',
      async (t) => {
        const s = await FaultScene.create(t, (topo) => ({
          primary: bridgeNet(topo, 'podnet', '10.152.0.0/24', 'mnr2'),
          bridges: ['mnr2'],
        }));
        const marker = join(s.topo.tmpDir, 'ran-as-root');
        const pod = await s.topo.addPod();
        // Exactly what an outer multinet would hand a nested one: the tenant's config, our environment.
        const config = {
          cniVersion: '1.0.0',
          name: 'tenant-net',
          type: 'multinet',
          socketPath: join(s.topo.tmpDir, 'no-daemon.sock'),
          ...payload(marker, join(s.topo.tmpDir, 'nested-cache')),
        };
        for (const plugin of [buildThinPlugin(), [buildShim()]]) {
          const out = await runCni(
            { command: 'ADD', containerId: 'nested', netns: pod.path, args: podArgs('p', NS), config },
            {
              nodeNs: s.topo.node,
              hostLocalDir: join(s.topo.tmpDir, 'host-local'),
              plugin,
              env: { MULTINET_DELEGATE_CALL: '1', CNI_PATH: '/bin' },
            },
          );
          assert.equal(out.exitCode, 1, out.stdout + out.stderr);
          assert.equal(out.json?.['code'], 7, out.stdout);
          assert.match(
            String(out.json?.['details']),
            /pod tenant\/p: multinet was called as a delegate of multinet/,
          );
          assert.equal(existsSync(marker), false, 'a command ran as root');
        }
        assert.deepEqual(await readdir(join(s.topo.tmpDir, 'nested-cache')).catch(() => []), []);
        assert.deepEqual(await s.podLinks(pod), []);
      },
    );
  },
);
