// The webhook's verdicts, with a FAKE cluster for the lookups (test/e2e/webhook.test.ts runs the
// same through a real kube-apiserver). Every refusal must be the line `multinet validate` prints
// for the same object, without the file name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import { runValidate } from '../cli/validate-command.ts';
import { policyContext } from '../engine/validate-object.ts';
import type { AdmissionRequest } from './admission-review.ts';
import { reviewAdmission } from './review-admission.ts';

const options = {
  namespaceIsolation: true,
  tenantPolicy: {
    trustedNamespaces: ['kube-system', 'default'],
    allowedTypes: ['macvlan', 'host-local'],
    rules: [{ namespaces: ['team-*'], masters: ['eth0'] }],
  },
};
const policy = policyContext(options);

function podRequest(namespace: string, annotations: Record<string, string>, name = 'web'): AdmissionRequest {
  return {
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    namespace,
    name,
    // As the API server sends it: the namespace is the request's (the object may lack it).
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { name, annotations }, spec: {} },
  };
}

function nadRequest(
  namespace: string,
  name: string,
  config: unknown,
  operation = 'CREATE',
): AdmissionRequest {
  return {
    uid: 'u2',
    kind: { group: 'k8s.cni.cncf.io', version: 'v1', kind: 'NetworkAttachmentDefinition' },
    operation,
    namespace,
    name,
    object: {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name, namespace },
      spec: { config: typeof config === 'string' ? config : JSON.stringify(config) },
    },
  };
}

/** What `multinet validate --config` prints for the request's object, file name cut off. */
function validateLines(req: AdmissionRequest): string[] {
  const obj = structuredClone(req.object) as { metadata: Record<string, unknown> };
  obj.metadata['namespace'] = req.namespace;
  const { lines } = runValidate([{ path: 'f.yaml', content: stringify(obj) }], { options });
  return lines.filter((l) => !l.includes(': warning: ')).map((l) => l.replace(/^f\.yaml: /, ''));
}

function cluster(): FakeClusterView {
  const c = new FakeClusterView();
  c.addNad('team-a', 'mv', { cniVersion: '1.0.0', name: 'mv', type: 'macvlan', master: 'eth0' });
  c.addNad('default', 'shared', { cniVersion: '1.0.0', name: 'shared', type: 'macvlan', master: 'eth0' });
  c.addNad('team-b', 'mv', { cniVersion: '1.0.0', name: 'mv-b', type: 'macvlan', master: 'eth0' });
  c.addNad('team-a', 'hd', { cniVersion: '1.0.0', name: 'hd', type: 'host-device', device: 'eth1' });
  return c;
}

