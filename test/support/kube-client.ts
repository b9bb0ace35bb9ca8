// A tiny Kubernetes REST client for tests and test tooling: node:https with the credentials of a
// kubeconfig (CA + client certificate, or bearer token). Not product code: the product talks to
// the API through src/k8s. Kept dependency-free (besides `yaml`) so that the harness can check
// the API exactly as a person would with curl.
import { Agent, request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> extends KubeObject {
  items: T[];
}

/** Names one object (or, without `name`, a collection) the way a manifest does. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name?: string;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export interface RequestOptions {
  /** A subresource such as `status` or `token`. */
  subresource?: string;
  /** Query parameters, e.g. labelSelector, fieldManager, dryRun. */
  query?: Record<string, string>;
}

/** An API error: the HTTP status and the API's own Status message and reason. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface KubeCredentials {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
}

interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

// apiVersion's group + kind -> resource. Unknown kinds are looked up once through discovery.
const KNOWN_KINDS: Record<string, ResourceInfo> = {
  '/Namespace': { plural: 'namespaces', namespaced: false },
  '/Pod': { plural: 'pods', namespaced: true },
  '/Event': { plural: 'events', namespaced: true },
  '/ServiceAccount': { plural: 'serviceaccounts', namespaced: true },
  '/ConfigMap': { plural: 'configmaps', namespaced: true },
  '/Secret': { plural: 'secrets', namespaced: true },
  'events.k8s.io/Event': { plural: 'events', namespaced: true },
  'apps/DaemonSet': { plural: 'daemonsets', namespaced: true },
  'rbac.authorization.k8s.io/ClusterRole': { plural: 'clusterroles', namespaced: false },
  'rbac.authorization.k8s.io/ClusterRoleBinding': { plural: 'clusterrolebindings', namespaced: false },
  'rbac.authorization.k8s.io/Role': { plural: 'roles', namespaced: true },
  'rbac.authorization.k8s.io/RoleBinding': { plural: 'rolebindings', namespaced: true },
  'apiextensions.k8s.io/CustomResourceDefinition': { plural: 'customresourcedefinitions', namespaced: false },
  'k8s.cni.cncf.io/NetworkAttachmentDefinition': {
    plural: 'network-attachment-definitions',
    namespaced: true,
  },
  'kubernetes.cni.cncf.io/Network': { plural: 'networks', namespaced: true },
  'authorization.k8s.io/SubjectAccessReview': { plural: 'subjectaccessreviews', namespaced: false },
  'authorization.k8s.io/SelfSubjectAccessReview': { plural: 'selfsubjectaccessreviews', namespaced: false },
};

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

/** Reads a kubeconfig's current context into credentials; relative file paths resolve beside it. */
export async function loadKubeconfig(path: string): Promise<KubeCredentials> {
  const doc = parseYaml(await readFile(path, 'utf8')) as Record<string, unknown>;
  const named = (list: unknown, name: unknown, field: string): Record<string, unknown> => {
    const entry = (list as { name: string; [k: string]: unknown }[] | undefined)?.find(
      (e) => e.name === name,
    );
    if (!entry) throw new Error(`${path}: no ${field} named ${String(name)}`);
    return entry[field] as Record<string, unknown>;
  };
  const context = named(doc['contexts'], doc['current-context'], 'context');
  const cluster = named(doc['clusters'], context['cluster'], 'cluster');
  const user = named(doc['users'], context['user'], 'user');
  const base = dirname(path);
  const material = async (file: unknown, data: unknown): Promise<Buffer | undefined> => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof file === 'string') return readFile(resolve(base, file));
    return undefined;
  };
  const creds: KubeCredentials = { server: String(cluster['server']) };
  const ca = await material(cluster['certificate-authority'], cluster['certificate-authority-data']);
  const cert = await material(user['client-certificate'], user['client-certificate-data']);
  const key = await material(user['client-key'], user['client-key-data']);
  if (ca) creds.ca = ca;
  if (cert) creds.cert = cert;
  if (key) creds.key = key;
  if (typeof user['token'] === 'string') creds.token = user['token'];
  if (typeof user['tokenFile'] === 'string')
    creds.token = (await readFile(resolve(base, user['tokenFile']), 'utf8')).trim();
  return creds;
}

export class KubeClient {
  private readonly agent: Agent;
  private readonly discovered = new Map<string, ResourceInfo>();

  constructor(readonly credentials: KubeCredentials) {
    this.agent = new Agent({
      keepAlive: true,
      ca: credentials.ca,
      cert: credentials.cert,
      key: credentials.key,
    });
  }

  static async fromKubeconfig(path: string): Promise<KubeClient> {
    return new KubeClient(await loadKubeconfig(path));
  }

  /** The same server and CA with another identity (a bearer token). */
  withToken(token: string): KubeClient {
    return new KubeClient({ server: this.credentials.server, ca: this.credentials.ca, token });
  }

