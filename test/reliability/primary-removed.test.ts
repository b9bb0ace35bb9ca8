/**
 * The primary network's config disappears while pods are starting (the primary's DaemonSet is
 * being upgraded or removed). The daemon's automatic configuration must notice; every ADD either
 * completes fully or answers code 11 with nothing attached, and all later ADDs answer 11 until
 * the config is back. The runtime's DELs then leave nothing.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CniOutcome } from '../support/cni-runtime.ts';
import { record, recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, FaultScene, leakList, NOTHING, simpleNet } from '../support/fault-scene.ts';

describe('the primary network config removed while pods start', { timeout: 120_000 }, () => {
  scenario('each ADD completes fully or answers 11 with nothing attached; DEL leaves nothing', async (t) => {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.96.0.0/24', 'mnp0'),
      networks: { 'n1.conf': simpleNet(topo, 'n1', 'macvlan', '10.96.1.0/24') },
      daemon: { defaultNetworks: ['n1'], rescanIntervalSeconds: 1 },
      bridges: ['mnp0'],
    }));
    await s.start();
    const primaryFile = join(s.setup.confDir, '10-primary.conflist');
    const pods = await Promise.all(Array.from({ length: 12 }, () => s.topo.addPod()));
    const outcomes: CniOutcome[] = [];
    let removed: Promise<void> | undefined;
    const adds = Promise.all(
      pods.map(async (pod, i) => {
        await sleep(i * 150);
        outcomes[i] = await s.call('ADD', `pr${i}`, pod);
        // The config goes away as soon as the first pod is up, while the others are starting.
        if (i === 0) removed = rm(primaryFile);
      }),
    );
    await adds;
    await removed;

    let ok = 0;
    for (const [i, out] of outcomes.entries()) {
      const links = (await s.podLinks(pods[i]!)).sort();
      if (out.exitCode === 0) {
        ok++;
        assert.deepEqual(links, ['eth0', 'net1'], `pod ${i} succeeded: fully attached`);
      } else {
        assert.equal(out.json?.['code'], 11, `pod ${i}: ${out.stdout}`);
        assert.match(String(out.json?.['details']), /no primary network config/);
        assert.deepEqual(links, [], `pod ${i} failed: nothing half-done`);
      }
    }
    assert.ok(ok > 0 && ok < pods.length, `both outcomes seen (${ok} of ${pods.length} attached)`);
    record({
      kind: 'note',
      scenario: 'primary removed',
      text: `${ok} of ${pods.length} ADDs completed before the removal was seen, the others answered 11`,
    });

    // Until the config is back, every ADD answers 11 and attaches nothing.
    const late = await s.topo.addPod();
    const refused = await s.call('ADD', 'late', late);
    assert.equal(refused.json?.['code'], 11, refused.stdout);
    assert.deepEqual(await s.podLinks(late), []);

    for (const [i, pod] of pods.entries()) {
      const del = await s.call('DEL', `pr${i}`, pod);
      assert.equal(del.exitCode, 0, `DEL ${i}: ${del.stdout}`);
    }
    assert.equal((await s.call('DEL', 'late', late)).exitCode, 0);
    const left = await s.leftovers([...pods, late]);
    assert.deepEqual(recordLeaks('primary removed: after DEL', leakList(left)), [], JSON.stringify(left));
    assert.deepEqual(left, NOTHING);

    // Back: pods start again.
    await writeFile(primaryFile, JSON.stringify(s.opts.primary));
    const end = Date.now() + 10_000;
    let again: CniOutcome;
    do {
      await sleep(200);
      again = await s.call('ADD', 'back', late);
    } while (again.exitCode !== 0 && Date.now() < end);
    assert.equal(again.exitCode, 0, again.stdout);
    assert.equal((await s.call('DEL', 'back', late)).exitCode, 0);
    const after = await s.leftovers([...pods, late]);
    assert.deepEqual(recordLeaks('primary back: after DEL', leakList(after)), []);
  });
});
