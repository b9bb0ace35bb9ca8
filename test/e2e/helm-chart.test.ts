/**
 * deploy/ as a Helm chart (docs/helm.md), rendered by the helm built in tools/helm and applied to a
 * real kube-apiserver:
 * - with no values, `helm template` renders exactly deploy/'s objects of each mode (thick, thin,
 *   openshift), as `kubectl apply -f deploy/crds/ -f deploy/rbac/ -f deploy/<mode>/` reads them,
 *   Helm's two labels aside; kubectl applies them (server-side dry run, then for real);
 * - values change what they say and nothing else (image, namespace, multinet's config, which
 *   multinet then accepts, the DaemonSet's scheduling);
 * - the webhook renders deploy/webhook with a generated CA and serving certificate that match the
 *   Service's DNS name and the caBundle; `helm install` then `helm upgrade` against the real API
 *   server keep the same CA (the chart looks the Secret up);
 * - a bad value fails the render with a message naming it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseDaemonConfig } from '../../src/config/daemon-config.ts';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { refOf, type KubeObject } from '../support/kube-client.ts';

const HELM = join(REPO_ROOT, 'tools/bin/helm');
const KUBECTL = join(REPO_ROOT, 'tools/bin/kubectl');
const SKIP = [HELM, KUBECTL].every((p) => existsSync(p))
  ? false
  : `${HELM} or ${KUBECTL} is not built (bash scripts/setup.sh builds them)`;
const MODES = ['thick', 'thin', 'openshift'] as const;
const HELM_LABELS = ['app.kubernetes.io/managed-by', 'app.kubernetes.io/instance'];

interface PodSpecish {
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  containers: { name: string; image: string; command?: string[]; resources?: unknown }[];
  initContainers?: { image: string }[];
  volumes?: { name: string; configMap?: { name: string } }[];
}
type Workload = KubeObject & { spec: { replicas?: number; template: { spec: PodSpecish } } };
type ConfigMap = KubeObject & { data: Record<string, string> };
type WebhookConfig = KubeObject & {
  webhooks: {
    failurePolicy: string;
    clientConfig: { caBundle?: string; service: { namespace: string; name: string } };
  }[];
};
type Secret = KubeObject & { data: Record<string, string> };

function run(bin: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      {
        cwd: REPO_ROOT,
        timeout: 120_000,
        maxBuffer: 1 << 24,
        // helm keeps its caches and release-independent config here, not in the user's home.
        env: {
          ...process.env,
          HELM_CACHE_HOME: helmHome,
          HELM_CONFIG_HOME: helmHome,
          HELM_DATA_HOME: helmHome,
          ...env,
        },
      },
      (err, stdout, stderr) =>
        err
          ? reject(
              Object.assign(new Error(`${bin} ${args.join(' ')}: ${stderr.trim() || err.message}`), {
                stderr,
              }),
            )
          : resolve(stdout),
    );
  });
}

let helmHome = tmpdir();

/** YAML 1.1, as kubectl and the API server's Go decoders read deploy/ (0440 is octal there). */
function objects(text: string, what: string): KubeObject[] {
  return parseAllDocuments(text, { version: '1.1' })
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${what}: ${d.errors[0]?.message}`);
      return d.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null && typeof o === 'object' && 'kind' in o);
}

async function deployObjects(dir: string): Promise<KubeObject[]> {
  const path = join(REPO_ROOT, 'deploy', dir);
  const out: KubeObject[] = [];
  for (const f of (await readdir(path)).filter((n) => /\.ya?ml$/.test(n)).sort())
    out.push(...objects(await readFile(join(path, f), 'utf8'), f));
  return out;
}

const template = (args: string[] = []) =>
  run(HELM, ['template', 'multinet', 'deploy', '--namespace', 'kube-system', '--include-crds', ...args]);

async function rendered(args: string[] = []): Promise<KubeObject[]> {
  return objects(await template(args), 'helm template');
}

/** The object without Helm's labels, which are the only thing the chart adds to deploy/'s. */
function withoutHelmLabels(o: KubeObject): KubeObject {
  const copy = structuredClone(o);
  const labels = copy.metadata?.labels;
  if (labels) {
    for (const l of HELM_LABELS) delete labels[l];
    if (Object.keys(labels).length === 0) delete copy.metadata!.labels;
  }
  return copy;
}

const key = (o: KubeObject) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const byKey = (objs: KubeObject[]) => new Map(objs.map((o) => [key(o), withoutHelmLabels(o)]));
const find = <T extends KubeObject>(objs: KubeObject[], kind: string, name?: string) => {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata?.name === name));
  assert.ok(o, `${kind} ${name ?? ''} rendered`);
  return o as T;
};
const images = (w: Workload) =>
  [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers].map((c) => c.image);

describe('deploy/ as a Helm chart, against a real kube-apiserver', { skip: SKIP }, () => {
  let cp: ControlPlane;
  before(async () => {
    helmHome = await mkdtemp(join(tmpdir(), 'mn-helm-'));
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
    await rm(helmHome, { recursive: true, force: true });
  });

  test('helm lint accepts the chart', async () => {
    const out = await run(HELM, ['lint', 'deploy', '--namespace', 'kube-system']);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  for (const mode of MODES) {
    test(`mode ${mode}: renders deploy/'s objects; kubectl applies them`, async () => {
      const objs = await rendered(mode === 'thick' ? [] : ['--set', `mode=${mode}`]);
      const expected = [
        ...(await deployObjects('crds')),
        ...(await deployObjects('rbac')),
        ...(await deployObjects(mode)),
      ];
      assert.equal(objs.length, expected.length, [...byKey(objs).keys()].join(', '));
      assert.deepEqual(byKey(objs), byKey(expected));
      for (const o of objs.filter((x) => x.kind !== 'CustomResourceDefinition'))
        assert.equal(o.metadata?.labels?.['app.kubernetes.io/managed-by'], 'Helm', key(o));

      const dir = await mkdtemp(join(tmpdir(), 'mn-helm-out-'));
      try {
        const file = join(dir, 'rendered.yaml');
        await writeFile(file, await template(mode === 'thick' ? [] : ['--set', `mode=${mode}`]));
        const apply = [
          'apply',
          `--kubeconfig=${cp.adminKubeconfig}`,
          '-f',
          file,
          '--server-side',
          '--field-manager=multinet-tests',
        ];
        await run(KUBECTL, [...apply, '--dry-run=server']);
        await run(KUBECTL, apply);
        for (const o of expected) {
          const live = await cp.client.get(refOf(o));
          assert.ok(live.metadata?.uid, `${key(o)} exists`);
          if (o.kind === 'ConfigMap')
            assert.deepEqual((live as ConfigMap).data, (o as ConfigMap).data, key(o));
        }
        // thick and openshift share names: remove this mode's workload objects before the next.
        for (const o of expected.filter((x) => x.kind === 'DaemonSet' || x.kind === 'ConfigMap'))
          await cp.client.delete(refOf(o));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  test('values: image, namespace, config and scheduling change what they say, nothing else', async () => {
    const base = await rendered();
    const objs = await rendered([
      ...['--set', 'image.repository=registry.example/multinet,image.tag=1.2.3-test,image.pullPolicy=Always'],
      ...['--set', 'namespace=multinet-system'],
      ...['--set-json', 'config={"checkIntervalSeconds":60,"tenantPolicy":{"trustedNamespaces":["infra"]}}'],
      ...['--set-json', 'daemonset.nodeSelector={"node-role.example/cni":"multinet"}'],
      ...['--set-json', 'daemonset.resources={"requests":{"cpu":"100m","memory":"128Mi"}}'],
    ]);
    const ds = find<Workload>(objs, 'DaemonSet');
    assert.deepEqual(new Set(images(ds)), new Set(['registry.example/multinet:1.2.3-test']));
    assert.deepEqual(ds.spec.template.spec.nodeSelector, { 'node-role.example/cni': 'multinet' });
    assert.deepEqual(ds.spec.template.spec.containers[0]?.resources, {
      requests: { cpu: '100m', memory: '128Mi' },
    });
    for (const o of objs.filter((x) => x.metadata?.namespace !== undefined))
      assert.equal(o.metadata?.namespace, 'multinet-system', key(o));
    const binding = find<KubeObject & { subjects: { namespace: string }[] }>(objs, 'ClusterRoleBinding');
    assert.deepEqual(
      binding.subjects.map((s) => s.namespace),
      binding.subjects.map(() => 'multinet-system'),
    );

    // The config is merged key by key over deploy/'s, and multinet accepts the result.
    const cm = (o: KubeObject[]) => find<ConfigMap>(o, 'ConfigMap', 'multinet-daemon-config');
    const before = JSON.parse(cm(base).data['daemon.json']!) as Record<string, unknown>;
    const after = JSON.parse(cm(objs).data['daemon.json']!) as Record<string, unknown>;
    assert.equal(after['checkIntervalSeconds'], 60);
    assert.deepEqual((after['tenantPolicy'] as Record<string, unknown>)['trustedNamespaces'], ['infra']);
    assert.deepEqual(
      (after['tenantPolicy'] as Record<string, unknown>)['allowedTypes'],
      (before['tenantPolicy'] as Record<string, unknown>)['allowedTypes'],
    );
    const untouched = (c: Record<string, unknown>) => {
      const { checkIntervalSeconds: _a, tenantPolicy: _b, ...rest } = c;
      return rest;
    };
    assert.deepEqual(untouched(after), untouched(before));
    assert.equal(parseDaemonConfig(cm(objs).data['daemon.json']!).checkIntervalMs, 60_000);

    // Thin mode: the same config lands in the conflist's multinet plugin.
    const thin = find<ConfigMap>(
      await rendered(['--set', 'mode=thin', '--set-json', 'config={"namespaceIsolation":false}']),
      'ConfigMap',
    );
    const list = JSON.parse(thin.data['00-multinet.conflist']!) as { plugins: Record<string, unknown>[] };
    assert.equal(list.plugins.find((p) => p['type'] === 'multinet')?.['namespaceIsolation'], false);
  });

  test('webhook: deploy/webhook with a generated certificate the caBundle trusts; upgrade keeps it', async () => {
    const objs = await rendered(['--set', 'webhook.enabled=true']);
    const expected = [
      ...(await deployObjects('crds')),
      ...(await deployObjects('rbac')),
      ...(await deployObjects('thick')),
      ...(await deployObjects('webhook')),
    ];
    const got = byKey(objs);
    const secret = find<Secret>(objs, 'Secret', 'multinet-webhook-tls');
    got.delete(key(secret));
    const vwc = find<WebhookConfig>(objs, 'ValidatingWebhookConfiguration');
    const stripCa = (o: KubeObject) => {
      if (o.kind !== 'ValidatingWebhookConfiguration') return o;
      const c = structuredClone(o) as WebhookConfig;
      for (const w of c.webhooks) delete w.clientConfig.caBundle;
      return c;
    };
    assert.deepEqual(
      new Map([...got].map(([k, o]) => [k, stripCa(o)])),
      new Map([...byKey(expected)].map(([k, o]) => [k, stripCa(o)])),
    );
    assert.deepEqual(
      vwc.webhooks.map((w) => w.failurePolicy),
      vwc.webhooks.map(() => 'Ignore'),
    );

    // The serving certificate names the Service and is signed by the CA in the caBundle.
    const ca = new X509Certificate(Buffer.from(secret.data['ca.crt']!, 'base64'));
    const cert = new X509Certificate(Buffer.from(secret.data['tls.crt']!, 'base64'));
    for (const w of vwc.webhooks) assert.equal(w.clientConfig.caBundle, secret.data['ca.crt']);
    assert.ok(cert.verify(ca.publicKey), 'tls.crt is signed by ca.crt');
    assert.equal(cert.checkHost('multinet-webhook.kube-system.svc'), 'multinet-webhook.kube-system.svc');
    assert.ok(Buffer.from(secret.data['tls.key']!, 'base64').toString().includes('PRIVATE KEY'));

    const fail = await rendered(['--set', 'webhook.enabled=true,webhook.failurePolicy=Fail,mode=thin']);
    const failVwc = find<WebhookConfig>(fail, 'ValidatingWebhookConfiguration');
    assert.deepEqual(
      failVwc.webhooks.map((w) => w.failurePolicy),
      failVwc.webhooks.map(() => 'Fail'),
    );
    // Thin mode has no daemon ConfigMap: the webhook reads the conflist (docs/webhook.md).
    const dep = find<Workload>(fail, 'Deployment', 'multinet-webhook');
    assert.equal(
      dep.spec.template.spec.volumes?.find((v) => v.name === 'config')?.configMap?.name,
      'multinet-thin-config',
    );
    assert.ok(dep.spec.template.spec.containers[0]?.command?.includes('/etc/multinet/00-multinet.conflist'));

    // Installed and upgraded by helm itself against the real API server: the CA survives. Helm
    // adopts no object it did not create, so the RBAC objects kubectl applied above go first.
    for (const o of await deployObjects('rbac')) await cp.client.delete(refOf(o)).catch(() => undefined);
    const kubeconfig = ['--kubeconfig', cp.adminKubeconfig, '--namespace', 'kube-system'];
    await run(HELM, ['install', 'multinet', 'deploy', ...kubeconfig, '--set', 'webhook.enabled=true']);
    const live = (await cp.client.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'kube-system',
      name: 'multinet-webhook-tls',
    })) as Secret;
    const liveVwc = (await cp.client.get(refOf(vwc))) as WebhookConfig;
    assert.equal(liveVwc.webhooks[0]?.clientConfig.caBundle, live.data['ca.crt']);
    await run(HELM, [
      'upgrade',
      'multinet',
      'deploy',
      ...kubeconfig,
      '--set',
      'webhook.enabled=true,webhook.failurePolicy=Fail',
    ]);
    const upgraded = (await cp.client.get(refOf(live))) as Secret;
    assert.equal(upgraded.data['ca.crt'], live.data['ca.crt'], 'the CA is kept across an upgrade');
    assert.equal(upgraded.data['tls.crt'], live.data['tls.crt']);
    const upgradedVwc = (await cp.client.get(refOf(vwc))) as WebhookConfig;
    assert.equal(upgradedVwc.webhooks[0]?.failurePolicy, 'Fail');
    assert.equal(upgradedVwc.webhooks[0]?.clientConfig.caBundle, live.data['ca.crt']);
    await run(HELM, ['uninstall', 'multinet', ...kubeconfig]);
  });

  test('a bad value fails the render and names it', async () => {
    // values.schema.json: before any template runs.
    await assert.rejects(
      rendered(['--set', 'mode=thik']),
      /at '\/mode': value must be one of 'thick', 'thin', 'openshift'/,
    );
    await assert.rejects(
      rendered(['--set', 'webhok.enabled=true']),
      /additional properties 'webhok' not allowed/,
    );
    await assert.rejects(
      rendered(['--set', 'webhook.failurePolicy=Never']),
      /at '\/webhook\/failurePolicy': value must be one of 'Ignore', 'Fail'/,
    );
    await assert.rejects(
      rendered(['--set', 'webhook.enabled=true,webhook.tls.generate=false']),
      /webhook\.tls\.caBundle is required/,
    );
  });
});
