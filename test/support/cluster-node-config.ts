/**
 * The files one cluster node runs from: containerd's config (the settings docs/cluster.md, "What it
 * is", explains), the kubelet's KubeletConfiguration and kubeconfig, the node's
 * certificates (client `system:node:NAME` in `system:nodes` so the Node authorizer and
 * NodeRestriction apply; serving with the node IP as SAN), and the cluster network's primary
 * CNI config (bridge + host-local on the node's pod CIDR, routes to every node's pod CIDR).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { issue, LEAF_EXTENSIONS, type Pki } from './control-plane-pki.ts';
import { POD_SUPERNET, type NodeNetwork } from './cluster-topology.ts';
import { SANDBOX_IMAGE } from './sandbox-image.ts';

/** Paths as the node's processes see them (inside its mount namespace). */
export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';
export const PRIMARY_CONF = '10-cluster.conflist';

export function containerdConfig(root: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const unused = ['btrfs', 'zfs', 'devmapper', 'aufs'].map((s) => `"io.containerd.snapshotter.v1.${s}"`);
  return `version = 2
root = "${root}"
state = "/run/containerd"
disabled_plugins = [${[...unused, '"io.containerd.internal.v1.tracing"', '"io.containerd.tracing.processor.v1.otlp"'].join(', ')}]
[grpc]
  address = "${CONTAINERD_SOCKET}"
[debug]
  level = "debug"
[plugins."io.containerd.internal.v1.opt"]
  path = "${root}/opt"
[${cri}]
  sandbox_image = "${SANDBOX_IMAGE}"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails.
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  [${cri}.cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
    max_conf_num = 1
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
`;
}

export function primaryCniConfig(node: NodeNetwork): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'cluster',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: node.podCidr, gateway: node.podGateway }]],
            // The pod supernet explicitly: a secondary network's default route (the 2018 NAD
            // has one) then cannot pull pod-to-pod traffic off eth0.
            routes: [{ dst: '0.0.0.0/0' }, { dst: POD_SUPERNET }],
          },
        },
      ],
    },
    null,
    2,
  );
}

export interface NodeFiles {
  kubeletConfig: string;
  kubeconfig: string;
}

/** Writes the kubelet's certificates, kubeconfig and config into `dir` (host view). */
export async function writeKubeletFiles(
  dir: string,
  node: NodeNetwork,
  cp: { server: string; pki: Pki },
): Promise<NodeFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const client = `${LEAF_EXTENSIONS}extendedKeyUsage=clientAuth\n`;
  const serving = `${LEAF_EXTENSIONS}extendedKeyUsage=serverAuth\nsubjectAltName=IP:${node.nodeIp},DNS:${node.name}\n`;
  await Promise.all([
    issue(dir, 'kubelet-client', `/O=system:nodes/CN=system:node:${node.name}`, client, cp.pki),
    issue(dir, 'kubelet-serving', `/CN=${node.name}`, serving, cp.pki),
  ]);
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'cluster', cluster: { server: cp.server, 'certificate-authority': cp.pki.caCert } }],
      users: [
        {
          name: node.name,
          user: {
            'client-certificate': join(dir, 'kubelet-client.crt'),
            'client-key': join(dir, 'kubelet-client.key'),
          },
        },
      ],
      contexts: [{ name: 'cluster', context: { cluster: 'cluster', user: node.name } }],
      'current-context': 'cluster',
    }),
    { mode: 0o600 },
  );
  const resolvConf = join(dir, 'resolv.conf');
  // No cluster DNS: pods get a harmless MissingClusterDNS event and no DNS query leaves.
  await writeFile(resolvConf, 'nameserver 127.0.0.1\n');
  const kubeletConfig = join(dir, 'config.yaml');
  await writeFile(
    kubeletConfig,
    toYaml({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      // Kubernetes 1.37 refuses cgroup v1 unless told; this machine has v1 (hybrid).
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      // Two kubelets on one machine: each has its own cgroup subtree.
      cgroupRoot: `/mnc-${node.name}`,
      containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
      failSwapOn: false,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      tlsCertFile: join(dir, 'kubelet-serving.crt'),
      tlsPrivateKeyFile: join(dir, 'kubelet-serving.key'),
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: cp.pki.caCert },
      },
      authorization: { mode: 'Webhook' },
      resolvConf,
      // The images cannot be pulled again: never garbage-collect them, never evict for disk.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      maxPods: 30,
      serializeImagePulls: false,
    }),
  );
  return { kubeletConfig, kubeconfig };
}
