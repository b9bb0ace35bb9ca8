// npm run control-plane -- up|down|status
// Starts the tests' control plane (etcd + kube-apiserver from tools/bin) in the background for
// people: to try manifests, or to run multinet by hand against a real API server.
// State lives in .tmp/control-plane (or $MULTINET_CONTROL_PLANE_DIR). See docs/control-plane.md.
import { join } from 'node:path';
import {
  REPO_ROOT,
  commandOf,
  readControlPlaneState,
  startControlPlane,
  stopControlPlaneAt,
} from '../test/support/control-plane.ts';
import { KubeClient } from '../test/support/kube-client.ts';

const dir = process.env['MULTINET_CONTROL_PLANE_DIR'] ?? join(REPO_ROOT, '.tmp/control-plane');

async function running(): Promise<boolean> {
  const state = await readControlPlaneState(dir);
  if (!state) return false;
  if (
    !commandOf(state.pids.apiserver).includes('kube-apiserver') ||
    !commandOf(state.pids.etcd).includes('etcd')
  ) {
    return false;
  }
  const client = await KubeClient.fromKubeconfig(state.adminKubeconfig);
  try {
    await client.request('GET', '/readyz');
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

async function printInfo(): Promise<void> {
  const state = await readControlPlaneState(dir);
  if (!state) return;
  console.log(`server:               ${state.server}`);
  console.log(`admin kubeconfig:     ${state.adminKubeconfig}`);
  console.log(`multinet kubeconfig:  ${state.multinetKubeconfig}`);
  console.log(`pids:                 etcd ${state.pids.etcd}, kube-apiserver ${state.pids.apiserver}`);
  console.log(`logs, audit log:      ${dir}`);
}

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up': {
      if (await running()) {
        console.log('control plane already running');
        await printInfo();
        return 0;
      }
      await stopControlPlaneAt(dir); // leftovers of a crashed or half-stopped one
      const started = Date.now();
      const cp = await startControlPlane({ dir, persistent: true });
      cp.client.close();
      cp.multinetClient.close();
      console.log(`control plane up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await printInfo();
      console.log(`\ntry: KUBECONFIG=${cp.adminKubeconfig} tools/bin/kubectl get --raw /readyz  (if built)`);
      return 0;
    }
    case 'down': {
      const had = await stopControlPlaneAt(dir);
      console.log(had ? 'control plane stopped, state removed' : 'no control plane was running');
      return 0;
    }
    case 'status': {
      if (await running()) {
        console.log('control plane running');
        await printInfo();
        return 0;
      }
      console.log('control plane not running');
      return 1;
    }
    default:
      console.error('usage: npm run control-plane -- up|down|status');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