describe('reviewAdmission', () => {
  it('refuses an invalid NAD with the validate line, and admits a valid one', async () => {
    const deps = { policy, networks: cluster() };
    for (const config of ['{"cniVersion":"1.0.0","name":"x"', { cniVersion: '1.0.0', name: 'x' }]) {
      const req = nadRequest('team-a', 'bad', config);
      const v = await reviewAdmission(req, deps);
      assert.equal(v.allowed, false);
      assert.deepEqual(v.problems, validateLines(req));
      assert.match(v.problems[0]!, /^NetworkAttachmentDefinition team-a\/bad: spec\.config/);
    }
    const hd = nadRequest(
      'team-a',
      'hd2',
      { cniVersion: '1.0.0', name: 'hd2', type: 'host-device' },
      'UPDATE',
    );
    const refused = await reviewAdmission(hd, deps);
    assert.deepEqual(refused.problems, validateLines(hd));
    assert.match(refused.problems[0]!, /the tenant policy refuses config type "host-device"/);
    const ok = nadRequest('team-a', 'ok', {
      cniVersion: '1.0.0',
      name: 'ok',
      type: 'macvlan',
      master: 'eth0',
    });
    assert.deepEqual(await reviewAdmission(ok, deps), { allowed: true, problems: [], warnings: [] });
  });

  it('refuses a pod whose annotation is invalid, with the validate line', async () => {
    const req = podRequest('team-a', { 'k8s.v1.cni.cncf.io/networks': '[{"name":"mv"' });
    const v = await reviewAdmission(req, { policy, networks: cluster() });
    assert.equal(v.allowed, false);
    assert.deepEqual(v.problems, validateLines(req));
  });

  it('refuses a pod selecting a missing network, another namespace, or a refused definition', async () => {
    const req = podRequest('team-a', {
      'k8s.v1.cni.cncf.io/networks': 'mv, nope, team-b/mv, hd, default/shared',
    });
    const v = await reviewAdmission(req, { policy, networks: cluster() });
    const at = 'Pod team-a/web: metadata.annotations["k8s.v1.cni.cncf.io/networks"]: network';
    assert.deepEqual(v.problems, [
      `${at} team-a/nope: NetworkAttachmentDefinition team-a/nope not found (nor a legacy Network of that name)`,
      `${at} team-b/mv: namespaceIsolation is on: pods in namespace "team-a" may only use networks from their own namespace or from default`,
      `${at} team-a/hd: spec.config: the tenant policy refuses config type "host-device": type "host-device" is in neither tenantPolicy.allowedTypes nor the types of tenantPolicy.rules[0] (the rules for namespace "team-a")`,
    ]);
    // Offline, validate knows no cluster: it reports the isolation breach only.
    assert.deepEqual(validateLines(req), [v.problems[1]]);
  });

  it('admits a good pod, the legacy annotation and a generateName pod; other kinds and DELETE pass', async () => {
    const networks = cluster();
    const deps = { policy, networks };
    const good = podRequest('team-a', { 'k8s.v1.cni.cncf.io/networks': 'mv, default/shared' });
    assert.deepEqual(await reviewAdmission(good, deps), { allowed: true, problems: [], warnings: [] });
    const legacy = podRequest('team-a', { 'kubernetes.v1.cni.cncf.io/networks': 'nope' }, '');
    const v = await reviewAdmission(legacy, deps);
    assert.match(
      v.problems[0] ?? '',
      /^Pod team-a\/\(no name\): .*kubernetes\.v1\.cni\.cncf\.io\/networks.*team-a\/nope not found/,
    );
    const generated = podRequest('team-a', { 'k8s.v1.cni.cncf.io/networks': 'nope' }, '');
    (generated.object as { metadata: Record<string, unknown> }).metadata['generateName'] = 'web-';
    assert.match((await reviewAdmission(generated, deps)).problems[0] ?? '', /^Pod team-a\/web-\*: /);
    for (const req of [
      { ...good, operation: 'UPDATE', object: (legacy as { object: unknown }).object },
      { ...good, kind: { group: 'apps', version: 'v1', kind: 'Deployment' } },
      { ...nadRequest('team-a', 'x', '{'), operation: 'DELETE', object: null },
    ])
      assert.equal((await reviewAdmission(req, deps)).allowed, true);
  });

  it('a lookup failure is not a verdict (the failurePolicy decides)', async () => {
    const networks = cluster();
    networks.down = true;
    const req = podRequest('team-a', { 'k8s.v1.cni.cncf.io/networks': 'mv' });
    await assert.rejects(reviewAdmission(req, { policy, networks }), /down/);
  });

  it('looks up at most maxLookups networks, and says so', async () => {
    const networks = cluster();
    let reads = 0;
    const counting = {
      getNetworkObject: (ns: string, n: string) => (reads++, networks.getNetworkObject(ns, n)),
    };
    const names = Array.from({ length: 10 }, (_, i) => `n${i}`).join(',');
    const req = podRequest('team-a', { 'k8s.v1.cni.cncf.io/networks': names });
    const v = await reviewAdmission(req, { policy, networks: counting, maxLookups: 3 });
    assert.equal(reads, 3);
    assert.equal(v.problems.length, 3);
    assert.match(v.warnings[0]!, /only the first 3 of the 10 networks/);
  });
});
