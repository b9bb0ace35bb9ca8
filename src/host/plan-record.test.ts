import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AttachmentPlan } from '../engine/attachment-plan.ts';
import { fromPlanRecord, PlanRecordError, toPlanRecord } from './plan-record.ts';

const full: AttachmentPlan = {
  pod: { namespace: 'team-a', name: 'web', uid: 'u-1' },
  containerId: 'c0ffee',
  netns: '/var/run/netns/x',
  cniArgs: [['K8S_POD_NAME', 'web']],
  ifNames: ['eth0', 'net1'],
  attachments: [
    {
      network: 'cbr0',
      ifName: 'eth0',
      isDefault: true,
      configText: '{"type":"bridge"}',
      capabilityArgs: {},
    },
    {
      network: 'team-a/fast',
      ifName: 'net1',
      isDefault: false,
      configText: '{"type":"host-device","deviceID":"d0"}',
      capabilityArgs: { deviceID: 'd0', CNIDeviceInfoFile: '/run/x.json' },
      defaultRoute: ['192.0.2.1'],
      resourceName: 'vendor.example/nic',
      deviceId: 'd0',
      draDevice: { driver: 'd', pool: 'p', device: 'dev', claimNamespace: 'team-a', claimName: 'c' },
      deviceInfoFile: '/run/x.json',
      selection: 'team-a/fast@net1',
      pending: true,
    },
  ],
};

/** A record whose body is `body` with a valid checksum: what a torn write cannot produce. */
function recordOf(body: unknown): string {
  const text = JSON.stringify(body);
  return JSON.stringify({
    kind: 'multinetPlanV1',
    checksum: createHash('sha256').update(text).digest('hex'),
    body: text,
  });
}

describe('plan record', () => {
  it('round-trips every field of a plan', () => {
    assert.deepEqual(fromPlanRecord(toPlanRecord(full)), full);
    const noPod = { ...full, pod: undefined };
    assert.deepEqual(fromPlanRecord(toPlanRecord(noPod)), noPod);
  });

  it('refuses a checksummed body of the wrong shape, naming the field', () => {
    const bad = { ...full, attachments: [{ ...full.attachments[0]!, ifName: 5 }] };
    assert.throws(
      () => fromPlanRecord(recordOf(bad)),
      (err: Error) => err instanceof PlanRecordError && /attachments\.0\.ifName: /.test(err.message),
    );
    assert.throws(() => fromPlanRecord(recordOf({ ...full, cniArgs: [['only-key']] })), /cniArgs\.0/);
    assert.throws(() => fromPlanRecord(recordOf({ ...full, pod: { name: 'web' } })), /pod\.namespace/);
    assert.throws(() => fromPlanRecord(recordOf([])), /body is not a plan/);
    const arrayArgs = { ...full, attachments: [{ ...full.attachments[0]!, capabilityArgs: [] }] };
    assert.throws(() => fromPlanRecord(recordOf(arrayArgs)), /attachments\.0\.capabilityArgs/);
  });

  it('keeps a field a newer multinet wrote', () => {
    const newer = { ...full, future: { x: 1 }, attachments: [{ ...full.attachments[0]!, later: 'y' }] };
    const read = fromPlanRecord(recordOf(newer)) as unknown as typeof newer;
    assert.deepEqual(read.future, { x: 1 });
    assert.equal(read.attachments[0]!.later, 'y');
  });
});
