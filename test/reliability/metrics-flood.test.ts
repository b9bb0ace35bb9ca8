/**
 * Any local user can connect to the daemon's metrics port (127.0.0.1): idle connections held open
 * by the thousand must not stall CNI service (issue 10 #9; 24,000 of them made pods wait). The
 * real daemon runs with a small descriptor limit (ulimit -n 256, so that the test needs a few
 * hundred connections, not tens of thousands) while a flooder keeps 400 idle connections to its
 * metrics port, reconnecting whenever one is closed. A pod's ADD and DEL over the socket must
 * complete normally meanwhile, and the daemon's descriptors stay near its connection limit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe } from 'node:test';
import { waitFor } from '../integration/daemon-harness.ts';
import { record, recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, FaultScene, leakList, NOTHING, podArgs } from '../support/fault-scene.ts';

const FLOOD = 400;
const FD_LIMIT = 256;
/** The shipped metricsMaxConnections. */
const METRICS_MAX_CONNECTIONS = 32;

/** Opens `n` idle connections to the port and reopens each one the server closes; prints counts. */
const FLOODER = `
const net = require('node:net');
const [port, n] = process.argv.slice(1).map(Number);
let connects = 0, closes = 0;
const one = () => {
  const s = net.connect(port, '127.0.0.1');
  s.on('connect', () => connects++);
  s.on('error', () => {});
  s.on('close', () => { closes++; setTimeout(one, 20).unref(); });
};
for (let i = 0; i < n; i++) one();
const report = setInterval(() => process.stdout.write(JSON.stringify({ connects, closes }) + '\\n'), 100);
process.stdin.on('data', () => {}).on('end', () => { clearInterval(report); process.exit(0); });
`;

describe('a flood of idle metrics connections does not stall CNI (real daemon)', { timeout: 120_000 }, () => {
  scenario('400 idle connections to the metrics port: ADD and DEL still complete', async (t) => {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.171.0.0/24', 'mnq171'),
      bridges: ['mnq171'],
      mountSetup: `ulimit -n ${FD_LIMIT}`,
    }));
    const daemon = await s.start();
    const port = await daemon.metricsPort();
    const idleFds = s.fdCount();

    const flooder = spawn(
      'nsenter',
      [`--net=${s.topo.nodePath}`, '--', process.execPath, '-e', FLOODER, String(port), String(FLOOD)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => flooder.on('exit', r));
    t.after(async () => {
      flooder.stdin.end();
      flooder.kill('SIGKILL');
      await exited;
    });
    let counts = { connects: 0, closes: 0 };
    flooder.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const last = chunk.trim().split('\n').pop();
      if (last) counts = JSON.parse(last) as typeof counts;
    });
    // The kernel completes every connection (the listen backlog); the daemon accepts what it can.
    await waitFor('the flood is up', () => counts.connects >= FLOOD, 30_000);

    const pod = await s.topo.addPod();
    const add = await s.call('ADD', 'mf1', pod, podArgs('mf1'));
    const floodFds = s.fdCount();
    assert.equal(add.exitCode, 0, `ADD during the flood: ${add.stdout}`);
    assert.deepEqual(await s.podLinks(pod), ['eth0']);
    assert.equal((await s.call('DEL', 'mf1', pod, podArgs('mf1'))).exitCode, 0);
    assert.ok(daemon.exitCode === undefined, 'the daemon is still running');
    record({
      kind: 'note',
      scenario: 'metrics flood',
      text: JSON.stringify({ flood: FLOOD, fdLimit: FD_LIMIT, idleFds, floodFds, ...counts }),
    });
    console.log(`metrics flood: ${JSON.stringify({ idleFds, floodFds, ...counts })}`);
    assert.ok(
      floodFds <= idleFds + METRICS_MAX_CONNECTIONS + 16,
      `daemon descriptors ${floodFds} during the flood (idle ${idleFds})`,
    );
    flooder.stdin.end();
    await exited;
    const left = await s.leftovers([pod]);
    assert.deepEqual(recordLeaks('metrics flood: after DEL', leakList(left)), [], JSON.stringify(left));
    assert.deepEqual(left, NOTHING);
  });
});
