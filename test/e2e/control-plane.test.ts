// The test control plane itself: it starts fast, serves our CRDs, lets multinet's identity write
// a pod's network-status, audits those requests, and leaves nothing behind when stopped.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { isAlive } from '../support/control-plane-process.ts';
import { MULTINET_SERVICE_ACCOUNT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { KubeClient, type KubeObject } from '../support/kube-client.ts';

const NS = 'cp-test';
const SA_USER = `system:serviceaccount:${MULTINET_SERVICE_ACCOUNT.namespace}:${MULTINET_SERVICE_ACCOUNT.name}`;
const STATUS_KEY = 'k8s.v1.cni.cncf.io/network-status';

describe('test control plane (etcd + kube-apiserver)', () => {
  let cp: ControlPlane;
  let startMs = 0;

  before(async () => {
    const t0 = Date.now();
    cp = await startControlPlane();
    startMs = Date.now() - t0;
  });
  after(async () => {
    await cp?.stop();
  });

  test('starts, with RBAC on and both kubeconfigs usable', async (t) => {
    // A figure, not a pass/fail criterion: timings are judged in bench/, never in tests.
    t.diagnostic(`control plane start-up took ${startMs} ms`);
    const version = await cp.client.request<{ gitVersion: string }>('GET', '/version');
    assert.match(version.gitVersion, /^v1\.\d+\.\d+/);
    const admin = await KubeClient.fromKubeconfig(cp.adminKubeconfig);
    const multinet = await KubeClient.fromKubeconfig(cp.multinetKubeconfig);
    try {
      const review = await multinet.create<KubeObject & { status: { userInfo: { username: string } } }>({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'SelfSubjectReview',
      });
      assert.equal(review.status.userInfo.username, SA_USER);
      const ns = await admin.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' });
      assert.equal(ns.metadata?.name, 'kube-system');
    } finally {
      admin.close();
      multinet.close();
    }
  });

  test('stores and reads back a namespace, a NetworkAttachmentDefinition and a legacy Network', async () => {
    const c = cp.client;
    await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const config = JSON.stringify({ cniVersion: '0.3.1', type: 'macvlan', master: 'eth0', mode: 'bridge' });
    await c.create({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: 'macvlan-conf', namespace: NS },
      spec: { config },
    });
    await c.apply({
      apiVersion: 'kubernetes.cni.cncf.io/v1',
      kind: 'Network',
      metadata: { name: 'macvlan-conf', namespace: NS },
      spec: { config },
    });
    const nad = await c.get({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      namespace: NS,
      name: 'macvlan-conf',
    });
    assert.equal((nad['spec'] as { config: string }).config, config);
    const nets = await c.list({ apiVersion: 'kubernetes.cni.cncf.io/v1', kind: 'Network', namespace: NS });
    assert.deepEqual(
      nets.items.map((n) => n.metadata?.name),
      ['macvlan-conf'],
    );
    // Server-side dry run validates without storing.
    await c.dryRunCreate({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'dry', namespace: NS },
      data: { a: 'b' },
    });
    await assert.rejects(c.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'dry' }), {
      status: 404,
    });
  });

  test('multinet patches a pod status annotation with its token, and the audit log records it', async () => {
    const ref = { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'bothpod' };
    await cp.client.create({
      ...ref,
      metadata: {
        name: ref.name,
        namespace: NS,
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'macvlan-conf' },
      },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.6' }],
      },
    });
    const status = JSON.stringify([
      { name: 'default/macvlan-conf', interface: 'net1', ips: ['192.168.1.200'] },
    ]);
    const pod = await cp.multinetClient.get(ref);
    await cp.multinetClient.patch(
      ref,
      { metadata: { resourceVersion: pod.metadata?.resourceVersion, annotations: { [STATUS_KEY]: status } } },
      { subresource: 'status' },
    );
    const back = await cp.client.get(ref);
    assert.equal(back.metadata?.annotations?.[STATUS_KEY], status);

    const events = await cp.waitForAudit((evs) =>
      evs.some(
        (e) => e.verb === 'patch' && e.objectRef?.subresource === 'status' && e.user.username === SA_USER,
      ),
    );
    const mine = events.filter((e) => e.user.username === SA_USER && e.objectRef?.name === 'bothpod');
    assert.deepEqual(
      mine.map(
        (e) =>
          `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ${e.responseStatus?.code}`,
      ),
      ['get pods 200', 'patch pods/status 200'],
    );
    assert.ok(
      events.some((e) => e.verb === 'create' && e.objectRef?.resource === 'network-attachment-definitions'),
    );
    assert.ok(events.some((e) => e.objectRef?.resource === 'networks'));
    // The policy keeps the log to our resources: nothing about secrets, RBAC or CRDs.
    assert.ok(
      events.every((e) =>
        ['pods', 'events', 'network-attachment-definitions', 'networks'].includes(
          e.objectRef?.resource ?? '',
        ),
      ),
    );
  });

  test('stop() ends etcd and kube-apiserver and removes the state directory', async () => {
    const { pids, dir } = cp;
    assert.ok(isAlive(pids.etcd) && isAlive(pids.apiserver));
    await cp.stop();
    assert.ok(!isAlive(pids.etcd), 'etcd still running');
    assert.ok(!isAlive(pids.apiserver), 'kube-apiserver still running');
    assert.ok(!existsSync(dir), `${dir} still exists`);
    await cp.stop(); // idempotent
  });
});
