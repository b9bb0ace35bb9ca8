/**
 * A CRI RuntimeService client for the containerd e2e test: @grpc/grpc-js with the runtime.v1
 * api.proto that the Go module k8s.io/cri-api ships (taken from the Go module cache, downloaded
 * through the Go module proxy the first time). Field names stay snake_case as in the proto.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The CRI API of the Kubernetes release our kube-apiserver is built from. */
const CRI_API_MODULE = 'k8s.io/cri-api@v0.37.2';
const GO_PATH = `${process.env['PATH'] ?? ''}:/usr/local/go/bin`;

export function criProtoPath(): string {
  const out = execFileSync('go', ['mod', 'download', '-json', CRI_API_MODULE], {
    encoding: 'utf8',
    cwd: '/',
    env: { ...process.env, PATH: GO_PATH, GOFLAGS: '-mod=mod' },
  });
  return join((JSON.parse(out) as { Dir: string }).Dir, 'pkg/apis/runtime/v1/api.proto');
}

type Reply = Record<string, unknown>;
type Unary = (
  req: object,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (e: Error | null, r: Reply) => void,
) => void;
type RuntimeServiceClient = grpc.Client & Record<string, Unary>;

export interface SandboxMetadata {
  name: string;
  namespace: string;
  uid: string;
}

export interface PodSandboxStatus {
  id: string;
  state: number;
  network?: { ip?: string; additional_ips?: { ip: string }[] };
  /** From `verbose`: the pause process and the sandbox's network namespace path. */
  pid?: number;
  netnsPath?: string;
}

export class CriClient {
  private readonly client: RuntimeServiceClient;

  constructor(socket: string, protoPath = criProtoPath()) {
    const def = protoLoader.loadSync(protoPath, {
      keepCase: true,
      longs: String,
      enums: Number,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      runtime: {
        v1: { RuntimeService: new (addr: string, c: grpc.ChannelCredentials) => RuntimeServiceClient };
      };
    };
    this.client = new pkg.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
  }

  call(method: string, req: object, timeoutMs = 30_000): Promise<Reply> {
    const fn = this.client[method];
    if (!fn) throw new Error(`no CRI method ${method}`);
    return new Promise((resolve, reject) =>
      fn.call(this.client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(new Error(`CRI ${method}: ${err.message}`, { cause: err })) : resolve(res),
      ),
    );
  }

  /** Whether the runtime reports its network ready, and the CNI config it loaded (verbose Status). */
  async networkStatus(): Promise<{ ready: boolean; message: string; cniConfig: string }> {
    const res = (await this.call('Status', { verbose: true })) as {
      status?: { conditions?: { type: string; status: boolean; message: string }[] };
      info?: Record<string, string>;
    };
    const cond = res.status?.conditions?.find((c) => c.type === 'NetworkReady');
    return {
      ready: cond?.status === true,
      message: cond?.message ?? '',
      cniConfig: res.info?.['cniconfig'] ?? '',
    };
  }

  async runPodSandbox(
    meta: SandboxMetadata,
    annotations: Record<string, string>,
    logDir: string,
  ): Promise<string> {
    const config = {
      metadata: { ...meta, attempt: 0 },
      hostname: meta.name,
      log_directory: logDir,
      annotations,
      labels: {},
      linux: { security_context: { namespace_options: { network: 0, pid: 0, ipc: 0 } } },
    };
    const res = await this.call('RunPodSandbox', { config });
    return res['pod_sandbox_id'] as string;
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    const res = (await this.call('PodSandboxStatus', { pod_sandbox_id: id, verbose: true })) as {
      status: PodSandboxStatus;
      info?: Record<string, string>;
    };
    const info = JSON.parse(res.info?.['info'] ?? '{}') as {
      pid?: number;
      runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
    };
    const netnsPath = info.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
    return { ...res.status, ...(info.pid ? { pid: info.pid } : {}), ...(netnsPath ? { netnsPath } : {}) };
  }

  async listPodSandboxIds(): Promise<string[]> {
    const res = (await this.call('ListPodSandbox', {})) as { items?: { id: string }[] };
    return (res.items ?? []).map((s) => s.id);
  }

  async stopAndRemove(id: string): Promise<void> {
    await this.call('StopPodSandbox', { pod_sandbox_id: id });
    await this.call('RemovePodSandbox', { pod_sandbox_id: id });
  }

  close(): void {
    this.client.close();
  }
}
