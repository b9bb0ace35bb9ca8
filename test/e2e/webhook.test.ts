/**
 * `multinet webhook` behind a real kube-apiserver. The webhook runs as the shipped bundle
 * (dist/multinet.mjs, built here), as a real process. Its certificate comes from docs/webhook.md's
 * openssl step, run as written. Its config is deploy/thick's daemon.json (plus one tenant rule).
 * Its identity is a token of deploy/webhook's ServiceAccount. The API server calls it through
 * deploy/webhook's ValidatingWebhookConfiguration, with clientConfig.url on loopback.
 * Everything is checked through the API server, as a user sees it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { runValidate } from '../../src/cli/validate-command.ts';
import { loadManifests } from '../support/control-plane-manifests.ts';
import {
  freePort,
  isAlive,
  registerCleanup,
  spawnLogged,
  stopGroup,
  type Spawned,
} from '../support/control-plane-process.ts';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { KubeApiError, refOf, type KubeObject } from '../support/kube-client.ts';

const SA = { namespace: 'kube-system', name: 'multinet-webhook' };
const VWC = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingWebhookConfiguration',
  name: 'multinet',
};

/** The shell block docs/webhook.md marks as run by this test. */
async function docsCertStep(): Promise<string> {
  const doc = await readFile(join(REPO_ROOT, 'docs/webhook.md'), 'utf8');
  const m = /<!-- test\/e2e\/webhook\.test\.ts runs this block[^>]*-->\n```sh\n([\s\S]*?)\n```/.exec(doc);
  assert.ok(m, 'docs/webhook.md has the marked certificate step');
  return m[1]!;
}

/** deploy/thick's daemon.json, as the Deployment mounts it. */
async function thickDaemonConfig(): Promise<Record<string, unknown>> {
  const text = await readFile(join(REPO_ROOT, 'deploy/thick/daemonset.yaml'), 'utf8');
  const cm = parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject & { data?: Record<string, string> })
    .find((o) => o.kind === 'ConfigMap');
  return JSON.parse(cm!.data!['daemon.json']!) as Record<string, unknown>;
}

