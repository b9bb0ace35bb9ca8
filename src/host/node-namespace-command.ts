/**
 * The argv that runs a command inside a "node" network namespace and a private mount namespace
 * whose /var/lib/cni/networks is `hostLocalDir`: delegates that use host-local's default store
 * (verbatim manifests do) then never touch the machine's own store. Propagation is slave, so
 * pod namespaces created later (bind mounts under /run/netns) are still visible inside. Used by
 * the demo and by the tests that play the runtime; /var/lib/cni/networks must exist.
 */
export function nodeNamespaceCommand(nodeNs: string, hostLocalDir: string, argv: string[]): string[] {
  return [
    'nsenter',
    `--net=/run/netns/${nodeNs}`,
    '--',
    'unshare',
    '--mount',
    '--propagation',
    'slave',
    'sh',
    '-c',
    'mount --bind "$0" /var/lib/cni/networks && exec "$@"',
    hostLocalDir,
    ...argv,
  ];
}
