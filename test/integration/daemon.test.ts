/**
 * The real daemon process in a test node namespace, no API server (default network from the
 * conf dir; no pod identity lookups), driven through the real bundled shim with the reference
 * plugins into real pod namespaces.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { addressesOf, allocations, linkIn, NetnsTopology } from '../support/netns.ts';
import {
  bridgeConf,
  buildShim,
  daemonDirs,
  installSlowBridge,
  slowBridgeStarted,
  podArgs,
  scrape,
  shimCall,
  startDaemon,
  waitFor,
} from './daemon-harness.ts';

describe('multinet daemon + shim (real plugins, no API server)', { timeout: 120_000 }, () => {
  it('ADD and DEL through the shim; socket 0600 in a 0700 dir; metrics', async (t) => {
    buildShim();
    const topo = await NetnsTopology.create(t);
    const setup = await daemonDirs(topo);
    await writeFile(
      join(setup.confDir, '10-podnet.conflist'),
      JSON.stringify(bridgeConf(topo, { subnet: '10.61.0.0/24', bridge: 'mnd0' })),
    );
    const daemon = await startDaemon(t, topo, setup, {});
    const shimConf = JSON.parse(
      await readFile(join(setup.confDir, '00-multinet.conflist'), 'utf8'),
    ) as Record<string, unknown>;

    assert.equal((await stat(setup.socketPath)).mode & 0o777, 0o600);
    assert.equal((await stat(dirname(setup.socketPath))).mode & 0o777, 0o700);

    const pod = await topo.addPod();
    const add = await shimCall(topo, shimConf, {
      command: 'ADD',
      containerId: 'ctr1',
      netns: pod.path,
      ifName: 'eth0',
      args: podArgs('p1'),
    });
    assert.equal(add.exitCode, 0, `${add.stdout}\n${daemon.describe()}`);
    const result = add.json as { cniVersion: string; ips: { address: string }[] };
    assert.equal(result.cniVersion, '1.0.0');
    assert.match(result.ips[0]!.address, /^10\.61\.0\.\d+\/24$/);
    assert.deepEqual(await addressesOf(pod.name, 'eth0'), [result.ips[0]!.address]);

    const check = await shimCall(topo, shimConf, {
      command: 'CHECK',
      containerId: 'ctr1',
      netns: pod.path,
      ifName: 'eth0',
      args: podArgs('p1'),
    });
    assert.equal(check.exitCode, 0, check.stdout);

    const del = await shimCall(topo, shimConf, {
      command: 'DEL',
      containerId: 'ctr1',
      netns: pod.path,
      ifName: 'eth0',
      args: podArgs('p1'),
    });
    assert.equal(del.exitCode, 0, del.stdout);
    assert.equal(await linkIn(pod.name, 'eth0'), undefined);
    assert.deepEqual(await allocations(topo.dataDir, 'podnet'), []);

    const done = daemon.logs.find((l) => l.msg === 'CNI request done' && l['command'] === 'ADD');
    assert.equal(done?.['containerId'], 'ctr1');
    assert.equal(done?.['pod'], 'default/p1');

    const port = await daemon.metricsPort();
    const metrics = scrape(topo, port);
    assert.match(metrics, /multinet_cni_requests_total\{command="ADD",outcome="success"\} 1/);
    assert.match(metrics, /multinet_cni_requests_total\{command="DEL",outcome="success"\} 1/);
    assert.match(
      metrics,
      /multinet_delegate_duration_seconds_count\{plugin="bridge\+portmap",command="ADD",outcome="success"\} 1/,
    );
    assert.match(scrape(topo, port, '/readyz'), /"ready":true/);
    assert.equal(await daemon.stop(), 0);
  });

  it('daemon down: the shim answers ADD with 11 naming the socket; DEL retries, then reports the error', async (t) => {
    buildShim();
    const topo = await NetnsTopology.create(t);
    const socketPath = join(topo.tmpDir, 'nobody', 'multinet.sock');
    const conf = {
      cniVersion: '1.0.0',
      name: 'm',
      plugins: [{ type: 'multinet-shim', socketPath, shimDelDeadlineSeconds: 1 }],
    };
    const pod = await topo.addPod();
    const add = await shimCall(topo, conf, {
      command: 'ADD',
      containerId: 'c',
      netns: pod.path,
      args: podArgs('p'),
    });
    assert.equal(add.exitCode, 1);
    assert.equal(add.json?.['code'], 11);
    assert.ok(String(add.json?.['msg']).includes(socketPath));

    const t0 = Date.now();
    const del = await shimCall(topo, conf, {
      command: 'DEL',
      containerId: 'c',
      netns: pod.path,
      args: podArgs('p'),
    });
    const took = Date.now() - t0;
    assert.equal(del.exitCode, 1, 'never a silent success');
    assert.equal(del.json?.['code'], 11);
    assert.ok(took >= 900, `DEL gave up after ${took} ms, before its deadline`);

    const version = await shimCall(topo, conf, { command: 'VERSION' });
    assert.equal(version.exitCode, 0);
    assert.ok(Array.isArray(version.json?.['supportedVersions']));
  });

  it('saturated: a second ADD gets 11 at once; SIGTERM lets the in-flight ADD finish', async (t) => {
    buildShim();
    const topo = await NetnsTopology.create(t);
    const setup = await daemonDirs(topo);
    await installSlowBridge(setup, 1.5);
    await writeFile(
      join(setup.confDir, '10-podnet.conflist'),
      JSON.stringify(bridgeConf(topo, { subnet: '10.62.0.0/24', bridge: 'mnd1', type: 'slowbridge' })),
    );
    const daemon = await startDaemon(t, topo, setup, {
      maxConcurrentRequests: 1,
      // No queue: this test is about the immediate refusal when saturated.
      maxQueuedRequests: 0,
      shutdownTimeoutSeconds: 15,
    });
    const shimConf = JSON.parse(
      await readFile(join(setup.confDir, '00-multinet.conflist'), 'utf8'),
    ) as Record<string, unknown>;
    const [p1, p2] = [await topo.addPod(), await topo.addPod()];

    const slow = shimCall(topo, shimConf, {
      command: 'ADD',
      containerId: 'c1',
      netns: p1.path,
      args: podArgs('p1'),
    });
    // The slow plugin has started (it sleeps 1.5 s): the only slot is taken.
    await slowBridgeStarted(setup);
    const t0 = Date.now();
    const busy = await shimCall(topo, shimConf, {
      command: 'ADD',
      containerId: 'c2',
      netns: p2.path,
      args: podArgs('p2'),
    });
    assert.equal(busy.exitCode, 1);
    assert.equal(busy.json?.['code'], 11, busy.stdout);
    assert.match(String(busy.json?.['details']), /maxConcurrentRequests/);
    assert.ok(Date.now() - t0 < 1000, 'answered at once, not queued');

    // SIGTERM while the first ADD is still running: it completes, the daemon then exits 0.
    daemon.proc.kill('SIGTERM');
    const first = await slow;
    assert.equal(first.exitCode, 0, `${first.stdout}\n${daemon.describe()}`);
    assert.equal(await daemon.exited, 0);
    assert.ok(await linkIn(p1.name, 'eth0'));

    // The generated config stays; without a daemon the shim answers 11.
    assert.ok(await readFile(join(setup.confDir, '00-multinet.conflist'), 'utf8'));
    const down = await shimCall(topo, shimConf, {
      command: 'ADD',
      containerId: 'c2',
      netns: p2.path,
      args: podArgs('p2'),
    });
    assert.equal(down.json?.['code'], 11);

    // A new daemon serves DEL from the plan cache the first one wrote.
    await startDaemon(t, topo, setup, {});
    const del = await shimCall(topo, shimConf, {
      command: 'DEL',
      containerId: 'c1',
      netns: p1.path,
      args: podArgs('p1'),
    });
    assert.equal(del.exitCode, 0, del.stdout);
    assert.equal(await linkIn(p1.name, 'eth0'), undefined);
    assert.deepEqual(await allocations(topo.dataDir, 'podnet'), []);
  });

  it('restart under load: ADDs get 11 while the daemon is down, all succeed, DEL leaves nothing', async (t) => {
    buildShim();
    const topo = await NetnsTopology.create(t);
    const setup = await daemonDirs(topo);
    await writeFile(
      join(setup.confDir, '10-podnet.conflist'),
      JSON.stringify(bridgeConf(topo, { subnet: '10.66.0.0/24', bridge: 'mnd3' })),
    );
    const first = await startDaemon(t, topo, setup, {});
    const shimConf = JSON.parse(
      await readFile(join(setup.confDir, '00-multinet.conflist'), 'utf8'),
    ) as Record<string, unknown>;
    const pods = await Promise.all(Array.from({ length: 12 }, () => topo.addPod()));
    const call = (command: 'ADD' | 'DEL', i: number) =>
      shimCall(topo, shimConf, {
        command,
        containerId: `r${i}`,
        netns: pods[i]!.path,
        args: podArgs(`r${i}`),
      });
    let [added, retried] = [0, 0];
    const adds = Promise.all(
      pods.map(async (_, i) => {
        await sleep(i * 80); // arrivals spread over ~1 s: the restart falls among them
        for (;;) {
          const r = await call('ADD', i);
          if (r.exitCode === 0) return void added++;
          assert.equal(r.json?.['code'], 11, r.stdout);
          retried++;
          await sleep(150); // the runtime's retry pause
        }
      }),
    );
    await waitFor('a first ADD through the first daemon', () => added > 0);
    assert.equal(await first.stop(), 0);
    await waitFor('an ADD that met the daemon down', () => retried > 0);
    await startDaemon(t, topo, setup, {});
    await adds;
    assert.ok(retried > 0, 'some ADDs met the daemon down');
    const addresses = await Promise.all(pods.map(async (p) => (await addressesOf(p.name, 'eth0'))[0]));
    assert.equal(new Set(addresses).size, pods.length, `distinct addresses: ${addresses.join(' ')}`);
    for (let i = 0; i < pods.length; i++) assert.equal((await call('DEL', i)).exitCode, 0);
    assert.deepEqual(await allocations(topo.dataDir, 'podnet'), []);
  });

  it('refuses a socket directory others can write to, and a second daemon on a live socket', async (t) => {
    const topo = await NetnsTopology.create(t);
    const setup = await daemonDirs(topo);
    await writeFile(
      join(setup.confDir, '10-podnet.conflist'),
      JSON.stringify(bridgeConf(topo, { subnet: '10.63.0.0/24', bridge: 'mnd2' })),
    );
    await mkdir(dirname(setup.socketPath), { recursive: true });
    await chmod(dirname(setup.socketPath), 0o777);
    const bad = await startDaemon(t, topo, setup, {}, { waitReady: false });
    assert.equal(await bad.exited, 1);
    assert.match(bad.describe(), /writable by group or others/);

    await chmod(dirname(setup.socketPath), 0o700);
    const first = await startDaemon(t, topo, setup, {});
    const second = await startDaemon(t, topo, setup, {}, { waitReady: false });
    assert.equal(await second.exited, 1);
    assert.match(second.describe(), /another daemon is listening/);
    assert.equal(await first.stop(), 0);
  });
});
