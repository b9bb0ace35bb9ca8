/**
 * The real daemon under a burst of concurrent ADDs (real shim, real bridge plugin, real pod
 * namespaces): Node must not warn about an accumulating listener. One abort signal shared by all
 * requests used to collect a listener per running delegate and per queued request, so every
 * burst printed "MaxListenersExceededWarning: Possible EventTarget memory leak detected".
 */
import assert from 'node:assert/strict';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../support/control-plane.ts';
import { allocations, NetnsTopology, PLUGIN_DIR } from '../support/netns.ts';
import {
  bridgeConf,
  buildShim,
  daemonDirs,
  podArgs,
  shimCall,
  startDaemon,
  waitFor,
} from './daemon-harness.ts';

/** Above Node's default of 10 listeners per event target. */
const BURST = 14;

describe('multinet daemon under a burst of concurrent ADDs', { timeout: 120_000 }, () => {
  it('holds 14 delegates in flight at once without a MaxListenersExceededWarning', async (t) => {
    buildShim();
    const topo = await NetnsTopology.create(t);
    const setup = await daemonDirs(topo);
    // A bridge that, on ADD, says it started and waits for the gate: every ADD is provably in
    // its delegate at the same moment, without relying on timing.
    const marks = join(setup.dir, 'marks');
    await writeFile(
      join(setup.binDir, 'gatedbridge'),
      `#!/bin/sh\nif [ "$CNI_COMMAND" = ADD ]; then\n  mkdir -p ${marks} && : > ${marks}/$CNI_CONTAINERID\n` +
        `  while [ ! -e ${setup.dir}/gate ]; do sleep 0.05; done\nfi\nexec ${PLUGIN_DIR}/bridge\n`,
    );
    await chmod(join(setup.binDir, 'gatedbridge'), 0o755);
    await writeFile(
      join(setup.confDir, '10-podnet.conflist'),
      JSON.stringify(bridgeConf(topo, { subnet: '10.63.0.0/24', bridge: 'mnl0', type: 'gatedbridge' })),
    );
    const daemon = await startDaemon(
      t,
      topo,
      setup,
      { maxConcurrentRequests: BURST, maxConcurrentRequestsPerNamespace: BURST },
      {
        command: [
          process.execPath,
          '--trace-warnings',
          '--import',
          'tsx',
          join(REPO_ROOT, 'src/bin/multinet.ts'),
        ],
      },
    );
    const shimConf = JSON.parse(
      await readFile(join(setup.confDir, '00-multinet.conflist'), 'utf8'),
    ) as Record<string, unknown>;
    const pods = await Promise.all(Array.from({ length: BURST }, () => topo.addPod()));

    const adds = pods.map((pod, i) =>
      shimCall(topo, shimConf, {
        command: 'ADD',
        containerId: `burst${i}`,
        netns: pod.path,
        args: podArgs(`p${i}`),
      }),
    );
    const started = async () => (await readdir(marks).catch(() => [])).length;
    await waitFor(`${BURST} delegates running at once`, async () => (await started()) === BURST, 60_000);
    await writeFile(join(setup.dir, 'gate'), '');
    for (const add of await Promise.all(adds))
      assert.equal(add.exitCode, 0, `${add.stdout}\n${daemon.describe()}`);

    const dels = await Promise.all(
      pods.map((pod, i) =>
        shimCall(topo, shimConf, {
          command: 'DEL',
          containerId: `burst${i}`,
          netns: pod.path,
          args: podArgs(`p${i}`),
        }),
      ),
    );
    for (const del of dels) assert.equal(del.exitCode, 0, del.stdout);
    assert.deepEqual(await allocations(topo.dataDir, 'podnet'), []);
    assert.doesNotMatch(daemon.stderr, /MaxListenersExceededWarning|memory leak/, daemon.stderr);

    // Where the time went, per request (debug level): the gated delegate shows in each ADD's stages.
    const stages = daemon.logs.filter((l) => l.msg === 'CNI request stages' && l['command'] === 'ADD');
    assert.equal(stages.length, BURST);
    for (const l of stages) {
      const ms = l['ms'] as Record<string, number>;
      assert.ok(ms['delegates']! > 0 && ms['planWrite']! > 0 && ms['resultCache']! > 0, JSON.stringify(l));
      assert.ok((l['delegateMs'] as unknown[]).includes('gatedbridge'), JSON.stringify(l));
    }
  });
});
