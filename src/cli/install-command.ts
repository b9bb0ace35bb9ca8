import { existsSync, readFileSync } from 'node:fs';
import { access, constants, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import { describeCause } from '../engine/engine-error.ts';
import type { InstallFile } from '../host/install-file-set.ts';
import { installFileSet } from '../host/install-file-set.ts';
import { packageRoot } from '../host/package-root.ts';
import { KUBECTL_PLUGIN_NAME } from './kubectl-plugin.ts';
import { multinetOptionsFromText } from './multinet-options.ts';
import { thinConflistFile, thinCredentialFiles } from './thin-install-files.ts';

/** Resolved on use: a bundle may not have import.meta.url until install is actually called. */
const dist = () => join(packageRoot(import.meta.url), 'dist');

export interface InstallOptions {
  type: 'thick' | 'thin';
  binDir: string;
  /** Where the executable comes from; default: the self-contained build if present, else the bundle. */
  source?: string;
  /** thin: where to write multinet.d/ (kubeconfig, token, CA) and the CNI config, and their host paths. */
  cniConfDir?: string;
  hostCniConfDir?: string;
  /** thin on a host: the kubeconfig whose credentials the plugin uses (else the pod's ServiceAccount). */
  kubeconfig?: string;
  /** thin: also write `00-multinet.conflist` with this default network (a CNI config file). */
  clusterNetwork?: string;
  /** thin: install this multinet conflist as is (e.g. with a tenantPolicy), after checking it parses. */
  confFile?: string;
  env: Record<string, string | undefined>;
  log: (s: string) => void;
}

/** The file the runtime will exec, by mode: a shim for thick mode, the whole plugin for thin mode. */
export function defaultSource(type: 'thick' | 'thin'): string {
  const candidates =
    type === 'thick'
      ? [join(dist(), 'multinet-shim-bin'), join(dist(), 'multinet-shim.js')]
      : [join(dist(), 'multinet-bin'), join(dist(), 'multinet-cni.cjs')];
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new Error(`nothing to install: none of ${candidates.join(', ')} exists (run npm run build)`);
  return found;
}

/** `--conf FILE`: the administrator's own thin conflist, refused unless multinet can parse it. */
async function givenConflistFile(o: InstallOptions, file: string): Promise<InstallFile> {
  if (!o.cniConfDir) throw new Error('--cni-conf-dir is required with --conf');
  if (o.clusterNetwork) throw new Error('--conf and --cluster-network both write the CNI config: pass one');
  const text = await readFile(file, 'utf8');
  try {
    parseMultinetConfig(multinetOptionsFromText(text, file));
  } catch (err) {
    throw new Error(`--conf ${file}: ${describeCause(err)}`);
  }
  return { path: join(o.cniConfDir, basename(file)), content: text, mode: 0o644 };
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * What the DaemonSet's init container runs, and what an administrator runs on a host: copy the
 * executable into the CNI bin dir atomically; for thin mode also write the plugin's credentials
 * (multinet.d/) and, with `clusterNetwork`, its CNI config. Every input is read and checked
 * before anything is written, and a failed write restores what was there: an install completes
 * or leaves the node as it was.
 */
export async function runInstall(o: InstallOptions, saDir = SA_DIR): Promise<void> {
  const source = o.source ?? defaultSource(o.type);
  try {
    await access(source, constants.R_OK);
  } catch (err) {
    throw new Error(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const target = join(o.binDir, o.type === 'thick' ? 'multinet-shim' : 'multinet');
  const files: InstallFile[] = [];
  if (o.type === 'thin') files.push(...(await thinCredentialFiles(o, saDir)));
  files.push({ path: target, executableFrom: source });
  // Last: the CNI config makes the runtime use multinet, so everything it needs is in place first.
  if (o.type === 'thin' && o.clusterNetwork) files.push(await thinConflistFile(o, o.clusterNetwork));
  if (o.type === 'thin' && o.confFile) files.push(await givenConflistFile(o, o.confFile));
  await installFileSet(files);
  o.log(`installed ${source} as ${target}`);
  for (const f of files) if (f.path !== target) o.log(`wrote ${f.path}`);
}

/**
 * `--watch` in a pod: rewrites the credentials when the ServiceAccount token rotated. Returns
 * whether it did.
 */
export async function writeThinKubeconfig(o: InstallOptions, saDir = SA_DIR): Promise<boolean> {
  const files = await thinCredentialFiles(o, saDir);
  const tokenFile = files.find((f) => f.path.endsWith('/token'));
  const current = tokenFile && existsSync(tokenFile.path) ? readFileSync(tokenFile.path, 'utf8') : '';
  const fresh = tokenFile && 'content' in tokenFile ? String(tokenFile.content) : '';
  const changed = fresh !== current;
  if (changed || files.some((f) => !existsSync(f.path))) await installFileSet(files);
  return changed;
}

/**
 * `--kubectl-plugin DIR`: the multinet executable (the thin-mode build, which holds the whole
 * command line) as DIR/kubectl-multinet, so `kubectl multinet status|explain|validate` runs it
 * (cli/kubectl-plugin.ts). DIR must be on the caller's PATH.
 */
export async function installKubectlPlugin(
  dir: string,
  source: string | undefined,
  log: (s: string) => void,
) {
  const from = source ?? defaultSource('thin');
  try {
    await access(from, constants.R_OK);
  } catch (err) {
    throw new Error(`cannot read ${from}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const target = join(dir, KUBECTL_PLUGIN_NAME);
  await installFileSet([{ path: target, executableFrom: from }]);
  log(`installed ${from} as ${target}`);
}
