import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, YAMLError } from 'yaml';
import { EXEC_API_VERSIONS, type ExecConfig } from './exec-credential.ts';

/** How to reach and authenticate to the API server, from a kubeconfig or the in-cluster files. */
export interface KubeConnection {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  /** Re-read on change: bound ServiceAccount tokens rotate (a long-standing Multus outage cause). */
  tokenFile?: string;
  insecureSkipTlsVerify: boolean;
  /** The name to check the server's certificate against, when it is not the URL's host. */
  tlsServerName?: string;
  /** A credential plugin that prints bearer tokens (client.authentication.k8s.io/v1). */
  exec?: ExecConfig;
}

/**
 * kubeconfig keys that would change how we authenticate or connect and that this client does not
 * implement: refused by name when the kubeconfig is read, so a user learns at start rather than
 * from a 401 (or a connection to the wrong place) much later.
 */
const UNSUPPORTED_USER_KEYS: Record<string, string> = {
  'auth-provider': 'auth-provider plugins are not supported: give a token, tokenFile or client certificate',
  username: 'basic authentication is not supported by the API server since Kubernetes 1.19',
  password: 'basic authentication is not supported by the API server since Kubernetes 1.19',
  as: 'impersonation is not supported',
  'as-groups': 'impersonation is not supported',
  'as-uid': 'impersonation is not supported',
  'as-user-extra': 'impersonation is not supported',
};
const UNSUPPORTED_CLUSTER_KEYS: Record<string, string> = {
  'proxy-url': 'proxies are not supported: multinet connects to the API server directly',
  'disable-compression': 'disable-compression is not supported',
};

function refuseUnsupported(section: Obj, table: Record<string, string>, where: string, path: string): void {
  for (const [key, why] of Object.entries(table))
    if (section[key] !== undefined && section[key] !== null)
      throw new Error(`kubeconfig ${path}: ${where} key "${key}": ${why}`);
}

type Obj = Record<string, unknown>;

function pick(list: unknown, name: string, what: string): Obj {
  const found = Array.isArray(list) ? (list as Obj[]).find((e) => e?.['name'] === name) : undefined;
  if (!found) throw new Error(`kubeconfig: ${what} "${name}" not found`);
  return found;
}

/**
 * Parses a kubeconfig (current context only). File references are resolved against the
 * kubeconfig's directory and read through `readFile`, so this stays testable without a disk.
 */
