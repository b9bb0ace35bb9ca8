import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { parseNetworkConfig } from '../cni/network-config.ts';
import { describeCause } from '../engine/engine-error.ts';
import type { InstallFile } from '../host/install-file-set.ts';
import type { KubeConnection } from '../k8s/kubeconfig.ts';
import { parseKubeconfig } from '../k8s/kubeconfig.ts';

export const THIN_CONFLIST_NAME = '00-multinet.conflist';

interface ThinPaths {
  cniConfDir?: string;
  hostCniConfDir?: string;
  kubeconfig?: string;
  env: Record<string, string | undefined>;
}

const secret = (path: string, content: string | Buffer): InstallFile => ({
  path,
  content,
  mode: 0o600,
  dirMode: 0o700,
});

/**
 * The thin plugin's credentials in `<cniConfDir>/multinet.d/`: a root-only kubeconfig and the
 * files it points at, at their host paths. From `kubeconfig` when given (a host install), else
 * from the pod's ServiceAccount. Reads and checks everything; writes nothing.
 */
export async function thinCredentialFiles(o: ThinPaths, saDir: string): Promise<InstallFile[]> {
  if (!o.cniConfDir) throw new Error('--cni-conf-dir is required for --type thin');
  const dir = join(o.cniConfDir, 'multinet.d');
  const hostDir = join(o.hostCniConfDir ?? o.cniConfDir, 'multinet.d');
  const conn = o.kubeconfig ? readGivenKubeconfig(o.kubeconfig) : await serviceAccountConnection(o, saDir);
  const files: InstallFile[] = [];
  const user: Record<string, unknown> = {};
  const cluster: Record<string, unknown> = { server: conn.server };
  if (conn.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
  if (conn.ca) {
    files.push(secret(join(dir, 'ca.crt'), conn.ca));
    cluster['certificate-authority'] = join(hostDir, 'ca.crt');
  }
  if (conn.cert && conn.key) {
    files.push(secret(join(dir, 'client.crt'), conn.cert), secret(join(dir, 'client.key'), conn.key));
    user['client-certificate'] = join(hostDir, 'client.crt');
    user['client-key'] = join(hostDir, 'client.key');
  }
  if (conn.tokenFile && o.kubeconfig) {
    // The administrator renews that file (docs/daemon.md): keep pointing at it.
    readable(conn.tokenFile, "the kubeconfig's tokenFile");
    user['tokenFile'] = conn.tokenFile;
  } else if (conn.token !== undefined || conn.tokenFile) {
    const token = conn.token ?? readable(conn.tokenFile!, 'the ServiceAccount token').toString('utf8').trim();
    files.push(secret(join(dir, 'token'), token));
    user['tokenFile'] = join(hostDir, 'token');
  }
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster }],
    users: [{ name: 'multinet', user }],
    contexts: [{ name: 'multinet', context: { cluster: 'local', user: 'multinet' } }],
    'current-context': 'multinet',
  };
  files.push(secret(join(dir, 'multinet.kubeconfig'), `${JSON.stringify(kubeconfig, null, 2)}\n`));
  return files;
}

function readGivenKubeconfig(path: string): KubeConnection {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`--kubeconfig ${path}: cannot read: ${describeCause(err)}`);
  }
  const conn = parseKubeconfig(text, path, (p) => readable(p, `a file the kubeconfig names`));
  if (!conn.token && !conn.tokenFile && !(conn.cert && conn.key))
    throw new Error(`--kubeconfig ${path}: the current user has no token, tokenFile or client certificate`);
  return conn;
}

async function serviceAccountConnection(o: ThinPaths, saDir: string): Promise<KubeConnection> {
  const host = o.env['KUBERNETES_SERVICE_HOST'];
  const port = o.env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port)
    throw new Error(
      'not running in a pod (KUBERNETES_SERVICE_HOST/PORT are not set): on a host, pass --kubeconfig FILE',
    );
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readable(join(saDir, 'ca.crt'), 'the ServiceAccount CA'),
    token: readable(join(saDir, 'token'), 'the ServiceAccount token').toString('utf8').trim(),
    insecureSkipTlsVerify: false,
  };
}

function readable(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${what} (${path}): ${describeCause(err)}`);
  }
}

/**
 * `00-multinet.conflist` for thin mode: one `multinet` plugin whose default network is the given
 * CNI config file, speaking its cniVersion and advertising the capabilities its plugins enable,
 * so the runtime keeps sending their runtimeConfig (port mappings...). It must sort before that
 * file: the runtime uses the first config of its directory.
 */
export async function thinConflistFile(o: ThinPaths, clusterNetwork: string): Promise<InstallFile> {
  const confDir = o.cniConfDir!;
  const hostConfDir = o.hostCniConfDir ?? confDir;
  if (!isAbsolute(clusterNetwork))
    throw new Error(`--cluster-network ${clusterNetwork}: must be an absolute path to a CNI config file`);
  const local = clusterNetwork.startsWith(`${hostConfDir}/`)
    ? join(confDir, clusterNetwork.slice(hostConfDir.length + 1))
    : clusterNetwork;
  let primary;
  try {
    primary = parseNetworkConfig(await readFile(local, 'utf8'));
  } catch (err) {
    throw new Error(`--cluster-network ${clusterNetwork}: ${describeCause(err)}`);
  }
  if (dirname(clusterNetwork) === hostConfDir && basename(clusterNetwork) <= THIN_CONFLIST_NAME)
    throw new Error(
      `--cluster-network ${clusterNetwork}: sorts before ${THIN_CONFLIST_NAME}, so the runtime would keep using it; rename it (e.g. 10-${basename(clusterNetwork)})`,
    );
  const capabilities: Record<string, boolean> = {};
  for (const plugin of primary.plugins)
    for (const [cap, on] of Object.entries(plugin.capabilities)) if (on) capabilities[cap] = true;
  const conflist = {
    cniVersion: primary.cniVersion || '1.0.0',
    name: 'multinet',
    plugins: [
      {
        type: 'multinet',
        kubeconfig: join(hostConfDir, 'multinet.d', 'multinet.kubeconfig'),
        clusterNetwork,
        ...(Object.keys(capabilities).length > 0 ? { capabilities } : {}),
      },
    ],
  };
  return {
    path: join(confDir, THIN_CONFLIST_NAME),
    content: `${JSON.stringify(conflist, null, 2)}\n`,
    mode: 0o644,
  };
}
