/**
 * CNI STATUS (spec 1.1 §2.4) through the CNI call itself, as containerd 2.x makes it: the bundled
 * shim exec'd with CNI_COMMAND=STATUS, against no daemon (the shim answers 50 itself) and against
 * the real daemon (its aggregate: the default network's STATUS; a delegate older than 1.1.0 has
 * no STATUS and counts as available, as in libcni).
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NetnsTopology } from '../support/netns.ts';
import type { CniOutcome } from '../support/cni-runtime.ts';
import { bridgeConf, buildShim, daemonDirs, shimCall, startDaemon, waitFor } from './daemon-harness.ts';

/** The one STATUS answer a runtime reads: exit 0 and nothing on stdout, or a CNI error object. */
function statusError(out: CniOutcome): { code: number; msg: string; details: string } | undefined {
  if (out.exitCode === 0) {
    assert.equal(out.stdout.trim(), '', 'a successful STATUS prints nothing');
    return undefined;
  }
  assert.ok(out.json, `not a CNI error object: ${out.stdout}`);
  return {
    code: Number(out.json['code']),
    msg: String(out.json['msg']),
    details: String(out.json['details']),
  };
}

/**
 * FAKE 1.1.0 delegate: none of the reference plugins installed here speaks 1.1.0 (they stop at
 * 1.0.0), so no real plugin can answer STATUS. It fails STATUS with 50 while `down` exists.
 */
const FAKE_STATUS_PLUGIN = (down: string) => `#!/bin/sh
case "$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}' ;;
STATUS) if [ -e ${down} ]; then echo '{"cniVersion":"1.1.0","code":50,"msg":"fake uplink down"}'; exit 1; fi ;;
*) echo '{"cniVersion":"1.1.0","code":4,"msg":"fake plugin: STATUS only"}'; exit 1 ;;
esac
`;

describe('CNI STATUS through the shim', { timeout: 120_000 }, () => {
  it('no daemon: the shim answers 50 "plugin not available" itself, naming the socket', async (t) => {
    buildShim();
    const topo = await NetnsTopology.create(t);
    const socketPath = join(topo.tmpDir, 'no-daemon', 'multinet.sock');
    const conf = {
      cniVersion: '1.1.0',
      name: 'multinet',
      plugins: [{ type: 'multinet-shim', socketPath }],
    };
    const out = await shimCall(topo, conf, { command: 'STATUS' });
    assert.notEqual(out.exitCode, 0, out.stdout);
    const err = statusError(out);
    assert.equal(err?.code, 50, out.stdout);
    assert.equal(err?.msg, 'plugin not available');
    assert.ok(err?.details.includes(socketPath), err?.details);
    assert.equal(out.json?.['cniVersion'], '1.1.0');
  });

  it('a running daemon: its aggregate, the default network’s STATUS', async (t) => {
    buildShim();
    const topo = await NetnsTopology.create(t);
    const setup = await daemonDirs(topo);
    const daemon = await startDaemon(t, topo, setup, {});
    // The shim's conf as the daemon installs it (it does so only once a default network exists).
    const conf = {
      cniVersion: '1.1.0',
      name: 'multinet',
      plugins: [{ type: 'multinet-shim', socketPath: setup.socketPath }],
    };
    const status = async () => statusError(await shimCall(topo, conf, { command: 'STATUS' }));

    // No default network yet: ADD cannot be served, so STATUS says 50.
    const none = await status();
    assert.equal(none?.code, 50, daemon.describe());
    assert.match(none?.msg ?? '', /default network not ready/);

    // A 1.0.0 bridge default network: the delegate has no STATUS and counts as available.
    const podnet = join(setup.confDir, '10-podnet.conflist');
    await writeFile(podnet, JSON.stringify(bridgeConf(topo, { subnet: '10.66.0.0/24', bridge: 'mns0' })));
    await waitFor('STATUS to succeed with the bridge default network', async () => !(await status()));

    // A 1.1.0 default network whose plugin fails STATUS: the daemon passes its error on.
    const down = join(topo.tmpDir, 'fake-down');
    await writeFile(join(setup.binDir, 'fake-status'), FAKE_STATUS_PLUGIN(down), { mode: 0o755 });
    await writeFile(down, '');
    await rm(podnet);
    await writeFile(
      join(setup.confDir, '10-fakenet.conflist'),
      JSON.stringify({ cniVersion: '1.1.0', name: 'fakenet', plugins: [{ type: 'fake-status' }] }),
    );
    let failed: Awaited<ReturnType<typeof status>>;
    await waitFor(
      'STATUS to report the failing delegate',
      async () =>
        (failed = await status()) !== undefined &&
        failed.code === 50 &&
        /fakenet/.test(failed.details + failed.msg),
    );
    assert.match(`${failed!.msg} ${failed!.details}`, /fake uplink down/);
    await rm(down);
    await waitFor('STATUS to succeed once the delegate is up', async () => !(await status()));
  });
});
