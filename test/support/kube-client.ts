// The tests' Kubernetes client: @kubernetes/client-node, the official JavaScript client, behind
// the small interface the tests were written against. Not product code: the product talks to the
// API through its own src/k8s client, and an independent client here checks what that one writes
// (kubeconfig parsing, TLS and auth, paths and serialisation all come from client-node). Objects
// come back as the API's JSON (no typed-model conversion), so tests compare what the server stored.
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import { ApiException, KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
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

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface KubeCredentials {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
}

/** Reads a kubeconfig's current context (client-node's loader) into credentials. */
export async function loadKubeconfig(path: string): Promise<KubeCredentials> {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const opts: HttpsRequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${path}: no current cluster`);
  const creds: KubeCredentials = { server: cluster.server };
  const buf = (v: unknown) => (v === undefined ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
  const ca = buf(opts.ca);
  const cert = buf(opts.cert);
  const key = buf(opts.key);
  if (ca) creds.ca = ca;
  if (cert) creds.cert = cert;
  if (key) creds.key = key;
  const auth = (opts.headers as Record<string, string> | undefined)?.['Authorization'];
  if (auth?.startsWith('Bearer ')) creds.token = auth.slice('Bearer '.length);
  return creds;
}

function kubeConfigOf(c: KubeCredentials): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: c.server,
        skipTLSVerify: false,
        ...(c.ca ? { caData: c.ca.toString('base64') } : {}),
      },
    ],
    users: [
      {
        name: 'u',
        ...(c.cert ? { certData: c.cert.toString('base64') } : {}),
        ...(c.key ? { keyData: c.key.toString('base64') } : {}),
        ...(c.token ? { token: c.token } : {}),
      },
    ],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** An ApiException (client-node) as the KubeApiError the tests match on. */
function toApiError(err: unknown, what: string): unknown {
  if (!(err instanceof ApiException)) return err;
  const ex = err as ApiException<unknown>;
  let body: unknown = ex.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // plain text
    }
  }
  const s = (typeof body === 'object' && body ? body : {}) as { message?: string; reason?: string };
  const message = s.message ?? (typeof body === 'string' && body.trim() ? body.trim() : `HTTP ${ex.code}`);
  return new KubeApiError(ex.code, s.reason ?? '', `${what}: ${ex.code} ${message}`, body);
}

export class KubeClient {
  private readonly kc: KubeConfig;
  private readonly objects: KubernetesObjectApi;

  constructor(readonly credentials: KubeCredentials) {
    this.kc = kubeConfigOf(credentials);
    this.objects = KubernetesObjectApi.makeApiClient(this.kc);
  }

  static async fromKubeconfig(path: string): Promise<KubeClient> {
    return new KubeClient(await loadKubeconfig(path));
  }

  /** The same server and CA with another identity (a bearer token). */
  withToken(token: string): KubeClient {
    return new KubeClient({ server: this.credentials.server, ca: this.credentials.ca, token });
  }

  /** Nothing to release: client-node opens a connection per request. */
  close(): void {}

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef, opts: RequestOptions = {}): Promise<T> {
    if (opts.subresource || opts.query) return this.raw<T>('GET', ref, undefined, opts);
    return this.call(`GET ${ref.kind} ${ref.namespace ?? ''}/${ref.name ?? ''}`, () =>
      this.objects.read(header(ref)),
    );
  }

  async list<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    query?: Record<string, string>,
  ): Promise<KubeList<T>> {
    const { fieldSelector, labelSelector, ...rest } = query ?? {};
    if (Object.keys(rest).length > 0)
      return this.raw<KubeList<T>>('GET', { ...ref, name: undefined }, undefined, { query });
    return this.call(`LIST ${ref.kind} ${ref.namespace ?? ''}`, () =>
      this.objects.list(
        ref.apiVersion,
        ref.kind,
        ref.namespace,
        undefined,
        undefined,
        undefined,
        fieldSelector,
        labelSelector,
      ),
    );
  }

  /** Creates `obj`; with `subresource`, posts it to that subresource of `ref` (e.g. a TokenRequest). */
  async create<T extends KubeObject = KubeObject>(
    obj: KubeObject,
    opts: RequestOptions & { ref?: ObjectRef } = {},
  ): Promise<T> {
    if (opts.subresource || opts.ref || opts.query)
      return this.raw<T>('POST', opts.ref ?? { ...refOf(obj), name: undefined }, obj, opts);
    return this.call(`POST ${obj.kind}`, () => this.objects.create(asObject(obj)));
  }

  /** Server-side dry run of a create: admission and validation run, nothing is stored. */
  async dryRunCreate<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    return this.call(`POST ${obj.kind} (dry run)`, () =>
      this.objects.create(asObject(obj), undefined, 'All'),
    );
  }

  async update<T extends KubeObject = KubeObject>(obj: KubeObject, opts: RequestOptions = {}): Promise<T> {
    if (opts.subresource || opts.query) return this.raw<T>('PUT', refOf(obj), obj, opts);
    return this.call(`PUT ${obj.kind}`, () => this.objects.replace(asObject(obj)));
  }

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    opts: RequestOptions & { type?: PatchType } = {},
  ): Promise<T> {
    const type = opts.type ?? 'merge';
    return this.raw<T>('PATCH', ref, patch, opts, PATCH_CONTENT_TYPES[type]);
  }

  async delete(ref: ObjectRef, query?: Record<string, string>): Promise<KubeObject> {
    if (query) return this.raw('DELETE', ref, undefined, { query });
    return this.call(`DELETE ${ref.kind} ${ref.namespace ?? ''}/${ref.name ?? ''}`, () =>
      this.objects.delete(header(ref)),
    );
  }

  /** Server-side apply of a manifest (creates or updates it; this client owns the fields it sets). */
  async apply<T extends KubeObject = KubeObject>(
    manifest: KubeObject,
    fieldManager = 'multinet-tests',
  ): Promise<T> {
    return this.call(`APPLY ${manifest.kind}`, () =>
      this.objects.patch(
        asObject(manifest),
        undefined,
        undefined,
        fieldManager,
        true,
        PatchStrategy.ServerSideApply,
      ),
    );
  }

  /** The path of an object or collection, e.g. /api/v1/namespaces/default/pods/p1/status. */
  async pathFor(ref: ObjectRef, subresource?: string): Promise<string> {
    // client-node's own discovery (cached per client); `resource` is protected in its typings.
    const discovery = this.objects as unknown as {
      resource(apiVersion: string, kind: string): Promise<{ name: string; namespaced: boolean } | undefined>;
    };
    const resource = await discovery.resource(ref.apiVersion, ref.kind);
    if (!resource) throw new Error(`the API serves no kind ${ref.kind} in ${ref.apiVersion}`);
    let path = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    if (resource.namespaced) {
      if (!ref.namespace) throw new Error(`${ref.kind} is namespaced: give a namespace`);
      path += `/namespaces/${encodeURIComponent(ref.namespace)}`;
    }
    path += `/${resource.name}`;
    if (ref.name) path += `/${encodeURIComponent(ref.name)}`;
    if (subresource) path += `/${subresource}`;
    return path;
  }

  /** One raw API request with client-node's TLS and credentials; JSON in and out. */
  request<T = KubeObject>(
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, string>,
    contentType = 'application/json',
  ): Promise<T> {
    return this.send<T>(method, path, body, query, contentType);
  }

  private async raw<T>(
    method: string,
    ref: ObjectRef,
    body: unknown,
    opts: RequestOptions,
    contentType = 'application/json',
  ): Promise<T> {
    return this.send<T>(method, await this.pathFor(ref, opts.subresource), body, opts.query, contentType);
  }

  private async call<T>(what: string, f: () => Promise<unknown>): Promise<T> {
    try {
      // Typed models would turn timestamps into Dates and drop unknown fields: give the JSON.
      return JSON.parse(JSON.stringify(await f())) as T;
    } catch (err) {
      throw toApiError(err, what);
    }
  }

  private async send<T>(
    method: string,
    path: string,
    body: unknown,
    query: Record<string, string> | undefined,
    contentType: string,
  ): Promise<T> {
    const url = new URL(path, this.credentials.server);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const opts: HttpsRequestOptions = {
      method,
      headers: {
        accept: 'application/json',
        'user-agent': 'multinet-tests',
        ...(payload ? { 'content-type': contentType, 'content-length': String(payload.length) } : {}),
      },
    };
    await this.kc.applyToHTTPSOptions(opts);
    return new Promise<T>((resolvePromise, reject) => {
      const req = httpsRequest(url, opts, (res) => {
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
          if (status >= 200 && status < 300) return resolvePromise(parsed as T);
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

function header(ref: ObjectRef) {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name ?? '', ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  };
}

function asObject(obj: KubeObject) {
  return obj as KubeObject & { apiVersion: string; kind: string; metadata: { name?: string } };
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
