import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import type { ResultCacheRecord } from '../cni/result-cache.ts';
import type { AttachmentPlan } from './attachment-plan.ts';
import { findLeaks } from './find-leaks.ts';
import type { HostLocalReservation, LeakSources, NetnsState } from './leak-sources.ts';

const net = (name: string) =>
  JSON.stringify({ cniVersion: '1.0.0', name, type: 'bridge', ipam: { type: 'host-local', dataDir: '/d' } });

function plan(id: string, netns: string): AttachmentPlan {
  return {
    pod: { namespace: 'ns1', name: `pod-${id}`, uid: `uid-${id}` },
    containerId: id,
    netns,
    cniArgs: [],
    attachments: [
      { network: 'podnet', ifName: 'eth0', isDefault: true, configText: net('podnet'), capabilityArgs: {} },
    ],
  };
}

function record(id: string, netns: string): ResultCacheRecord {
  return {
    kind: 'cniCacheV1',
    containerId: id,
    ifName: 'eth0',
    networkName: 'podnet',
    config: Buffer.from(net('podnet')).toString('base64'),
    netns,
    cniArgs: [],
    capabilityArgs: {},
    result: {},
  };
}

/**
 * FAKE readers (the real ones are tested by test/integration/gc-leaks.test.ts): netns states by
 * path, the API's answer by pod name, host-local files in memory.
 */
function sources(opts: {
  plans?: AttachmentPlan[];
  corrupt?: string[];
  results?: ResultCacheRecord[];
  runtime?: ResultCacheRecord[];
  reservations?: Partial<HostLocalReservation>[];
  netns?: Record<string, NetnsState>;
  api?: Record<string, boolean | Error>;
  bootTimeMs?: number;
}): LeakSources {
  const plans = new MemoryPlanStore();
  for (const p of opts.plans ?? []) plans.plans.set(p.containerId, p);
  const corrupt = new Set(opts.corrupt ?? []);
  return {
    plans: {
      list: async () => [...plans.plans.keys(), ...corrupt],
      get: async (id) => {
        if (corrupt.has(id)) throw new Error('plan cache record: checksum mismatch (corrupt)');
        return plans.get(id);
      },
    },
    results: async () => opts.results ?? [],
    runtimeResults: async () => opts.runtime ?? [],
    reservations: async (store) =>
      (opts.reservations ?? []).map((r) => ({
        store,
        ip: '10.0.0.9',
        containerId: '',
        ifName: 'eth0',
        reservedAtMs: 0,
        ...r,
      })),
    probeNetns: async (path) => opts.netns?.[path] ?? { state: 'gone', why: `netns ${path} is gone` },
    ...(opts.api
      ? {
          podExists: async (pod) => {
            const a = opts.api![pod.name];
            if (a instanceof Error) throw a;
            return a ?? true;
          },
        }
      : {}),
    staticNetworks: async () => [{ network: 'podnet', configText: net('podnet') }],
    bootTimeMs: opts.bootTimeMs,
  };
}

const verdicts = (r: Awaited<ReturnType<typeof findLeaks>>) =>
  r.findings.map((f) => `${f.verdict} ${f.containerId} ${f.left.join('+')}`).sort();

describe('findLeaks: leaked only with evidence that the sandbox is gone', () => {
  it('a gone netns is a leak; a present one is live, whatever the API says is then unknown', async () => {
    const r = await findLeaks(
      sources({
        plans: [plan('a', '/n/a'), plan('b', '/n/b'), plan('c', '/n/c')],
        results: [record('a', '/n/a')],
        reservations: [{ containerId: 'a', ip: '10.0.0.2' }],
        netns: { '/n/b': { state: 'present' }, '/n/c': { state: 'present' } },
        api: { 'pod-c': false },
      }),
    );
    assert.deepEqual(verdicts(r), [
      'leaked a plan+result cache+host-local 10.0.0.2 (/d/podnet)',
      'unknown c plan',
    ]);
    assert.deepEqual(r.live, ['b']);
    assert.deepEqual([...r.leakedContainers.keys()], ['a']);
    assert.match(r.findings.find((f) => f.containerId === 'c')!.why, /has not torn the sandbox down yet/);
  });

  it('the API alone never makes a leak: an invisible netns stays unknown', async () => {
    const hidden: NetnsState = { state: 'unknown', why: 'its directory /n is not visible here' };
    const r = await findLeaks(
      sources({
        plans: [plan('a', '/n/a'), plan('b', '/n/b')],
        netns: { '/n/a': hidden, '/n/b': hidden },
        api: { 'pod-a': false, 'pod-b': new Error('connection refused') },
      }),
    );
    assert.deepEqual(verdicts(r), ['unknown a plan', 'unknown b plan']);
    assert.match(r.findings[0]!.why, /gone from the API server, which alone is not enough/);
    assert.match(r.findings[1]!.why, /the API server cannot tell \(connection refused\)/);
    assert.equal(r.leakedContainers.size, 0);
  });

  it('an unreadable plan is unknown, even when its result cache names a gone netns', async () => {
    const r = await findLeaks(sources({ corrupt: ['x'], results: [record('x', '/n/x')] }));
    assert.deepEqual(verdicts(r), ['unknown x result cache']);
    assert.match(r.findings[0]!.why, /plan cache record cannot be read/);
  });

  it('a stray reservation: leaked before the last boot or with a gone netns in the runtime cache, else unknown', async () => {
    const r = await findLeaks(
      sources({
        bootTimeMs: 1000,
        runtime: [record('rt-gone', '/n/rt-gone'), record('rt-live', '/n/rt-live')],
        netns: { '/n/rt-live': { state: 'present' } },
        reservations: [
          { containerId: 'old', ip: '10.0.0.2', reservedAtMs: 500 },
          { containerId: 'new', ip: '10.0.0.3', reservedAtMs: 2000 },
          { containerId: 'rt-gone', ip: '10.0.0.4', reservedAtMs: 2000 },
          { containerId: 'rt-live', ip: '10.0.0.5', reservedAtMs: 2000 },
          { containerId: 'v1', ip: '10.0.0.6', reservedAtMs: 500, ifName: '' },
          { ip: '10.0.0.7', problem: '/d/podnet/10.0.0.7 is not a small regular file' },
        ],
      }),
    );
    assert.deepEqual(verdicts(r), [
      'leaked old host-local 10.0.0.2 (/d/podnet)',
      'leaked rt-gone host-local 10.0.0.4 (/d/podnet)',
      'unknown ? host-local 10.0.0.7 (/d/podnet)',
      'unknown new host-local 10.0.0.3 (/d/podnet)',
      'unknown v1 host-local 10.0.0.6 (/d/podnet)',
    ]);
    assert.deepEqual(r.live, ['rt-live']);
    assert.deepEqual(r.leakedReservations.map((x) => x.reservation.ip).sort(), ['10.0.0.2', '10.0.0.4']);
    assert.deepEqual([...r.leakedNetworks.keys()], ['podnet']);
  });

  it('without a boot time a stray reservation is unknown; evidence from an earlier scan carries over', async () => {
    const src = sources({ reservations: [{ containerId: 'old', reservedAtMs: 0 }] });
    assert.deepEqual(verdicts(await findLeaks(src)), ['unknown old host-local 10.0.0.9 (/d/podnet)']);
    const again = await findLeaks(src, { knownGone: new Map([['old', 'netns /n/old is gone']]) });
    assert.deepEqual(verdicts(again), ['leaked old host-local 10.0.0.9 (/d/podnet)']);
  });
});
