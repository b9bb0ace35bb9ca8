/**
 * The README's cluster demo, run as a user runs it: `bash scripts/demo.sh --cluster` from the
 * repository (it prepares what is missing, builds, brings up the two-node cluster, runs the 2018
 * scenario with kubectl and tears everything down). Checks what it prints and that nothing of the
 * cluster is left afterwards.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readClusterState } from '../support/cluster-state.ts';
import { clusterLeftovers } from '../support/cluster-sweep.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { missingClusterPrerequisite } from './cluster-prerequisites.ts';

const missing = await missingClusterPrerequisite();

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(REPO_ROOT, 'scripts/demo.sh'), '--cluster'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), 420_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bash scripts/demo.sh --cluster', { skip: missing, timeout: 480_000 }, () => {
  it('runs the 2018 scenario on the real cluster, shows both interfaces, and leaves nothing', async () => {
    const { code, stdout, stderr } = await runDemo();
    assert.equal(code, 0, `demo exited ${code}\n${stdout}\n${stderr}`);
    // kubectl get pods -o wide: bothpod Running on one of the two nodes.
    assert.match(stdout, /^bothpod\s+1\/1\s+Running\s+\d+\s+\S+\s+10\.\d+\.\d+\.\d+\s+node[12]\b/m, stdout);
    // kubectl exec bothpod -- ip a: net1 from the Network's range 192.168.1.200-216.
    const net1 = /\d+: net1@\S+:[\s\S]*?inet (192\.168\.1\.(\d+))\/24/.exec(stdout);
    assert.ok(net1, `no net1 with an IPv4 address in:\n${stdout}`);
    assert.ok(Number(net1[2]) >= 200 && Number(net1[2]) <= 216, `net1 ${net1[1]} outside 200-216`);
    assert.match(stdout, /\d+: eth0@\S+:[\s\S]*?inet 10\.\d+\.\d+\.\d+\//);
    // network-status, pretty-printed: the default network and macvlan-conf on net1.
    const json = stdout.slice(stdout.indexOf('[', stdout.indexOf('== network-status')));
    const status = JSON.parse(json.slice(0, json.indexOf('\n]') + 2)) as {
      name: string;
      interface?: string;
      default?: boolean;
    }[];
    assert.deepEqual(
      status.map((s) => [s.interface, s.default === true]),
      [
        ['eth0', true],
        ['net1', false],
      ],
    );
    assert.equal(status[1]!.name, 'default/macvlan-conf');
    assert.match(stdout, /== done in [\d.]+ s/);
    assert.deepEqual(await clusterLeftovers(), [], 'the demo removed its cluster');
    assert.equal(readClusterState(), undefined, 'no cluster state file is left');
  });
});
