// npm run cluster -- up|down|status
// A real two-node Kubernetes cluster on this machine (test/support/cluster.ts, docs/cluster.md):
// `up` starts it in the background and prints its KUBECONFIG, `down` removes everything it made
// (also what a killed run left behind), `status` says what runs.
import { isAlive } from '../test/support/control-plane-process.ts';
import { readClusterState } from '../test/support/cluster-state.ts';
import { clusterLeftovers } from '../test/support/cluster-sweep.ts';
import { startCluster, teardownCluster } from '../test/support/cluster.ts';
import { installThick } from '../test/support/cluster-multinet.ts';

function printInfo(): void {
  const s = readClusterState();
  if (!s) return;
  console.log(`server:      ${s.server ?? '(not up yet)'}`);
  console.log(`kubeconfig:  ${s.kubeconfig ?? '(not up yet)'}`);
  console.log(`nodes:       ${s.nodes.map((n) => `${n.name} (netns ${n.netns}, logs ${n.dir})`).join(', ')}`);
  console.log(`state:       /run/multinet-cluster.json, ${s.dir}`);
  if (s.kubeconfig)
    console.log(`\ntry: export KUBECONFIG=${s.kubeconfig}; tools/bin/kubectl get nodes -o wide`);
}

async function main(args: string[]): Promise<number> {
  switch (args[0]) {
    case 'up': {
      const started = Date.now();
      const cluster = await startCluster({ persistent: true, onProgress: (l) => console.log(`== ${l}`) });
      if (!args.includes('--no-multinet')) {
        console.log('== multinet: kubectl apply -f deploy/ (thick DaemonSet)');
        await installThick(cluster);
      }
      cluster.controlPlane.client.close();
      cluster.controlPlane.multinetClient.close();
      console.log(`cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      printInfo();
      return 0;
    }
    case 'down': {
      const owner = args.indexOf('--owner');
      const state = readClusterState();
      // The watchdog of a test run: only take down the cluster that run started.
      if (owner >= 0 && state && String(state.owner) !== args[owner + 1]) return 0;
      // A test run's cluster goes away with its run; taking it from under it breaks that run.
      if (owner < 0 && state && !state.persistent && isAlive(state.owner) && !args.includes('--force')) {
        console.error(
          `the cluster in ${state.dir} belongs to a running test (pid ${state.owner}) and goes away with it; \`down --force\` takes it anyway`,
        );
        return 1;
      }
      await teardownCluster(state);
      const left = await clusterLeftovers();
      if (left.length > 0) {
        console.error(`could not remove: ${left.join('; ')}`);
        return 1;
      }
      console.log(state ? 'cluster removed' : 'no cluster state; swept leftovers (none remain)');
      return 0;
    }
    case 'status': {
      const state = readClusterState();
      const left = await clusterLeftovers(state?.nodes.map((n) => n.holder) ?? []);
      if (!state) {
        console.log(
          left.length
            ? `no cluster, but leftovers: ${left.join('; ')} (npm run cluster -- down)`
            : 'no cluster',
        );
        return 1;
      }
      console.log(
        `cluster started ${state.startedAt} by pid ${state.owner}${state.persistent ? ' (persistent)' : ''}`,
      );
      printInfo();
      return 0;
    }
    default:
      console.error('usage: npm run cluster -- up [--no-multinet] | down [--force] | status');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
