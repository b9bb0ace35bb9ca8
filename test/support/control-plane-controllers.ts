/**
 * The two controllers a cluster with real nodes needs beside the apiserver: the
 * scheduler (a verbatim pod has no nodeName) and the controller-manager (the `default`
 * ServiceAccount, the `kube-root-ca.crt` ConfigMap for projected tokens, the DaemonSet
 * controller, pod garbage collection). Both as the admin identity, no leader election, no
 * serving port.
 */
import { join } from 'node:path';
import { spawnLogged, type Spawned } from './control-plane-process.ts';
import type { ControlPlane } from './control-plane.ts';

export function startControllers(cp: ControlPlane, binDir: string, logDir: string): Spawned[] {
  const common = [`--kubeconfig=${cp.adminKubeconfig}`, '--leader-elect=false', '--secure-port=0'];
  const scheduler = spawnLogged(
    'kube-scheduler',
    join(binDir, 'kube-scheduler'),
    common,
    join(logDir, 'kube-scheduler.log'),
  );
  const controllerManager = spawnLogged(
    'kube-controller-manager',
    join(binDir, 'kube-controller-manager'),
    [
      ...common,
      `--service-account-private-key-file=${cp.pki.serviceAccountKey}`,
      `--root-ca-file=${cp.pki.caCert}`,
      '--use-service-account-credentials=false',
      // Quick reaction for tests: a deleted node's pods, a DaemonSet's rollout.
      '--concurrent-daemonset-syncs=2',
    ],
    join(logDir, 'kube-controller-manager.log'),
  );
  return [scheduler, controllerManager];
}
