// Why this machine cannot run the cluster tests, or undefined.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { missingRuntimePrerequisite } from '../support/containerd.ts';
import { REPO_ROOT } from '../support/control-plane.ts';

const TOOLS = ['kubelet', 'kube-scheduler', 'kube-controller-manager', 'kubectl', 'kube-apiserver', 'etcd'];

export async function missingClusterPrerequisite(): Promise<string | undefined> {
  const runtime = await missingRuntimePrerequisite();
  if (runtime) return runtime;
  const tool = TOOLS.map((t) => join(REPO_ROOT, 'tools/bin', t)).find((p) => !existsSync(p));
  if (tool) return `${tool} missing: run tools/build.sh`;
  if (!existsSync('/bin/busybox')) return 'busybox-static not installed (scripts/setup.sh installs it)';
  return undefined;
}
