import { existsSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';

/** The name kubectl looks for on PATH for `kubectl multinet ...` (kubectl's plugin mechanism). */
export const KUBECTL_PLUGIN_NAME = 'kubectl-multinet';

/** What `kubectl multinet` may run: the read-only commands (never the daemon, install or the CNI plugin). */
const PLUGIN_COMMANDS = ['status', 'explain', 'validate'];

export const KUBECTL_PLUGIN_USAGE = `usage: kubectl multinet status|explain|validate [options]   ("kubectl multinet COMMAND --help")
`;

/** True when this process was started as the kubectl plugin (a script or a compiled binary). */
export function invokedAsKubectlPlugin(argv1: string | undefined, execPath: string): boolean {
  return [argv1 ?? '', execPath].some((p) => basename(p) === KUBECTL_PLUGIN_NAME);
}

/**
 * The multinet argv for `kubectl multinet ARGS`: only the read-only commands, and `status` and
 * `explain` (for NAMESPACE/POD; a Pod file is read offline) talk to the caller's cluster as
 * kubectl would: --kubeconfig if given, else the first existing file of $KUBECONFIG (a list, as
 * kubectl reads it), or ~/.kube/config when KUBECONFIG is unset. An error string otherwise.
 */
export function kubectlPluginArgv(
  args: readonly string[],
  env: Record<string, string | undefined>,
): { argv: string[] } | { error: string } {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') return { error: KUBECTL_PLUGIN_USAGE };
  if (!PLUGIN_COMMANDS.includes(sub))
    return { error: `kubectl multinet: unknown command "${sub}"\n${KUBECTL_PLUGIN_USAGE}` };
  const given = (flag: string) => rest.some((a) => a === flag || a.startsWith(`${flag}=`));
  if ((sub !== 'status' && sub !== 'explain') || given('--kubeconfig') || given('--local'))
    return { argv: [sub, ...rest] };
  // As kubectl: a set KUBECONFIG replaces the default file, it does not add to it.
  const list = (env['KUBECONFIG'] ?? '').split(delimiter).filter((p) => p !== '');
  const candidates = list.length > 0 ? list : env['HOME'] ? [join(env['HOME'], '.kube', 'config')] : [];
  const found = candidates.find((p) => existsSync(p));
  return { argv: [sub, ...rest, ...(found ? ['--kubeconfig', found] : [])] };
}
