// bash scripts/demo.sh --cluster [--keep]: the 2018 scenario on a real two-node cluster
// (test/support/cluster.ts; docs/cluster.md): kubelet, containerd, multinet's DaemonSet from the
// image built here, then `kubectl apply` of the 2018 Network and bothpod (image swapped for the
// toolbox), and what a user would look at. Torn down at the end unless --keep.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TOOLBOX_IMAGE } from '../test/support/cluster-images.ts';
import { installThick } from '../test/support/cluster-multinet.ts';
import { startCluster, type Cluster } from '../test/support/cluster.ts';
import { REPO_ROOT } from '../test/support/control-plane.ts';

const keep = process.argv.includes('--keep');
const POC = join(REPO_ROOT, 'test/fixtures/manifests/poc-2018');
const say = (line: string): void => console.log(`== ${line}`);

async function waitRunning(cluster: Cluster, pod: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await cluster.kubectl(['get', 'pod', pod, '-o', 'jsonpath={.status.phase}'])) !== 'Running') {
    if (Date.now() > deadline)
      throw new Error(`${pod} not Running after 120 s:\n${await cluster.kubectl(['describe', 'pod', pod])}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const cluster = await startCluster({ persistent: keep, onProgress: say });
  try {
    say(
      `cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s; installing multinet: kubectl apply -f deploy/ (thick DaemonSet)`,
    );
    await installThick(cluster);
    say('the 2018 scenario: kubectl apply -f macvlan-conf.yaml -f bothpod.yaml (image: the local toolbox)');
    const pod = (await readFile(join(POC, 'bothpod.yaml'), 'utf8')).replace(
      'image: dougbtv/nginx-toolbox',
      `image: ${TOOLBOX_IMAGE}`,
    );
    await cluster.kubectl(['apply', '-f', join(POC, 'macvlan-conf.yaml')]);
    await cluster.kubectl(['apply', '-f', '-'], { input: pod });
    await waitRunning(cluster, 'bothpod');
    say('kubectl get pods -o wide');
    console.log(await cluster.kubectl(['get', 'pods', '-o', 'wide']));
    say('kubectl exec bothpod -- ip a');
    console.log(await cluster.kubectl(['exec', 'bothpod', '--', 'ip', 'a']));
    say('network-status (annotation k8s.v1.cni.cncf.io/network-status)');
    const status = await cluster.kubectl([
      'get',
      'pod',
      'bothpod',
      '-o',
      'jsonpath={.metadata.annotations.k8s\\.v1\\.cni\\.cncf\\.io/network-status}',
    ]);
    console.log(JSON.stringify(JSON.parse(status), null, 2));
    if (keep) {
      say('left running (--keep). Explore with:');
      console.log(
        `export KUBECONFIG=${cluster.kubeconfig}\ntools/bin/kubectl get pods -A -o wide\ntools/bin/kubectl describe pod bothpod\nnpm run cluster -- down   # removes everything`,
      );
      cluster.controlPlane.client.close();
      cluster.controlPlane.multinetClient.close();
      return;
    }
  } catch (err) {
    if (keep) await cluster.stop();
    throw err;
  }
  say('tearing down');
  await cluster.stop();
  say(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