  /** Closes idle keep-alive sockets so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', await this.pathFor(ref, opts.subresource), undefined, opts.query);
  }

  async list<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    query?: Record<string, string>,
  ): Promise<KubeList<T>> {
    return this.request<KubeList<T>>(
      'GET',
      await this.pathFor({ ...ref, name: undefined }),
      undefined,
      query,
    );
  }

  /** Creates `obj`; with `subresource`, posts it to that subresource of `ref` (e.g. a TokenRequest). */
  async create<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    opts: RequestOptions & { ref?: ObjectRef } = {},
  ): Promise<T> {
    const ref = opts.ref ?? { ...refOf(obj), name: undefined };
    return this.request<T>('POST', await this.pathFor(ref, opts.subresource), obj, opts.query);
  }

  /** Server-side dry run of a create: admission and validation run, nothing is stored. */
  async dryRunCreate<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    return this.create<T>(obj, { query: { dryRun: 'All' } });
  }

  async update<T extends KubeObject = KubeObject>(obj: KubeObject, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('PUT', await this.pathFor(refOf(obj), opts.subresource), obj, opts.query);
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    opts: RequestOptions & { type?: PatchType } = {},
  ): Promise<T> {
    const type = opts.type ?? 'merge';
    return this.request<T>(
      'PATCH',
      await this.pathFor(ref, opts.subresource),
      patch,
      opts.query,
      PATCH_CONTENT_TYPES[type],
    );
  }

  async delete(ref: ObjectRef, query?: Record<string, string>): Promise<KubeObject> {
    return this.request('DELETE', await this.pathFor(ref), undefined, query);
  }

  /** Server-side apply of a manifest (creates or updates it; this client owns the fields it sets). */
  async apply<T extends KubeObject = KubeObject>(
    manifest: KubeObject,
    fieldManager = 'multinet-tests',
  ): Promise<T> {
    return this.patch<T>(refOf(manifest), manifest, {
      type: 'apply',
      query: { fieldManager, force: 'true' },
    });
  }

  /** The path of an object or collection, e.g. /api/v1/namespaces/default/pods/p1/status. */
  async pathFor(ref: ObjectRef, subresource?: string): Promise<string> {
    const info = await this.resourceInfo(ref.apiVersion, ref.kind);
    const group = groupOf(ref.apiVersion);
    let path = group ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    if (info.namespaced) {
      if (!ref.namespace) throw new Error(`${ref.kind} is namespaced: give a namespace`);
      path += `/namespaces/${encodeURIComponent(ref.namespace)}`;
    }
    path += `/${info.plural}`;
    if (ref.name) path += `/${encodeURIComponent(ref.name)}`;
    if (subresource) path += `/${subresource}`;
    return path;
  }

  private async resourceInfo(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const key = `${groupOf(apiVersion)}/${kind}`;
    const known = KNOWN_KINDS[key] ?? this.discovered.get(key);
    if (known) return known;
    const path = groupOf(apiVersion) ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const discovery = await this.request<{
      resources: { name: string; kind: string; namespaced: boolean }[];
    }>('GET', path);
    const found = discovery.resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!found) throw new Error(`the API serves no kind ${kind} in ${apiVersion}`);
    const info = { plural: found.name, namespaced: found.namespaced };
    this.discovered.set(key, info);
    return info;
  }

  /** One raw API request; JSON in and out. Throws KubeApiError on a non-2xx answer. */
  request<T = KubeObject>(
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, string>,
    contentType = 'application/json',
  ): Promise<T> {
    const url = new URL(path, this.credentials.server);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'multinet-tests' };
    if (payload) {
      headers['content-type'] = contentType;
      headers['content-length'] = String(payload.length);
    }
    if (this.credentials.token) headers['authorization'] = `Bearer ${this.credentials.token}`;
    return new Promise<T>((resolvePromise, reject) => {
      const req = httpsRequest(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON (e.g. /readyz answers plain text): keep the text
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolvePromise(parsed as T);
            return;
          }
          const s = (typeof parsed === 'object' && parsed ? parsed : {}) as {
            message?: string;
            reason?: string;
          };
          const message = s.message ?? (text.trim() || `HTTP ${status}`);
          reject(
            new KubeApiError(
              status,
              s.reason ?? '',
              `${method} ${url.pathname}: ${status} ${message}`,
              parsed,
            ),
          );
        });
      });
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url.pathname}: no answer in 30 s`)));
      req.end(payload);
    });
  }
}

/** The ObjectRef of a manifest. */
export function refOf(obj: KubeObject): ObjectRef {
  if (!obj.apiVersion || !obj.kind) throw new Error('manifest without apiVersion/kind');
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name,
  };
}

/** True when `err` is an API error with this HTTP status. */
export function isStatus(err: unknown, status: number): boolean {
  return err instanceof KubeApiError && err.status === status;
}
