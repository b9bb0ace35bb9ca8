import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../host/atomic-file.ts';
import { installExecutable } from '../host/install-file.ts';
import { packageRoot } from '../host/package-root.ts';

/** Resolved on use: a bundle may not have import.meta.url until install is actually called. */
const dist = () => join(packageRoot(import.meta.url), 'dist');

export interface InstallOptions {
  type: 'thick' | 'thin';
  binDir: string;
  /** Where the executable comes from; default: the self-contained build if present, else the bundle. */
  source?: string;
  /** thin: where to write the kubeconfig and (optionally) the CNI config, and their host paths. */
  cniConfDir?: string;
  hostCniConfDir?: string;
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

/**
 * What the DaemonSet's init container runs: copy the executable into the host's CNI bin dir
 * atomically; for thin mode also write a kubeconfig for the ServiceAccount that points at a token
 * file (kept fresh by `--watch`), so the plugin never uses an expired token.
 */
export async function runInstall(o: InstallOptions): Promise<void> {
  const source = o.source ?? defaultSource(o.type);
  const target = join(o.binDir, o.type === 'thick' ? 'multinet-shim' : 'multinet');
  await mkdir(o.binDir, { recursive: true });
  await installExecutable(source, target);
  o.log(`installed ${source} as ${target}`);
  if (o.type === 'thin') await writeThinKubeconfig(o);
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export async function writeThinKubeconfig(o: InstallOptions, saDir = SA_DIR): Promise<boolean> {
  if (!o.cniConfDir) throw new Error('--cni-conf-dir is required for --type thin');
  const host = o.env['KUBERNETES_SERVICE_HOST'];
  const port = o.env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new Error('not running in a pod: KUBERNETES_SERVICE_HOST/PORT are not set');
  const dir = join(o.cniConfDir, 'multinet.d');
  const hostDir = join(o.hostCniConfDir ?? o.cniConfDir, 'multinet.d');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const token = (await readFile(join(saDir, 'token'), 'utf8')).trim();
  const current = existsSync(join(dir, 'token')) ? readFileSync(join(dir, 'token'), 'utf8').trim() : '';
  if (token !== current) await writeFileAtomic(join(dir, 'token'), token, 0o600);
  await writeFileAtomic(join(dir, 'ca.crt'), await readFile(join(saDir, 'ca.crt')), 0o600);
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: local',
    '    cluster:',
    `      server: ${server}`,
    `      certificate-authority: ${join(hostDir, 'ca.crt')}`,
    'users:',
    '  - name: multinet',
    '    user:',
    `      tokenFile: ${join(hostDir, 'token')}`,
    'contexts:',
    '  - name: multinet',
    '    context: { cluster: local, user: multinet }',
    'current-context: multinet',
    '',
  ].join('\n');
  await writeFileAtomic(join(dir, 'multinet.kubeconfig'), kubeconfig, 0o600);
  return token !== current;
}
