import { DAEMON_USAGE } from './daemon-command.ts';
import { WEBHOOK_USAGE } from './webhook-command.ts';

/** Each command's usage, printed for `multinet COMMAND --help` and after a wrong invocation. */
export const COMMAND_USAGE: Record<string, string> = {
  cni: `usage: multinet cni    (or any invocation with CNI_COMMAND set)

Runs as the CNI plugin (thin mode): the CNI environment and the network config on stdin, the
result on stdout, as the CNI spec says. Installed by "multinet install --type thin".
`,
  daemon: `${DAEMON_USAGE}
Runs the node daemon (thick mode), serving the shim on its unix socket (docs/daemon.md).
  -c, --config FILE        the daemon's JSON config file (docs/configuration.md)
`,
  webhook: WEBHOOK_USAGE,
  validate: `usage: multinet validate [--config FILE] FILE...

Checks NetworkAttachmentDefinition, Network and Pod (or workload) manifests offline, with the
parsers the node uses. A directory stands for its *.yaml, *.yml and *.json files. One line per
problem; "warning:" lines do not change the exit code. Exit code 1 when a problem was found.
  --config FILE            multinet's config (daemon config, thin conflist or plugin object):
                           also report what its tenantPolicy would refuse (docs/security.md)
`,
  explain: `usage: multinet explain --pod POD.yaml --nads FILE|DIR... [--default-network FILE|NAD] [--ifname NAME] [--config FILE] [--pod-resources SOCKET] [-o json]
       multinet explain NAMESPACE/POD [--kubeconfig FILE] [--default-network FILE|NAD] [--ifname NAME] [--config FILE] [--pod-resources SOCKET] [-o json]

Prints the attachment plan for a pod and the config each delegate would receive, without
running anything: for a Pod manifest against NAD manifests, or for a pod in the API server
against the NetworkAttachmentDefinitions there now (the plan ADD would run now).
  NAMESPACE/POD            a pod in the API server (also as --pod NAMESPACE/POD; a path that exists is a file)
  --pod FILE               the Pod manifest
  --nads PATH              manifests of the NetworkAttachmentDefinitions / Networks (repeatable; manifests only)
  --kubeconfig FILE        the API server for NAMESPACE/POD (default: $KUBECONFIG)
  --default-network REF    a CNI config file or a NAD (namespace/name) for eth0
  --ifname NAME            the runtime's interface name (default eth0)
  --config FILE            multinet's config: mark what its tenantPolicy would refuse (exit code 1)
  --pod-resources SOCKET   the kubelet's PodResources socket on the pod's node, for device-plugin devices
                           (/var/lib/kubelet/pod-resources/kubelet.sock); DRA claims are read without it
  -o json                  JSON output
`,
  install: `usage: multinet install --type thick|thin --bin-dir DIR [options]
       multinet install --kubectl-plugin DIR [--source FILE]

Installs the shim (thick) or the plugin (thin) into the CNI bin dir atomically. An install
completes or changes nothing.
  --type thick|thin        what to install
  --bin-dir DIR            the runtime's CNI bin dir (e.g. /opt/cni/bin)
  --source FILE            the executable to install (default: the build in dist/)
  --cni-conf-dir DIR       thin: where multinet.d/ (kubeconfig, token, CA) is written
  --host-cni-conf-dir DIR  thin, in a pod: the host path of --cni-conf-dir
  --kubeconfig FILE        thin, on a host: the credentials the plugin uses (copied into multinet.d/)
  --cluster-network FILE   thin: also write 00-multinet.conflist with this CNI config as eth0
  --conf FILE              thin: install this multinet conflist (e.g. with a tenantPolicy) instead
  --watch                  thin, in a pod: keep the ServiceAccount token fresh
  --kubectl-plugin DIR     install kubectl-multinet into DIR (on PATH): kubectl multinet status|explain|validate
`,
  demo: `usage: multinet demo [--keep] [--state DIR] [-o json] | multinet demo down [--state DIR]

Two pods with several networks on this machine (root), then removes everything.
  --keep                   leave the scene up ("multinet demo down" removes it)
  --state DIR              where the scene's state is kept (default /run/multinet-demo)
  -o json                  a JSON report
`,
  gc: `usage: multinet gc --config FILE [--dry-run] [--kubeconfig FILE] [--runtime-cache-dir DIR] [-o json]

On this node (root): compares multinet's plans, result caches and the host-local reservations of
the networks it knows with the sandboxes that exist, and prints one line per attachment that
looks LEAKED (with what is left and why) or that it cannot judge (UNKNOWN, never released).
Without --dry-run it releases what is leaked through the delegates' own DEL and CNI GC, then
checks again (docs/troubleshooting.md "Leaks").
  --config FILE            the node's multinet config: the daemon's config file or the thin conflist
  --dry-run                report only; change nothing
  --kubeconfig FILE        also ask this API server whether each pod still exists (default: the
                           config's kubeconfig, or the in-cluster ServiceAccount)
  --runtime-cache-dir DIR  the runtime's libcni cache (default /var/lib/cni: results/ under it)
  -o json                  JSON output
exit code: 0 nothing leaked (or all released), 3 leaks found with --dry-run, 1 an error or a leak left
`,
  status: `usage: multinet status [NAMESPACE/POD] [--kubeconfig FILE | --local DIR] [-o json]

Lists each pod's attachments from its network-status, and the requested networks that have none.
READY is the pod's NetworksReady condition; CHECK says FAILING for an attachment whose periodic
CHECK fails (the daemon's checkIntervalSeconds; docs/readiness.md).
  --kubeconfig FILE        the API server (default: $KUBECONFIG)
  --local DIR              a local-mode manifest directory instead of an API server
  -o json                  JSON output
`,
};

/** `--help` or `-h` anywhere among a command's arguments. */
export function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