/** package.json's build:daemon, written to `out` instead of dist/ (the tracked tree stays as it is). */
function buildBundle(out: string): void {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const script = pkg.scripts['build:daemon']!;
  assert.ok(script.includes('dist/multinet.mjs'));
  execFileSync('sh', ['-c', script.replaceAll('dist/multinet.mjs', out)], {
    cwd: REPO_ROOT,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${join(REPO_ROOT, 'node_modules/.bin')}:${process.env['PATH']}` },
  });
}

function getStatus(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { ca, agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

const nad = (namespace: string, name: string, config: unknown): KubeObject => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { name, namespace },
  spec: { config: typeof config === 'string' ? config : JSON.stringify(config) },
});
const pod = (namespace: string, name: string, annotations: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, annotations },
  spec: {
    automountServiceAccountToken: false,
    containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }],
  },
});

describe('multinet webhook against a real kube-apiserver', () => {
  let cp: ControlPlane;
  let dir: string;
  let webhook: Spawned | undefined;
  let unregister = () => {};
  let options: Record<string, unknown>;
  let caBundle: string;

  async function refusal(obj: KubeObject): Promise<string> {
    try {
      await cp.client.create(obj);
    } catch (err) {
      assert.ok(err instanceof KubeApiError, String(err));
      return (err.body as { message?: string }).message ?? err.message;
    }
    assert.fail(`${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name} was admitted`);
  }

  /** What `multinet validate --config` prints for `obj`, file name cut off. */
  function validateLines(obj: KubeObject): string[] {
    const { lines } = runValidate([{ path: 'm.yaml', content: stringify(obj) }], { options });
    return lines.filter((l) => !l.includes(': warning: ')).map((l) => l.replace(/^m\.yaml: /, ''));
  }

  async function startWebhook(port: number): Promise<void> {
    const proc = spawnLogged(
      'multinet-webhook',
      process.execPath,
      [
        join(dir, 'multinet.mjs'),
        'webhook',
        '--config',
        join(dir, 'daemon.json'),
        '--tls-cert',
        join(dir, 'webhook-tls/tls.crt'),
        '--tls-key',
        join(dir, 'webhook-tls/tls.key'),
        '--listen',
        `127.0.0.1:${port}`,
        '--kubeconfig',
        join(dir, 'webhook.kubeconfig'),
      ],
      join(dir, 'webhook.log'),
    );
    webhook = proc;
    unregister = registerCleanup([proc.pid], dir);
    const ca = await readFile(join(dir, 'webhook-tls/ca.crt'));
    const deadline = Date.now() + 60_000;
    while ((await getStatus(`https://127.0.0.1:${port}/readyz`, ca)) !== 200) {
      if (!isAlive(proc.pid) || Date.now() > deadline)
        throw new Error(`the webhook did not become ready:\n${await readFile(proc.logFile, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function setFailurePolicy(policy: 'Ignore' | 'Fail'): Promise<void> {
    const ops = [0, 1].map((i) => ({ op: 'replace', path: `/webhooks/${i}/failurePolicy`, value: policy }));
    await cp.client.patch(VWC, ops, { type: 'json' });
  }

  before(async () => {
    cp = await startControlPlane();
    dir = await mkdtemp(join(tmpdir(), 'mn-webhook-e2e-'));
    for (const name of ['team-a', 'team-b'])
      await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    for (const obj of (await loadManifests(join(REPO_ROOT, 'deploy/webhook'))).filter(
      (o) => o.kind !== 'ValidatingWebhookConfiguration',
    ))
      await cp.client.apply(obj);
    // docs/webhook.md step 1, as written; the API server reaches the webhook on loopback.
    execFileSync('sh', ['-ec', await docsCertStep()], {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', SAN: 'IP:127.0.0.1' },
      stdio: 'ignore',
    });
    caBundle = (await readFile(join(dir, 'webhook-tls/ca.crt'))).toString('base64');
    // The nodes' config, with a rule so that team-a may use one master.
    const thick = await thickDaemonConfig();
    const policy = thick['tenantPolicy'] as { rules: unknown[] };
    options = {
      ...thick,
      tenantPolicy: { ...policy, rules: [...policy.rules, { namespaces: ['team-a'], masters: ['eth9'] }] },
    };
    await writeFile(join(dir, 'daemon.json'), JSON.stringify(options));
    const token = await cp.client.create<KubeObject & { status: { token: string } }>(
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
      { ref: { apiVersion: 'v1', kind: 'ServiceAccount', ...SA }, subresource: 'token' },
    );
    await writeFile(
      join(dir, 'webhook.kubeconfig'),
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: cp.server, 'certificate-authority': cp.caFile } }],
        users: [{ name: 'u', user: { token: token.status.token } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'c',
      }),
      { mode: 0o600 },
    );
    buildBundle(join(dir, 'multinet.mjs'));
    const port = await freePort();
    await startWebhook(port);
    // deploy/webhook's configuration, pointed at the process.
    const [vwc] = (await loadManifests(join(REPO_ROOT, 'deploy/webhook'))).filter(
      (o) => o.kind === 'ValidatingWebhookConfiguration',
    ) as (KubeObject & { webhooks: { clientConfig: unknown; failurePolicy: string }[] })[];
    assert.ok(vwc);
    assert.deepEqual(
      vwc.webhooks.map((w) => w.failurePolicy),
      ['Ignore', 'Ignore'],
      'the shipped failurePolicy is Ignore',
    );
    for (const w of vwc.webhooks) w.clientConfig = { url: `https://127.0.0.1:${port}/validate`, caBundle };
    await cp.client.create(vwc);
    // The API server picks up webhook configurations from a watch: wait until it calls this one.
    const probe = nad('team-a', 'probe', '{');
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await cp.client.create(probe, { query: { dryRun: 'All' } });
      } catch (err) {
        if (err instanceof KubeApiError && /denied the request/.test(err.message)) break;
        throw err;
      }
      if (Date.now() > deadline) throw new Error('the API server never called the webhook');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    if (webhook) await stopGroup(webhook.pid);
    unregister();
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('an invalid NAD, a NAD the tenant policy refuses and an invalid Network are refused with the validate lines', async () => {
    const cases = [
      nad('team-a', 'not-json', '{"cniVersion":"1.0.0","name":"x"'),
      nad('team-a', 'no-type', { cniVersion: '1.0.0', name: 'x' }),
      nad('team-a', 'hd', { cniVersion: '1.0.0', name: 'hd', type: 'host-device', device: 'eth1' }),
      nad('team-a', 'other-master', { cniVersion: '1.0.0', name: 'om', type: 'macvlan', master: 'eth0' }),
      {
        apiVersion: 'kubernetes.cni.cncf.io/v1',
        kind: 'Network',
        metadata: { name: 'legacy', namespace: 'team-a' },
        spec: { plugin: '../bin/sh' },
      },
    ];
    for (const obj of cases) {
      const expected = validateLines(obj);
      assert.equal(expected.length, 1, JSON.stringify(expected));
      // Definitions of both kinds go to the second webhook of the configuration.
      assert.equal(
        await refusal(obj),
        `admission webhook "networks.webhook.multinet" denied the request: ${expected[0]}`,
      );
    }
    await assert.rejects(
      cp.client.get({
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        namespace: 'team-a',
        name: 'hd',
      }),
      (err: unknown) => err instanceof KubeApiError && err.status === 404,
      'nothing refused was stored',
    );
  });

  test('a valid NAD is admitted, and an update that breaks it is refused', async () => {
    const good = nad('team-a', 'mv', { cniVersion: '1.0.0', name: 'mv-a', type: 'macvlan', master: 'eth9' });
    const stored = await cp.client.create(good);
    assert.equal(stored.metadata?.name, 'mv');
    await cp.client.create(nad('default', 'shared', { cniVersion: '1.0.0', name: 'shared', type: 'bridge' }));
    await cp.client.create(nad('team-b', 'storage', { cniVersion: '1.0.0', name: 'st', type: 'tuning' }));
    const broken = structuredClone(stored) as KubeObject & { spec: { config: string } };
    broken.spec.config = JSON.stringify({ cniVersion: '1.0.0', name: 'mv-a', type: 'multinet' });
    try {
      await cp.client.update(broken);
      assert.fail('the update was admitted');
    } catch (err) {
      assert.ok(err instanceof KubeApiError, String(err));
      assert.match(
        (err.body as { message: string }).message,
        /denied the request: NetworkAttachmentDefinition team-a\/mv: spec\.config type: "multinet": multinet's own plugin types are never delegates$/,
      );
    }
  });

  test('pods with a bad annotation, a missing network or another namespace are refused; a good pod is admitted', async () => {
    const at = 'Pod team-a/p: metadata.annotations["k8s.v1.cni.cncf.io/networks"]';
    const prefix = 'admission webhook "pods.webhook.multinet" denied the request: ';
    const bad = pod('team-a', 'p', { 'k8s.v1.cni.cncf.io/networks': '[{"name":"mv"' });
    const badLines = validateLines(bad);
    assert.equal(badLines.length, 1);
    assert.equal(await refusal(bad), `${prefix}${badLines[0]}`);

    const missing = pod('team-a', 'p', { 'k8s.v1.cni.cncf.io/networks': 'mv, nope' });
    assert.equal(
      await refusal(missing),
      `${prefix}${at}: network team-a/nope: NetworkAttachmentDefinition team-a/nope not found (nor a legacy Network of that name)`,
    );

    const crossing = pod('team-a', 'p', { 'k8s.v1.cni.cncf.io/networks': 'team-b/storage' });
    const crossingLines = validateLines(crossing);
    assert.deepEqual(crossingLines, [
      `${at}: network team-b/storage: namespaceIsolation is on: pods in namespace "team-a" may only use networks from their own namespace or from default`,
    ]);
    assert.equal(await refusal(crossing), `${prefix}${crossingLines[0]}`);

    const good = pod('team-a', 'p', { 'k8s.v1.cni.cncf.io/networks': 'mv, default/shared' });
    const created = await cp.client.create(good);
    assert.equal(created.metadata?.name, 'p');
    // A NAD created right after a refusal counts at once.
    const late = pod('team-a', 'late', { 'k8s.v1.cni.cncf.io/networks': 'later' });
    assert.match(await refusal(late), /team-a\/later not found/);
    await cp.client.create(nad('team-a', 'later', { cniVersion: '1.0.0', name: 'later', type: 'tuning' }));
    assert.equal((await cp.client.create(late)).metadata?.name, 'late');
  });

  test('figures: a pod create through the webhook, and its memory', async (t) => {
    const timed = async (annotations: Record<string, string>) => {
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        await cp.client.create(pod('team-a', 'timed', annotations), { query: { dryRun: 'All' } });
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      return `median ${times[10]!.toFixed(1)} ms, max ${times[19]!.toFixed(1)} ms`;
    };
    const through = await timed({ 'k8s.v1.cni.cncf.io/networks': 'mv, default/shared' });
    // Not sent to the webhook (its matchCondition): the API server's own cost.
    const plain = await timed({});
    const rss = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${webhook!.pid}/status`, 'utf8'))?.[1];
    assert.ok(rss, 'the webhook process is running');
    t.diagnostic(
      `20 dry-run pod creates: through the webhook ${through}; selecting no network ${plain}; webhook RSS ${(Number(rss) / 1024).toFixed(1)} MiB`,
    );
  });

  test('the ServiceAccount may read network definitions and nothing else', async () => {
    const user = `system:serviceaccount:${SA.namespace}:${SA.name}`;
    const allowed = async (verb: string, group: string, resource: string, namespace = '') => {
      const review = await cp.client.create<KubeObject & { status: { allowed: boolean } }>({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user,
          groups: [
            'system:serviceaccounts',
            `system:serviceaccounts:${SA.namespace}`,
            'system:authenticated',
          ],
          resourceAttributes: { verb, group, resource, namespace },
        },
      });
      return review.status.allowed;
    };
    for (const [group, resource] of [
      ['k8s.cni.cncf.io', 'network-attachment-definitions'],
      ['kubernetes.cni.cncf.io', 'networks'],
    ] as const)
      for (const verb of ['get', 'list', 'watch'])
        assert.equal(
          await allowed(verb, group, resource, verb === 'get' ? 'team-a' : ''),
          true,
          `${verb} ${resource}`,
        );
    const refused: [string, string, string, string?][] = [
      ['create', 'k8s.cni.cncf.io', 'network-attachment-definitions', 'team-a'],
      ['update', 'k8s.cni.cncf.io', 'network-attachment-definitions', 'team-a'],
      ['delete', 'kubernetes.cni.cncf.io', 'networks', 'team-a'],
      ['get', '', 'secrets', 'kube-system'],
      ['list', '', 'secrets'],
      ['get', '', 'pods', 'team-a'],
      ['list', '', 'pods'],
      ['get', '', 'configmaps', 'kube-system'],
      ['patch', '', 'pods', 'team-a'],
      ['create', '', 'events', 'team-a'],
      ['update', 'admissionregistration.k8s.io', 'validatingwebhookconfigurations'],
    ];
    for (const [verb, group, resource, namespace] of refused)
      assert.equal(await allowed(verb, group, resource, namespace), false, `${verb} ${group}/${resource}`);
  });

  test('applying the shipped configuration again keeps the caBundle docs/webhook.md patched in', async () => {
    const [shipped] = (await loadManifests(join(REPO_ROOT, 'deploy/webhook'))).filter(
      (o) => o.kind === 'ValidatingWebhookConfiguration',
    );
    // A copy under another name, applied as `kubectl apply --server-side` would, so that the
    // webhook under test keeps its loopback URL.
    const copy = { ...shipped!, metadata: { ...shipped!.metadata, name: 'multinet-cabundle-check' } };
    const ref = refOf(copy);
    type Vwc = KubeObject & { webhooks: { clientConfig: { caBundle?: string } }[] };
    try {
      await cp.client.apply(copy, 'kubectl');
      const ops = [0, 1].map((i) => ({
        op: 'add',
        path: `/webhooks/${i}/clientConfig/caBundle`,
        value: caBundle,
      }));
      await cp.client.patch(ref, ops, { type: 'json' });
      const again = await cp.client.apply<Vwc>(copy, 'kubectl');
      assert.deepEqual(
        again.webhooks.map((w) => w.clientConfig.caBundle),
        [caBundle, caBundle],
      );
    } finally {
      await cp.client.delete(ref);
    }
  });

  // Last: it stops the webhook.
  test('with the webhook stopped, pods are still created (Ignore); with Fail only pods that select networks are refused', async () => {
    await stopGroup(webhook!.pid);
    assert.equal(isAlive(webhook!.pid), false);
    const unchecked = pod('team-a', 'while-down', { 'k8s.v1.cni.cncf.io/networks': 'nope' });
    assert.equal((await cp.client.create(unchecked)).metadata?.name, 'while-down');
    await setFailurePolicy('Fail');
    try {
      const msg = await refusal(pod('team-a', 'refused-while-down', { 'k8s.v1.cni.cncf.io/networks': 'mv' }));
      assert.match(msg, /failed calling webhook "pods\.webhook\.multinet"/);
      // The matchCondition: a pod that selects no network is never sent, so never refused.
      const plain = pod('team-a', 'plain', {});
      assert.equal((await cp.client.create(plain)).metadata?.name, 'plain');
    } finally {
      await setFailurePolicy('Ignore');
    }
  });
});
