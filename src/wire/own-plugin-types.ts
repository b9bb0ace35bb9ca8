/**
 * multinet's own CNI plugin types: the names `multinet install` gives its executables (thin:
 * `multinet`, thick: `multinet-shim`). They are never delegates: a nested multinet would take its
 * options (binDirs, clusterNetworkConfig) from whatever config its caller hands it, and so from a
 * tenant's NetworkAttachmentDefinition. Imported by the shim bundle: keep it free of imports.
 */
export const OWN_PLUGIN_TYPES: readonly string[] = ['multinet', 'multinet-shim'];

/**
 * Set in the environment of every delegate multinet runs (and inherited by what the delegate runs
 * in turn, e.g. its IPAM plugin). A multinet entry point that sees it was called by multinet
 * itself and refuses to act: the runtime never sets it, and no tenant can set a plugin's
 * environment.
 */
export const NESTED_CALL_ENV = 'MULTINET_DELEGATE_CALL';

/** The types refused as delegates: the installed names plus the type multinet was itself called as. */
export function refusedDelegateTypes(selfType?: string): Set<string> {
  const out = new Set(OWN_PLUGIN_TYPES);
  if (selfType) out.add(selfType);
  return out;
}

/** The CNI error text for a nested call (thin plugin and shim alike). */
export function nestedCallMessage(env: Record<string, string | undefined>): string {
  const args = env['CNI_ARGS'] ?? '';
  const get = (k: string) => new RegExp(`(?:^|;)${k}=([^;]*)`).exec(args)?.[1];
  const ns = get('K8S_POD_NAMESPACE');
  const name = get('K8S_POD_NAME');
  const pod = ns && name ? `pod ${ns}/${name}` : `container ${env['CNI_CONTAINERID'] ?? '?'}`;
  return `${pod}: multinet was called as a delegate of multinet (${NESTED_CALL_ENV} is set): multinet's own plugin types are never delegates; a network must not name "multinet" or "multinet-shim" as its type or ipam.type`;
}
