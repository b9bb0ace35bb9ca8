import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AttachmentPlan, PlannedAttachment } from '../engine/attachment-plan.ts';
import { FilePlanStore } from './file-plan-store.ts';

/**
 * Every field of a plan set, none to its default, so a field dropped on the way is seen. The
 * `Required<>` types make a field added to the plan types a compile error here until it is set.
 */
const eth0: Required<PlannedAttachment> = {
  network: 'podnet',
  ifName: 'eth0',
  isDefault: true,
  configText: '{"cniVersion":"1.0.0","name":"podnet","type":"ptp","unknownKey":{"kept":true}}',
  capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
  defaultRoute: [],
  resourceName: 'example.com/vf',
  deviceId: '0000:3b:02.1',
  draDevice: {
    driver: 'dra.example.com',
    pool: 'node-a',
    device: 'vf-1',
    claimNamespace: 'ns1',
    claimName: 'claim-a',
  },
  deviceInfoFile: '/var/run/k8s.cni.cncf.io/devinfo/cni/c1-eth0-device.json',
  selection: '{"name":"podnet"}',
  pending: true,
};
const net1: Required<PlannedAttachment> = {
  network: 'ns1/net-a',
  ifName: 'net1',
  isDefault: false,
  configText: '{"cniVersion":"0.3.1","name":"net-a","plugins":[{"type":"macvlan","args":{"cni":{"x":1}}}]}',
  capabilityArgs: { ips: ['10.1.0.5/24'], mac: '02:00:00:00:00:10' },
  defaultRoute: ['10.1.0.1', '2001:db8::1'],
  resourceName: 'example.com/sriov',
  deviceId: '0000:3b:02.2',
  draDevice: { driver: 'd2', pool: 'p2', device: 'dev2', claimNamespace: 'ns2', claimName: 'claim-b' },
  deviceInfoFile: '/var/run/k8s.cni.cncf.io/devinfo/cni/c1-net1-device.json',
  selection: '{"interface":"net1","name":"net-a","namespace":"ns1"}',
  pending: true,
};
const plan: Required<AttachmentPlan> = {
  pod: { namespace: 'ns1', name: 'pod-a', uid: 'uid-1' },
  containerId: 'c1',
  netns: '/run/netns/p1',
  cniArgs: [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAME', 'pod-a'],
  ],
  attachments: [eth0, net1],
  ifNames: ['eth0', 'net1', 'net2'],
};

async function store(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'mn-plans-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return { dir, plans: new FilePlanStore(dir) };
}

test('FilePlanStore: a plan comes back with every field, from a root-only file', async (t) => {
  const { dir, plans } = await store(t);
  await plans.put(plan);
  assert.deepEqual(await plans.get('c1'), plan);
  assert.deepEqual(await plans.list(), ['c1']);
  assert.equal((await stat(join(dir, 'plans'))).mode & 0o777, 0o700);
  assert.equal((await stat(join(dir, 'plans', 'c1'))).mode & 0o777, 0o600);
  // A plan without a pod (a runtime that passed no K8S_POD_* args) keeps that.
  await plans.put({ ...plan, containerId: 'c2', pod: undefined });
  const back = await plans.get('c2');
  assert.equal(back?.pod, undefined);
  assert.deepEqual(back?.attachments, plan.attachments);
  await plans.delete('c1');
  assert.equal(await plans.get('c1'), undefined);
  await plans.delete('c1'); // idempotent
  assert.deepEqual(await plans.list(), ['c2']);
});

test('FilePlanStore: an edited or torn file is an error, not a plan; path-like IDs are refused', async (t) => {
  const { dir, plans } = await store(t);
  await plans.put(plan);
  const file = join(dir, 'plans', 'c1');
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace('net-a', 'net-b'));
  await assert.rejects(plans.get('c1'), /checksum mismatch/);
  await writeFile(file, text.slice(0, text.length / 2));
  await assert.rejects(plans.get('c1'), /truncated or corrupt/);
  await assert.rejects(plans.get('../etc/passwd'), /invalid container ID/);
  await assert.rejects(plans.put({ ...plan, containerId: 'a/b' }), /invalid container ID/);
});