export function parseKubeconfig(text: string, path: string, readFile: (p: string) => Buffer): KubeConnection {
  const doc = parseYaml(text, path);
  if (!doc || typeof doc !== 'object') throw new Error(`kubeconfig ${path}: not a YAML mapping`);
  const contextName = doc['current-context'];
  if (typeof contextName !== 'string' || contextName === '')
    throw new Error(`kubeconfig ${path}: no current-context`);
  const context = pick(doc['contexts'], contextName, 'context')['context'] as Obj;
  const cluster = pick(doc['clusters'], String(context['cluster']), 'cluster')['cluster'] as Obj;
  const user = (pick(doc['users'], String(context['user']), 'user')['user'] ?? {}) as Obj;
  refuseUnsupported(user, UNSUPPORTED_USER_KEYS, `user "${String(context['user'])}"`, path);
  refuseUnsupported(cluster, UNSUPPORTED_CLUSTER_KEYS, `cluster "${String(context['cluster'])}"`, path);
  const base = dirname(path);
  const file = (p: unknown) => readFile(isAbsolute(String(p)) ? String(p) : resolve(base, String(p)));
  const data = (d: unknown) => Buffer.from(String(d), 'base64');
  const server = cluster['server'];
  if (typeof server !== 'string' || !server.startsWith('https://'))
    throw new Error(`kubeconfig ${path}: cluster server must be an https:// URL`);
  const conn: KubeConnection = {
    server,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
  if (typeof cluster['tls-server-name'] === 'string' && cluster['tls-server-name'] !== '')
    conn.tlsServerName = cluster['tls-server-name'];
  if (cluster['certificate-authority-data']) conn.ca = data(cluster['certificate-authority-data']);
  else if (cluster['certificate-authority']) conn.ca = file(cluster['certificate-authority']);
  if (user['client-certificate-data']) conn.cert = data(user['client-certificate-data']);
  else if (user['client-certificate']) conn.cert = file(user['client-certificate']);
  if (user['client-key-data']) conn.key = data(user['client-key-data']);
  else if (user['client-key']) conn.key = file(user['client-key']);
  if (typeof user['token'] === 'string') conn.token = user['token'];
  if (user['exec'] !== undefined && user['exec'] !== null)
    conn.exec = parseExec(user['exec'], base, `kubeconfig ${path}: user "${String(context['user'])}" exec`);
  if (typeof user['tokenFile'] === 'string')
    conn.tokenFile = isAbsolute(user['tokenFile']) ? user['tokenFile'] : resolve(base, user['tokenFile']);
  return conn;
}

function parseExec(value: unknown, base: string, where: string): ExecConfig {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: must be a mapping`);
  const e = value as Obj;
  const apiVersion = e['apiVersion'];
  if (typeof apiVersion !== 'string' || !EXEC_API_VERSIONS.includes(apiVersion))
    throw new Error(
      `${where}: apiVersion must be one of ${EXEC_API_VERSIONS.join(', ')}, got ${JSON.stringify(apiVersion)}`,
    );
  const command = e['command'];
  if (typeof command !== 'string' || command === '') throw new Error(`${where}: command must be a string`);
  if (e['interactiveMode'] === 'Always')
    throw new Error(`${where}: interactiveMode Always needs a person at a terminal; multinet has none`);
  // The plugin would expect the cluster's details in KUBERNETES_EXEC_INFO, which we do not send.
  if (e['provideClusterInfo'] === true)
    throw new Error(`${where}: provideClusterInfo is not supported: the plugin must find its cluster itself`);
  const args = e['args'] ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string'))
    throw new Error(`${where}: args must be a list of strings`);
  const env = e['env'] ?? [];
  if (
    !Array.isArray(env) ||
    !env.every(
      (v) => typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.value === 'string',
    )
  )
    throw new Error(`${where}: env must be a list of {name, value} strings`);
  // As kubectl: a command with a path separator is relative to the kubeconfig; else looked up in PATH.
  const resolved = command.includes('/') && !isAbsolute(command) ? resolve(base, command) : command;
  return {
    apiVersion,
    command: resolved,
    args: args as string[],
    env: (env as { name: string; value: string }[]).map(({ name, value }) => ({ name, value })),
  };
}

/**
 * A kubeconfig holds tokens and keys: a parse error must not quote it. The yaml library's
 * "pretty" errors print the offending line (a token line, say) under the message; ours give the
 * line number only.
 */
function parseYaml(text: string, path: string): Obj | null {
  try {
    return parse(text, { maxAliasCount: 10, prettyErrors: false }) as Obj | null;
  } catch (err) {
    const at = err instanceof YAMLError ? err.pos[0] : undefined;
    const line = at === undefined ? '' : ` at line ${text.slice(0, at).split('\n').length}`;
    const what = err instanceof YAMLError ? `${err.code}: ${err.message}` : 'unreadable';
    throw new Error(`kubeconfig ${path}: not valid YAML${line} (${what})`);
  }
}

/** In-cluster access (a pod with a ServiceAccount): env values are passed in by the caller. */
export function inClusterConnection(
  host: string,
  port: string,
  readFile: (p: string) => Buffer,
  dir = '/var/run/secrets/kubernetes.io/serviceaccount',
): KubeConnection {
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${h}:${port}`,
    ca: readFile(`${dir}/ca.crt`),
    tokenFile: `${dir}/token`,
    insecureSkipTlsVerify: false,
  };
}
